//! The replay report: one scenario's usage under each strategy.
//!
//! Values come from [`crate::analysis::metrics::actual`], so every report names a number exactly
//! as an `[[expect]]` block does.

use super::doc::{Block, Doc, Table};
use crate::analysis::metrics::{actual, Actual, Field};
use crate::analysis::ranking::{rank, Contender};
use crate::engine::ledger::{Line, LineKind, Outcome, Purchase, Statement};
use crate::input::scenario::Scenario;
use crate::model::calendar::display;
use serde_json::{json, Map, Value};

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

fn totals_table(scenario: &Scenario, runs: &[(usize, &Outcome)]) -> Table {
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
    Table {
        title: format!(
            "Totals over [{}, {}), cohort \"{}\"; ranking by economic cost (cash minus unused prepaid at cost and the unexpired share of the running plan fee)",
            display(scenario.case.horizon.start),
            display(scenario.case.horizon.end),
            scenario.case.cohort().id
        ),
        header,
        rows,
        key_columns: 1,
    }
}

fn statements_table(scenario: &Scenario, name: &str, outcome: &Outcome) -> Table {
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
    Table {
        title: format!("Statements: {name}"),
        header,
        rows,
        key_columns: 2,
    }
}

fn period(s: &Statement) -> String {
    format!("{} .. {}", display(s.period.start), display(s.period.end))
}

/// The ranking in words (see `analysis::ranking`): the strategies refusing the least usage,
/// cheapest first (ties keep file order, joined by "="); the others set apart with what they
/// refused, never called cheaper.
fn ranking(scenario: &Scenario, runs: &[(usize, &Outcome)]) -> Vec<String> {
    let book = &scenario.case.book;
    let contenders: Vec<Contender> = runs
        .iter()
        .map(|(_, o)| Contender {
            refused: o.totals.credits.blocked,
            cost: o.totals.economic_cost(),
        })
        .collect();
    let ranking = rank(&contenders);
    let name = |k: usize| &scenario.case.strategies[runs[k].0].name;
    let cost = |k: usize| {
        format!(
            "{} {}",
            contenders[k].cost.to_decimal_minor(book.minor_digits),
            book.currency
        )
    };
    let mut line = if ranking.least_refused.is_zero() {
        String::from("Cheapest by economic cost (serving all usage): ")
    } else {
        format!(
            "Every strategy refuses usage; cheapest by economic cost among those refusing the least ({} credits): ",
            ranking.least_refused
        )
    };
    for (n, &k) in ranking.ranked.iter().enumerate() {
        if n > 0 {
            let tie = contenders[ranking.ranked[n - 1]].cost == contenders[k].cost;
            line.push_str(if tie { " = " } else { " < " });
        }
        line.push_str(&format!("{} {}", name(k), cost(k)));
    }
    let mut out = vec![line];
    for &k in &ranking.apart {
        let totals = &runs[k].1.totals;
        out.push(format!(
            "Not ranked: {} ({}) blocks {} credits of usage, first at {}",
            name(k),
            cost(k),
            totals.credits.blocked,
            totals.first_blocked_at.map(display).unwrap_or_default()
        ));
    }
    out
}

/// The replay report: totals side by side, the ranking, and each strategy's statements;
/// JSON and CSV carry every field of every statement.
pub fn replay_doc(scenario: &Scenario, outcomes: &[Outcome], only: Option<usize>) -> Doc {
    let runs = selected(outcomes, only);
    let mut doc = Doc::new(format!("Scenario: {}", scenario.name));
    doc.subtitle = Some(format!("Replay of {}", scenario.path.display()));
    if let Some(d) = &scenario.description {
        doc.push(Block::Paragraph(d.trim().to_string()));
    }
    doc.push(Block::Table(totals_table(scenario, &runs)));
    for line in ranking(scenario, &runs) {
        doc.push(Block::Paragraph(line));
    }
    for (i, o) in &runs {
        let name = &scenario.case.strategies[*i].name;
        doc.push(Block::Table(statements_table(scenario, name, o)));
    }
    doc.data = replay_json(scenario, &runs);
    doc.tidy = Some(replay_tidy(scenario, &runs));
    doc
}

/// One row per strategy and statement, then one totals row per strategy (statement "total").
fn replay_tidy(scenario: &Scenario, runs: &[(usize, &Outcome)]) -> Table {
    let book = &scenario.case.book;
    let mut header = vec!["strategy".to_string(), "statement".to_string()];
    header.extend(Field::ALL.iter().map(|f| f.name().to_string()));
    let mut rows = Vec::new();
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
            rows.push(row);
        };
        for s in &o.statements {
            row(s.number.to_string(), Some(s));
        }
        row("total".to_string(), None);
    }
    Table {
        title: "Statements and totals".to_string(),
        header,
        rows,
        key_columns: 2,
    }
}

/// A line's kind, item and quantity as a reader names them. Prepaid lines say how many of
/// the item were bought (a top-up buys the count it needs at once); a fee is one cycle, and
/// a flex line is priced per credit (no quantity).
fn line_parts(scenario: &Scenario, line: &Line) -> (&'static str, String, Option<u64>) {
    let book = &scenario.case.book;
    match line.kind {
        LineKind::PlanFee { plan } => ("plan_fee", book.plans[plan.0].id.clone(), Some(1)),
        LineKind::Prepaid {
            purchase: Purchase::Bundle(b),
            quantity,
        } => (
            "prepaid",
            scenario.case.cohort().bundles[b].id.clone(),
            Some(quantity),
        ),
        LineKind::Prepaid {
            purchase: Purchase::OpenAmount(_),
            quantity,
        } => ("prepaid", "open amount".to_string(), Some(quantity)),
        LineKind::Flex { price } => ("flex", format!("at {} per credit", price), None),
    }
}

fn line_json(scenario: &Scenario, line: &Line) -> Value {
    let book = &scenario.case.book;
    let (kind, what, quantity) = line_parts(scenario, line);
    // A line sums every purchase of its item in the statement: `charges` of them, from `at`
    // to `last_at`.
    json!({
        "at": display(line.at),
        "last_at": display(line.last_at),
        "charges": line.charges,
        "kind": kind,
        "item": what,
        "quantity": quantity,
        "credits": line.credits.to_decimal().to_string(),
        "money": line.money.to_decimal_minor(book.minor_digits).to_string(),
    })
}

/// The header of `replay --charges`: one row per charge, as the ledger made it.
pub const CHARGES_CSV_HEADER: &str = "strategy,at,kind,item,quantity,credits,money\n";

/// One charge as a row of `replay --charges` (the strategy name quoted as CSV needs).
pub fn charge_csv_row(scenario: &Scenario, strategy: &str, line: &Line) -> String {
    let (kind, item, quantity) = line_parts(scenario, line);
    let quote = |t: &str| format!("\"{}\"", t.replace('"', "\"\""));
    format!(
        "{},{},{kind},{},{},{},{}\n",
        quote(strategy),
        display(line.at),
        quote(&item),
        quantity.map_or(String::new(), |q| q.to_string()),
        line.credits.to_decimal(),
        line.money.to_decimal_minor(scenario.case.book.minor_digits)
    )
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
            Actual::Count(n) => Value::from(n),
            Actual::Instant(None) | Actual::Ratio(None) => Value::Null,
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
