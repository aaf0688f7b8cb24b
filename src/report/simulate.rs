//! The `simulate` report: the distribution of cost per strategy over Monte Carlo paths.

use super::doc::{Block, Chart, Doc, Table};
use crate::analysis::montecarlo::{Measure, MeasureStats, Summary};
use crate::input::scenario::Scenario;
use crate::model::amounts::Money;
use crate::model::calendar::display;
use rust_decimal::Decimal;
use serde_json::{json, Value};

fn money_cell(m: Money, digits: u32) -> String {
    m.to_decimal_minor(digits).to_string()
}

fn dec2(d: Decimal) -> String {
    d.round_dp(2).to_string()
}

fn percent(d: Decimal) -> String {
    format!("{}%", (d * Decimal::ONE_HUNDRED).round_dp(1))
}

fn measure_table(scenario: &Scenario, summary: &Summary, m: Measure) -> Table {
    let book = &scenario.case.book;
    let d = book.minor_digits;
    let baseline = &summary.strategies[summary.baseline].name;
    let mut header = vec![format!("{} ({})", m.name(), book.currency)];
    header.extend(summary.strategies.iter().map(|s| s.name.clone()));
    let row = |label: &str, f: &dyn Fn(&MeasureStats) -> String| {
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
    ];
    Table {
        title: format!(
            "{} over {} paths (seed {})",
            m.name(),
            summary.paths,
            summary.seed
        ),
        header,
        rows,
        key_columns: 1,
    }
}

/// Break-even months in cash and in economic cost side by side: an upfront purchase can pay
/// off in one measure long before the other (or never in cash within the horizon).
fn break_even_table(summary: &Summary) -> Table {
    let baseline = &summary.strategies[summary.baseline].name;
    let mut header = vec![format!("break-even month vs {baseline}")];
    header.extend(summary.strategies.iter().map(|s| s.name.clone()));
    let rows = [Measure::Economic, Measure::Cash]
        .map(|m| {
            let mut r = vec![m.name().to_string()];
            r.extend(summary.strategies.iter().enumerate().map(|(i, s)| {
                match s.measure(m).break_even_month {
                    _ if i == summary.baseline => "baseline".to_string(),
                    Some(k) => k.to_string(),
                    None => "never".to_string(),
                }
            }));
            r
        })
        .to_vec();
    Table {
        title: format!(
            "Break-even month: from which month on the mean cumulative cost stays below {baseline}'s to the horizon's end"
        ),
        header,
        rows,
        key_columns: 1,
    }
}

fn usage_table(summary: &Summary) -> Table {
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
    Table {
        title: "Service".to_string(),
        header,
        rows,
        key_columns: 1,
    }
}

/// The `simulate` report: cost and cash distributions per strategy, service, notes, and the
/// charts when given (HTML shows them inline).
pub fn simulate_doc(scenario: &Scenario, summary: &Summary, charts: Vec<Chart>) -> Doc {
    let book = &scenario.case.book;
    let mut doc = Doc::new(format!("Scenario: {}", scenario.name));
    doc.subtitle = Some(format!("Monte Carlo of {}", scenario.path.display()));
    if let Some(d) = &scenario.description {
        doc.push(Block::Paragraph(d.trim().to_string()));
    }
    doc.push(Block::Paragraph(format!(
        "Monte Carlo over [{}, {}): {} paths, seed {}, mean demand {} credits per path; every strategy replays the same paths.",
        display(scenario.case.horizon.start),
        display(scenario.case.horizon.end),
        summary.paths,
        summary.seed,
        summary.demanded_mean.round_dp(2),
    )));
    doc.push(Block::Paragraph(
        "Standard errors (s.e.) are Monte Carlo error: a difference of less than about two of them is not resolved.".to_string(),
    ));
    if !summary.tie_within.is_zero() {
        doc.push(Block::Paragraph(format!(
            "Costs within {} {} of each other count as a tie in P(cheapest) and P(saves vs baseline).",
            money_cell(summary.tie_within, book.minor_digits),
            book.currency
        )));
    }
    for m in [Measure::Economic, Measure::Cash] {
        doc.push(Block::Table(measure_table(scenario, summary, m)));
    }
    doc.push(Block::Table(break_even_table(summary)));
    doc.push(Block::Table(usage_table(summary)));
    for st in summary
        .strategies
        .iter()
        .filter(|s| s.p_blocked > Decimal::ZERO)
    {
        doc.push(Block::Note(format!(
            "\"{}\" refused usage on {} of paths (mean {} credits). Refused usage costs \
             nothing, so its cost and savings leave that work out; on those paths it is not \
             counted as the cheapest.",
            st.name,
            percent(st.p_blocked),
            st.blocked_mean
        )));
    }
    if summary.clamped_days > 0 {
        doc.push(Block::Note(format!(
            "{} metric-days were clamped to {} credits; the model's scale is suspect",
            summary.clamped_days,
            crate::usage::synthetic::DAILY_CREDITS_MAX
        )));
    }
    for chart in charts {
        doc.push(Block::Chart(chart));
    }
    doc.data = simulate_json(scenario, summary);
    doc.tidy = Some(simulate_tidy(&doc.data));
    doc
}

/// One row per strategy and statistic, with the values JSON carries (exact decimals).
fn simulate_tidy(json: &Value) -> Table {
    let mut rows = Vec::new();
    let text = |v: &Value| match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    for s in json["strategies"].as_array().expect("strategies") {
        let name = text(&s["name"]);
        for measure in ["economic_cost", "cash"] {
            let m = &s[measure];
            for key in [
                "mean",
                "stderr",
                "p5",
                "p50",
                "p90",
                "p95",
                "p99",
                "cvar95",
                "p_cheapest",
            ] {
                rows.push(vec![
                    name.clone(),
                    measure.into(),
                    key.into(),
                    text(&m[key]),
                ]);
            }
            for key in ["mean", "stderr", "p5", "p95", "p_positive"] {
                let statistic = format!("savings_{key}");
                rows.push(vec![
                    name.clone(),
                    measure.into(),
                    statistic,
                    text(&m["savings"][key]),
                ]);
            }
            let month = text(&m["break_even_month"]);
            rows.push(vec![
                name.clone(),
                measure.into(),
                "break_even_month".into(),
                month,
            ]);
        }
        for key in ["prepaid_utilisation", "blocked_mean", "p_blocked"] {
            rows.push(vec![
                name.clone(),
                "service".into(),
                key.into(),
                text(&s[key]),
            ]);
        }
    }
    Table {
        title: "Statistics per strategy".to_string(),
        header: ["strategy", "measure", "statistic", "value"]
            .map(String::from)
            .to_vec(),
        rows,
        key_columns: 3,
    }
}

pub fn simulate_json(scenario: &Scenario, summary: &Summary) -> Value {
    use Measure;
    let book = &scenario.case.book;
    let d = book.minor_digits;
    let m = |v: Money| Value::from(money_cell(v, d));
    let strategies: Vec<Value> = summary
        .strategies
        .iter()
        .map(|s| {
            let measure = |x: &MeasureStats| {
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
