//! A portfolio's outputs: the table of one row per workspace and strategy (Parquet or CSV,
//! columns documented in notebooks-data/README.md) and the summary printed on stdout.

use super::doc::{Block, Doc, Table};
use crate::analysis::portfolio::{Summary, WorkspaceResult};
use crate::engine::ledger::Totals;
use crate::input::scenario::Portfolio;
use crate::usage::trace::ImportReport;
use polars::prelude::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};

/// Millionths as a decimal with the ledger's six places.
fn micros(v: i128) -> Decimal {
    Decimal::from_i128_with_scale(v, crate::model::amounts::SCALE_DIGITS)
}

/// One amount column: its name and the millionths it holds (of currency or of credits).
type AmountColumn = (&'static str, fn(&Totals) -> i64);

/// The table's amount columns, in order.
const AMOUNTS: [AmountColumn; 17] = [
    ("cash", |t| t.cash().micros()),
    ("economic_cost", |t| t.economic_cost().micros()),
    ("plan_fees", |t| t.money.plan_fees.micros()),
    ("prepaid_purchases", |t| t.money.prepaid.micros()),
    ("flex_charges", |t| t.money.flex.micros()),
    ("unused_prepaid_value", |t| t.unused_prepaid_value.micros()),
    ("unexpired_fee_value", |t| t.unexpired_fee_value.micros()),
    ("credits_demanded", |t| t.credits.demanded.micros()),
    ("credits_included", |t| t.credits.included.micros()),
    ("credits_prepaid", |t| t.credits.prepaid.micros()),
    ("credits_flex", |t| t.credits.flex.micros()),
    ("credits_blocked", |t| t.credits.blocked.micros()),
    ("included_granted", |t| t.credits.granted_included.micros()),
    ("included_expired", |t| t.credits.expired_included.micros()),
    ("prepaid_purchased", |t| {
        t.credits.purchased_prepaid.micros()
    }),
    ("prepaid_expired", |t| t.credits.expired_prepaid.micros()),
    ("prepaid_unused", |t| t.unused_prepaid.micros()),
];

/// The portfolio table: one row per workspace and strategy, in workspace then strategy order.
pub fn frame(portfolio: &Portfolio, results: &[WorkspaceResult]) -> DataFrame {
    let book = &portfolio.scenario.case.book;
    let (mut workspace, mut cohort, mut seats) = (Vec::new(), Vec::new(), Vec::new());
    let (mut start_plan, mut final_plan, mut strategy) = (Vec::new(), Vec::new(), Vec::new());
    let (mut is_cheapest, mut cheapest, mut events) = (Vec::new(), Vec::new(), Vec::new());
    let mut amounts: [Vec<i64>; AMOUNTS.len()] = Default::default();
    for (m, r) in portfolio.members.iter().zip(results) {
        for (s, t) in r.totals.iter().enumerate() {
            let st = &m.strategies[s];
            workspace.push(m.id.as_str());
            cohort.push(book.cohorts[m.workspace.cohort.0].id.as_str());
            seats.push(m.workspace.seats);
            start_plan.push(
                book.plans[st.start_plan.unwrap_or(m.workspace.plan).0]
                    .id
                    .as_str(),
            );
            final_plan.push(book.plans[t.final_plan.0].id.as_str());
            strategy.push(st.name.as_str());
            is_cheapest.push(s == r.cheapest);
            cheapest.push(m.strategies[r.cheapest].name.as_str());
            events.push(m.usage.len() as u32);
            for (column, (_, micros)) in amounts.iter_mut().zip(AMOUNTS) {
                column.push(micros(t));
            }
        }
    }
    let mut columns = vec![
        Column::new("workspace".into(), workspace),
        Column::new("cohort".into(), cohort),
        Column::new("seats".into(), seats),
        Column::new("start_plan".into(), start_plan),
        Column::new("final_plan".into(), final_plan),
        Column::new("strategy".into(), strategy),
        Column::new("is_cheapest".into(), is_cheapest),
        Column::new("cheapest_strategy".into(), cheapest),
        Column::new("usage_events".into(), events),
    ];
    for ((name, _), values) in AMOUNTS.iter().zip(amounts) {
        columns.push(super::tables::decimal_column(name, values));
    }
    DataFrame::new_infer_height(columns).expect("columns of equal length")
}

pub fn to_csv(mut frame: DataFrame) -> Vec<u8> {
    let mut bytes = Vec::new();
    CsvWriter::new(&mut bytes)
        .finish(&mut frame)
        .expect("writing CSV to memory cannot fail");
    bytes
}

/// Money totals are whole minor units (every invoice line is rounded): shown with them.
fn amount(portfolio: &Portfolio, v: i128) -> String {
    micros(v)
        .round_dp(portfolio.scenario.case.book.minor_digits)
        .to_string()
}

fn money(portfolio: &Portfolio, v: i128) -> String {
    format!(
        "{} {}",
        amount(portfolio, v),
        portfolio.scenario.case.book.currency
    )
}

/// The portfolio summary: the import, then per strategy the portfolio's totals and how many
/// workspaces it is cheapest for.
pub fn summary_doc(portfolio: &Portfolio, summary: &Summary) -> Doc {
    let s = &portfolio.scenario;
    let mut doc = Doc::new(format!("Portfolio {}", s.name));
    doc.subtitle = Some(format!(
        "{} workspaces, {} strategies, horizon {} to {}",
        portfolio.members.len(),
        s.case.strategies.len(),
        crate::model::calendar::display(s.case.horizon.start),
        crate::model::calendar::display(s.case.horizon.end)
    ));
    doc.push(Block::Paragraph(import_line(&portfolio.import)));
    let currency = &s.case.book.currency;
    let table = Table {
        title: "Totals over every workspace".into(),
        header: vec![
            "strategy".to_string(),
            format!("cash ({currency})"),
            format!("economic_cost ({currency})"),
            "cheapest_in".to_string(),
            "blocks_usage_in".to_string(),
            "credits_blocked".to_string(),
        ],
        rows: s
            .case
            .strategies
            .iter()
            .zip(&summary.strategies)
            .map(|(st, t)| {
                vec![
                    st.name.clone(),
                    amount(portfolio, t.cash_micros),
                    amount(portfolio, t.economic_micros),
                    t.cheapest_in.to_string(),
                    t.blocking_in.to_string(),
                    micros(t.blocked_micros).normalize().to_string(),
                ]
            })
            .collect(),
        key_columns: 1,
    };
    doc.push(Block::Table(table));
    let first = &summary.strategies[0];
    let comparison = if first.blocking_in == 0 {
        format!(
            "{} less economic cost than every workspace on {}",
            money(
                portfolio,
                first.economic_micros - summary.best_economic_micros
            ),
            s.case.strategies[0].name
        )
    } else {
        format!(
            "not compared with {}, which refuses usage in {} workspace(s)",
            s.case.strategies[0].name, first.blocking_in
        )
    };
    doc.push(Block::Paragraph(format!(
        "Each workspace on its cheapest strategy (among those refusing the least usage): economic cost {}, cash {} ({comparison})",
        money(portfolio, summary.best_economic_micros),
        money(portfolio, summary.best_cash_micros),
    )));
    doc.data = summary_json(portfolio, summary);
    doc.tidy = Some(summary_tidy(&doc.data));
    doc
}

/// One row per strategy: the totals as JSON has them (amounts without the currency).
fn summary_tidy(json: &Value) -> Table {
    let columns = [
        "name",
        "cash",
        "economic_cost",
        "credits_demanded",
        "credits_blocked",
        "cheapest_in",
        "blocks_usage_in",
    ];
    let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
    let rows = json["strategies"]
        .as_array()
        .expect("strategies")
        .iter()
        .map(|s| columns.iter().map(|c| text(&s[*c])).collect())
        .collect();
    let mut header: Vec<String> = columns.map(String::from).to_vec();
    header[0] = "strategy".to_string();
    Table {
        title: "Totals over every workspace".to_string(),
        header,
        rows,
        key_columns: 1,
    }
}

pub(super) fn import_line(r: &ImportReport) -> String {
    format!(
        "Usage: {} ({} rows used of {}, {} skipped; {} events at {} resolution)",
        r.path.display(),
        r.rows_used(),
        r.rows,
        r.skipped,
        r.events,
        r.resolution.name()
    )
}

pub fn summary_json(portfolio: &Portfolio, summary: &Summary) -> Value {
    let s = &portfolio.scenario;
    let r = &portfolio.import;
    json!({
        "scenario": s.name,
        "currency": s.case.book.currency,
        "workspaces": portfolio.members.len(),
        "trace": {
            "file": r.path.display().to_string(),
            "rows": r.rows,
            "rows_skipped": r.skipped,
            "rows_out_of_order": r.out_of_order,
            "events": r.events,
            "resolution": r.resolution.name(),
        },
        "strategies": s.case.strategies.iter().zip(&summary.strategies).map(|(st, t)| json!({
            "name": st.name,
            "cash": amount(portfolio, t.cash_micros),
            "economic_cost": amount(portfolio, t.economic_micros),
            "credits_demanded": micros(t.demanded_micros).normalize().to_string(),
            "credits_blocked": micros(t.blocked_micros).normalize().to_string(),
            "cheapest_in": t.cheapest_in,
            "blocks_usage_in": t.blocking_in,
        })).collect::<Vec<_>>(),
        "each_on_cheapest": {
            "economic_cost": amount(portfolio, summary.best_economic_micros),
            "cash": amount(portfolio, summary.best_cash_micros),
        },
    })
}
