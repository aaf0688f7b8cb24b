//! Renders replay results and check results for people and machines: terminal tables,
//! Markdown, CSV, JSON (money and credits as decimal strings) and JUnit XML.
//!
//! Values come from [`crate::input::check::actual`], so every report names a number exactly as an
//! `[[expect]]` block does.

pub mod charts;
pub mod doc;
pub mod html;
pub mod portfolio_out;
pub mod tables;
pub mod trace_file;
pub mod trace_generate;

use crate::engine::ledger::{LineKind, Outcome, Purchase, Statement};
use crate::input::check::{actual, ScenarioCheck};
use crate::input::expect::Field;
use crate::input::scenario::Scenario;
use crate::model::calendar::display;
use comfy_table::{presets, Cell, CellAlignment, ContentArrangement, Table};
use serde_json::{json, Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
    Markdown,
}

/// Rows and columns of text, rendered in any of the text formats.
struct Grid {
    title: String,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Grid {
    fn to_table(&self, markdown: bool) -> String {
        let mut t = Table::new();
        t.load_style(if markdown {
            presets::ASCII_MARKDOWN
        } else {
            presets::UTF8_FULL_CONDENSED
        });
        t.set_content_arrangement(ContentArrangement::Disabled);
        // In a terminal, "money.flex" becomes "money." over "flex": the same name, half as wide.
        let header = self.header.iter().map(|h| {
            if markdown {
                Cell::new(h)
            } else {
                Cell::new(h.replacen('.', ".\n", 1))
            }
        });
        t.set_header(header);
        for row in &self.rows {
            t.add_row(row.iter().enumerate().map(|(i, c)| {
                let cell = Cell::new(c);
                if i > 0 && looks_numeric(c) {
                    cell.set_alignment(CellAlignment::Right)
                } else {
                    cell
                }
            }));
        }
        if markdown {
            format!("### {}\n\n{t}\n", self.title)
        } else {
            format!("{}\n{t}\n", self.title)
        }
    }
}

fn looks_numeric(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
}

/// Fields shown in the per-statement tables, in order.
const STATEMENT_COLUMNS: &[Field] = &[
    Field::Plan,
    Field::MoneyPlanFees,
    Field::MoneyPrepaid,
    Field::MoneyFlex,
    Field::Cash,
    Field::CreditsDemanded,
    Field::CreditsIncluded,
    Field::CreditsPrepaid,
    Field::CreditsFlex,
    Field::CreditsBlocked,
    Field::CreditsExpiredIncluded,
    Field::CreditsExpiredPrepaid,
    Field::Alerts,
];

fn totals_fields() -> impl Iterator<Item = Field> {
    Field::ALL.iter().copied().filter(|f| f.allowed_in(false))
}

fn selected(outcomes: &[Outcome], only: Option<usize>) -> Vec<(usize, &Outcome)> {
    outcomes
        .iter()
        .enumerate()
        .filter(|(i, _)| only.is_none_or(|o| o == *i))
        .collect()
}

fn totals_grid(scenario: &Scenario, runs: &[(usize, &Outcome)]) -> Grid {
    let book = &scenario.case.book;
    let mut header = vec![format!("field ({})", book.currency)];
    header.extend(
        runs.iter()
            .map(|(i, _)| scenario.case.strategies[*i].name.clone()),
    );
    let rows = totals_fields()
        .map(|f| {
            let mut row = vec![f.name().to_string()];
            row.extend(
                runs.iter()
                    .map(|(_, o)| actual(f, book, o, None).render(book)),
            );
            row
        })
        .collect();
    Grid {
        title: format!(
            "Totals over [{}, {}), cohort \"{}\"; ranking by economic cost (cash minus unused prepaid at cost)",
            display(scenario.case.horizon.start),
            display(scenario.case.horizon.end),
            scenario.case.cohort().id
        ),
        header,
        rows,
    }
}

fn statements_grid(scenario: &Scenario, name: &str, outcome: &Outcome) -> Grid {
    let book = &scenario.case.book;
    let mut header = vec!["#".to_string(), "period".to_string()];
    header.extend(STATEMENT_COLUMNS.iter().map(|f| f.name().to_string()));
    let rows = outcome
        .statements
        .iter()
        .map(|s| {
            let mut row = vec![s.number.to_string(), period(s)];
            row.extend(
                STATEMENT_COLUMNS
                    .iter()
                    .map(|f| actual(*f, book, outcome, Some(s)).render(book)),
            );
            row
        })
        .collect();
    Grid {
        title: format!("Statements: {name}"),
        header,
        rows,
    }
}

fn period(s: &Statement) -> String {
    format!("{} .. {}", display(s.period.start), display(s.period.end))
}

/// Cheapest first by economic cost; ties keep file order. A strategy that blocks usage buys
/// less service, so it is listed apart rather than ranked as cheaper.
fn ranking(scenario: &Scenario, runs: &[(usize, &Outcome)]) -> String {
    let mut order: Vec<_> = runs.to_vec();
    order.sort_by_key(|(i, o)| (o.totals.economic_cost(), *i));
    let book = &scenario.case.book;
    let cost = |o: &Outcome| {
        format!(
            "{} {}",
            o.totals.economic_cost().to_decimal_minor(book.minor_digits),
            book.currency
        )
    };
    let (serving, blocking): (Vec<_>, Vec<_>) = order
        .iter()
        .partition(|(_, o)| o.totals.credits.blocked.is_zero());
    let mut out = String::new();
    if !serving.is_empty() {
        let mut line = String::from("Cheapest by economic cost (serving all usage): ");
        for (k, (i, o)) in serving.iter().enumerate() {
            if k > 0 {
                let tie = serving[k - 1].1.totals.economic_cost() == o.totals.economic_cost();
                line.push_str(if tie { " = " } else { " < " });
            }
            line.push_str(&format!(
                "{} {}",
                scenario.case.strategies[*i].name,
                cost(o)
            ));
        }
        out.push_str(&line);
        out.push('\n');
    }
    for (i, o) in blocking {
        out.push_str(&format!(
            "Not ranked: {} ({}) blocks {} credits of usage, first at {}\n",
            scenario.case.strategies[i].name,
            cost(o),
            o.totals.credits.blocked,
            o.totals.first_blocked_at.map(display).unwrap_or_default()
        ));
    }
    out
}

/// The replay report in a text format.
pub fn replay_text(
    scenario: &Scenario,
    outcomes: &[Outcome],
    only: Option<usize>,
    format: Format,
) -> String {
    let runs = selected(outcomes, only);
    match format {
        Format::Table | Format::Markdown => {
            let md = format == Format::Markdown;
            let mut out = String::new();
            if md {
                out.push_str(&format!("## {}\n\n", scenario.name));
            } else {
                out.push_str(&format!(
                    "Scenario: {} ({})\n",
                    scenario.name,
                    scenario.path.display()
                ));
            }
            if let Some(d) = &scenario.description {
                out.push_str(&format!("{}\n", d.trim()));
            }
            out.push('\n');
            out.push_str(&totals_grid(scenario, &runs).to_table(md));
            out.push('\n');
            out.push_str(&ranking(scenario, &runs));
            for (i, o) in &runs {
                out.push('\n');
                out.push_str(
                    &statements_grid(scenario, &scenario.case.strategies[*i].name, o).to_table(md),
                );
            }
            out
        }
        Format::Csv => replay_csv(scenario, &runs),
        Format::Json => {
            serde_json::to_string_pretty(&replay_json(scenario, &runs))
                .expect("JSON values serialise")
                + "\n"
        }
    }
}

/// One row per strategy and statement, then one totals row per strategy (statement "total").
fn replay_csv(scenario: &Scenario, runs: &[(usize, &Outcome)]) -> String {
    let book = &scenario.case.book;
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["strategy".to_string(), "statement".to_string()];
    header.extend(Field::ALL.iter().map(|f| f.name().to_string()));
    w.write_record(&header).expect("in-memory CSV");
    for (i, o) in runs {
        let name = &scenario.case.strategies[*i].name;
        // A field that does not apply to the row (a totals field on a statement row, or the
        // reverse) is left empty.
        let mut row = |label: String, statement: Option<&Statement>| {
            let mut row = vec![name.clone(), label];
            row.extend(Field::ALL.iter().map(|f| {
                if f.allowed_in(statement.is_some()) {
                    actual(*f, book, o, statement).render(book)
                } else {
                    String::new()
                }
            }));
            w.write_record(&row).expect("in-memory CSV");
        };
        for s in &o.statements {
            row(s.number.to_string(), Some(s));
        }
        row("total".to_string(), None);
    }
    String::from_utf8(w.into_inner().expect("in-memory CSV")).expect("CSV is UTF-8")
}

fn line_json(scenario: &Scenario, line: &crate::engine::ledger::Line) -> Value {
    let book = &scenario.case.book;
    let (kind, what) = match line.kind {
        LineKind::PlanFee { plan } => ("plan_fee", book.plans[plan.0].id.clone()),
        LineKind::Prepaid {
            purchase: Purchase::Bundle(b),
        } => ("prepaid", scenario.case.cohort().bundles[b].id.clone()),
        LineKind::Prepaid {
            purchase: Purchase::OpenAmount(_),
        } => ("prepaid", "open amount".to_string()),
        LineKind::Flex { price } => ("flex", format!("at {} per credit", price)),
    };
    json!({
        "at": display(line.at),
        "kind": kind,
        "item": what,
        "credits": line.credits.to_decimal().to_string(),
        "money": line.money.to_decimal_minor(book.minor_digits).to_string(),
    })
}

fn fields_json(
    scenario: &Scenario,
    outcome: &Outcome,
    statement: Option<&Statement>,
) -> Map<String, Value> {
    let book = &scenario.case.book;
    let mut map = Map::new();
    for f in Field::ALL
        .iter()
        .copied()
        .filter(|f| f.allowed_in(statement.is_some()))
    {
        let value = match actual(f, book, outcome, statement) {
            crate::input::check::Actual::Count(n) => Value::from(n),
            crate::input::check::Actual::Instant(None)
            | crate::input::check::Actual::Ratio(None) => Value::Null,
            other => Value::from(other.render(book)),
        };
        map.insert(f.name().to_string(), value);
    }
    map
}

fn replay_json(scenario: &Scenario, runs: &[(usize, &Outcome)]) -> Value {
    let book = &scenario.case.book;
    let strategies: Vec<Value> = runs
        .iter()
        .map(|(i, o)| {
            let statements: Vec<Value> = o
                .statements
                .iter()
                .map(|s| {
                    let mut m = fields_json(scenario, o, Some(s));
                    m.insert("number".into(), Value::from(s.number));
                    m.insert(
                        "lines".into(),
                        Value::from(
                            s.lines
                                .iter()
                                .map(|l| line_json(scenario, l))
                                .collect::<Vec<_>>(),
                        ),
                    );
                    Value::Object(m)
                })
                .collect();
            json!({
                "name": scenario.case.strategies[*i].name,
                "totals": Value::Object(fields_json(scenario, o, None)),
                "statements": statements,
            })
        })
        .collect();
    json!({
        "scenario": scenario.name,
        "file": scenario.path.display().to_string(),
        "pricing_book": book.name,
        "currency": book.currency,
        "cohort": scenario.case.cohort().id,
        "horizon": { "start": display(scenario.case.horizon.start), "end": display(scenario.case.horizon.end) },
        "ranking_basis": "economic_cost",
        "strategies": strategies,
    })
}

/// `path:line: strategy "s", statement 2, field money.flex: expected 12.00, got 13.00`
pub fn mismatch_lines(check: &ScenarioCheck) -> Vec<String> {
    let mut out = Vec::new();
    for b in &check.blocks {
        for m in &b.mismatches {
            let statement = m
                .statement
                .map(|n| format!(", statement {n}"))
                .unwrap_or_default();
            out.push(format!(
                "{}:{}: strategy \"{}\"{statement}, field {}: expected {}, got {}",
                check.path.display(),
                m.line,
                m.strategy,
                m.field,
                m.expected,
                m.got
            ));
        }
    }
    out
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' && c != '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML (a suite per scenario file, a case per `[[expect]]` block), hand-written: the format is a few elements, and a dependency for it would pull
/// in more than it saves.
pub fn junit(checks: &[ScenarioCheck]) -> String {
    let mut body = String::new();
    let (mut tests, mut failures) = (0usize, 0usize);
    for c in checks {
        let failed = c.blocks.iter().filter(|b| !b.mismatches.is_empty()).count();
        tests += c.blocks.len();
        failures += failed;
        body.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" errors=\"0\">\n",
            xml_escape(&c.path.display().to_string()),
            c.blocks.len()
        ));
        for b in &c.blocks {
            let statement = b
                .statement
                .map(|n| format!(" statement {n}"))
                .unwrap_or_default();
            let name = format!("{} line {}{statement}", b.strategy, b.line);
            body.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\">",
                xml_escape(&c.name),
                xml_escape(&name)
            ));
            if !b.mismatches.is_empty() {
                let detail: Vec<String> = b
                    .mismatches
                    .iter()
                    .map(|m| format!("{}: expected {}, got {}", m.field, m.expected, m.got))
                    .collect();
                body.push_str(&format!(
                    "\n      <failure message=\"{} mismatch(es)\">{}</failure>\n    ",
                    b.mismatches.len(),
                    xml_escape(&detail.join("\n"))
                ));
            }
            body.push_str("</testcase>\n");
        }
        body.push_str("  </testsuite>\n");
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"creditsim check\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\">\n{body}</testsuites>\n"
    )
}

// ---------------------------------------------------------------- Monte Carlo summary

fn money_cell(m: crate::model::amounts::Money, digits: u32) -> String {
    m.to_decimal_minor(digits).to_string()
}

fn dec2(d: rust_decimal::Decimal) -> String {
    d.round_dp(2).to_string()
}

fn percent(d: rust_decimal::Decimal) -> String {
    format!("{}%", (d * rust_decimal::Decimal::ONE_HUNDRED).round_dp(1))
}

fn measure_grid(
    scenario: &Scenario,
    summary: &crate::analysis::montecarlo::Summary,
    m: crate::analysis::montecarlo::Measure,
) -> Grid {
    let book = &scenario.case.book;
    let d = book.minor_digits;
    let baseline = &summary.strategies[summary.baseline].name;
    let mut header = vec![format!("{} ({})", m.name(), book.currency)];
    header.extend(summary.strategies.iter().map(|s| s.name.clone()));
    let row = |label: &str, f: &dyn Fn(&crate::analysis::montecarlo::MeasureStats) -> String| {
        let mut r = vec![label.to_string()];
        r.extend(summary.strategies.iter().map(|s| f(s.measure(m))));
        r
    };
    let rows = vec![
        row("mean +/- s.e.", &|x| {
            format!("{} +/- {}", dec2(x.cost.mean), dec2(x.cost.stderr))
        }),
        row("P5", &|x| money_cell(x.cost.p5, d)),
        row("P50", &|x| money_cell(x.cost.p50, d)),
        row("P90", &|x| money_cell(x.cost.p90, d)),
        row("P95", &|x| money_cell(x.cost.p95, d)),
        row("P99", &|x| money_cell(x.cost.p99, d)),
        row("CVaR95 (mean of worst 5%)", &|x| dec2(x.cost.cvar95)),
        row("P(cheapest)", &|x| percent(x.p_cheapest)),
        row(&format!("savings vs {baseline}: mean +/- s.e."), &|x| {
            format!("{} +/- {}", dec2(x.savings.mean), dec2(x.savings.stderr))
        }),
        row("savings P5 .. P95", &|x| {
            format!(
                "{} .. {}",
                money_cell(x.savings.p5, d),
                money_cell(x.savings.p95, d)
            )
        }),
        row("P(saves vs baseline)", &|x| percent(x.savings.p_positive)),
        row("break-even month", &|x| {
            x.break_even_month
                .map_or("never".to_string(), |k| k.to_string())
        }),
    ];
    Grid {
        title: format!(
            "{} over {} paths (seed {})",
            m.name(),
            summary.paths,
            summary.seed
        ),
        header,
        rows,
    }
}

fn usage_grid(summary: &crate::analysis::montecarlo::Summary) -> Grid {
    let mut header = vec!["usage".to_string()];
    header.extend(summary.strategies.iter().map(|s| s.name.clone()));
    let mut rows = Vec::new();
    let mut r = vec!["prepaid utilisation".to_string()];
    r.extend(
        summary
            .strategies
            .iter()
            .map(|s| s.prepaid_utilisation.map_or("-".into(), percent)),
    );
    rows.push(r);
    let mut r = vec!["blocked credits (mean)".to_string()];
    r.extend(
        summary
            .strategies
            .iter()
            .map(|s| s.blocked_mean.to_string()),
    );
    rows.push(r);
    let mut r = vec!["P(any blocked)".to_string()];
    r.extend(summary.strategies.iter().map(|s| percent(s.p_blocked)));
    rows.push(r);
    Grid {
        title: "Service".to_string(),
        header,
        rows,
    }
}

/// The `simulate` report in a text format.
pub fn simulate_text(
    scenario: &Scenario,
    summary: &crate::analysis::montecarlo::Summary,
    format: Format,
) -> String {
    use crate::analysis::montecarlo::Measure;
    match format {
        Format::Json => {
            serde_json::to_string_pretty(&simulate_json(scenario, summary))
                .expect("JSON values serialise")
                + "\n"
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            for (k, m) in [Measure::Economic, Measure::Cash].into_iter().enumerate() {
                let g = measure_grid(scenario, summary, m);
                if k == 0 {
                    w.write_record(&g.header).expect("in-memory CSV");
                }
                for r in &g.rows {
                    let mut r = r.clone();
                    r[0] = format!("{}: {}", m.name(), r[0]);
                    w.write_record(&r).expect("in-memory CSV");
                }
            }
            String::from_utf8(w.into_inner().expect("in-memory CSV")).expect("CSV is UTF-8")
        }
        Format::Table | Format::Markdown => {
            let md = format == Format::Markdown;
            let mut out = String::new();
            out.push_str(&if md {
                format!("## {}\n\n", scenario.name)
            } else {
                format!(
                    "Scenario: {} ({})\n",
                    scenario.name,
                    scenario.path.display()
                )
            });
            if let Some(d) = &scenario.description {
                out.push_str(&format!("{}\n", d.trim()));
            }
            out.push_str(&format!(
                "Monte Carlo over [{}, {}): {} paths, seed {}, mean demand {} credits per path; every strategy replays the same paths.\n\
                 Standard errors (s.e.) are Monte Carlo error: a difference of less than about two of them is not resolved.\n",
                display(scenario.case.horizon.start),
                display(scenario.case.horizon.end),
                summary.paths,
                summary.seed,
                summary.demanded_mean.round_dp(2),
            ));
            if !summary.tie_within.is_zero() {
                out.push_str(&format!(
                    "Costs within {} {} of each other count as a tie in P(cheapest) and P(saves vs baseline).\n",
                    money_cell(summary.tie_within, scenario.case.book.minor_digits),
                    scenario.case.book.currency
                ));
            }
            out.push('\n');
            for m in [Measure::Economic, Measure::Cash] {
                out.push_str(&measure_grid(scenario, summary, m).to_table(md));
                out.push('\n');
            }
            out.push_str(&usage_grid(summary).to_table(md));
            for st in summary
                .strategies
                .iter()
                .filter(|s| s.p_blocked > rust_decimal::Decimal::ZERO)
            {
                out.push_str(&format!(
                    "\nnote: \"{}\" refused usage on {} of paths (mean {} credits). Refused usage costs \
                     nothing, so its cost and savings leave that work out; on those paths it is not \
                     counted as the cheapest.\n",
                    st.name,
                    percent(st.p_blocked),
                    st.blocked_mean
                ));
            }
            if summary.clamped_days > 0 {
                out.push_str(&format!(
                    "\nwarning: {} metric-days were clamped to {} credits; the model's scale is suspect\n",
                    summary.clamped_days,
                    crate::usage::synthetic::DAILY_CREDITS_MAX
                ));
            }
            out
        }
    }
}

pub fn simulate_json(scenario: &Scenario, summary: &crate::analysis::montecarlo::Summary) -> Value {
    use crate::analysis::montecarlo::Measure;
    let book = &scenario.case.book;
    let d = book.minor_digits;
    let m = |v: crate::model::amounts::Money| Value::from(money_cell(v, d));
    let strategies: Vec<Value> = summary
        .strategies
        .iter()
        .map(|s| {
            let measure = |x: &crate::analysis::montecarlo::MeasureStats| {
                json!({
                    "mean": x.cost.mean.to_string(),
                    "stderr": x.cost.stderr.to_string(),
                    "p5": m(x.cost.p5), "p50": m(x.cost.p50), "p90": m(x.cost.p90),
                    "p95": m(x.cost.p95), "p99": m(x.cost.p99),
                    "cvar95": x.cost.cvar95.to_string(),
                    "p_cheapest": x.p_cheapest.to_string(),
                    "savings": {
                        "mean": x.savings.mean.to_string(),
                        "stderr": x.savings.stderr.to_string(),
                        "p5": m(x.savings.p5), "p95": m(x.savings.p95),
                        "p_positive": x.savings.p_positive.to_string(),
                    },
                    "break_even_month": x.break_even_month,
                    "fan": x.fan.iter().enumerate().map(|(k, f)| json!({
                        "month": k + 1, "p10": m(f[0]), "p50": m(f[1]), "p90": m(f[2]),
                    })).collect::<Vec<_>>(),
                })
            };
            json!({
                "name": s.name,
                "economic_cost": measure(s.measure(Measure::Economic)),
                "cash": measure(s.measure(Measure::Cash)),
                "prepaid_utilisation": s.prepaid_utilisation.map(|u| u.to_string()),
                "blocked_mean": s.blocked_mean.to_string(),
                "p_blocked": s.p_blocked.to_string(),
            })
        })
        .collect();
    json!({
        "scenario": scenario.name,
        "file": scenario.path.display().to_string(),
        "currency": book.currency,
        "horizon": { "start": display(scenario.case.horizon.start), "end": display(scenario.case.horizon.end) },
        "paths": summary.paths,
        "seed": summary.seed,
        "baseline": summary.strategies[summary.baseline].name,
        "tie_within": m(summary.tie_within),
        "demanded_mean": summary.demanded_mean.to_string(),
        "clamped_days": summary.clamped_days,
        "strategies": strategies,
    })
}
