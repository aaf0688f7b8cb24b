//! A portfolio's outputs: the table of one row per workspace and strategy (Parquet or CSV,
//! columns documented in notebooks-data/README.md) and the summary printed on stdout.

use super::Grid;
use crate::portfolio::{Summary, WorkspaceResult};
use crate::scenario::Portfolio;
use crate::trace::ImportReport;
use polars::prelude::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};

/// Millionths as a decimal with the ledger's six places.
fn micros(v: i128) -> Decimal {
    Decimal::from_i128_with_scale(v, crate::amounts::SCALE_DIGITS)
}

/// The portfolio table: one row per workspace and strategy, in workspace then strategy order.
pub fn frame(portfolio: &Portfolio, results: &[WorkspaceResult]) -> DataFrame {
    let book = &portfolio.scenario.book;
    let strategies = &portfolio.scenario.strategies;
    let rows = results.len() * strategies.len();
    let mut text: [Vec<&str>; 6] = Default::default();
    let mut seats = Vec::with_capacity(rows);
    let mut is_cheapest = Vec::with_capacity(rows);
    let mut events = Vec::with_capacity(rows);
    // Money, then credits, in the order of the column names below.
    let mut amounts: [Vec<i64>; 16] = Default::default();
    for (m, r) in portfolio.members.iter().zip(results) {
        for (s, t) in r.totals.iter().enumerate() {
            let strategy = &m.strategies[s];
            text[0].push(&m.id);
            text[1].push(&book.cohorts[m.workspace.cohort.0].id);
            text[2].push(&book.plans[strategy.start_plan.unwrap_or(m.workspace.plan).0].id);
            text[3].push(&book.plans[t.final_plan.0].id);
            text[4].push(&strategy.name);
            text[5].push(&m.strategies[r.cheapest].name);
            seats.push(m.workspace.seats);
            is_cheapest.push(s == r.cheapest);
            events.push(m.usage.len() as u32);
            let c = &t.credits;
            let values = [
                t.cash(),
                t.economic_cost(),
                t.money.plan_fees,
                t.money.prepaid,
                t.money.flex,
                t.unused_prepaid_value,
            ]
            .map(|v| v.micros())
            .into_iter()
            .chain(
                [
                    c.demanded,
                    c.included,
                    c.prepaid,
                    c.flex,
                    c.blocked,
                    c.granted_included,
                    c.expired_included,
                    c.purchased_prepaid,
                    c.expired_prepaid,
                    t.unused_prepaid,
                ]
                .map(|v| v.micros()),
            );
            for (column, v) in amounts.iter_mut().zip(values) {
                column.push(v);
            }
        }
    }
    let names = [
        "workspace",
        "cohort",
        "start_plan",
        "final_plan",
        "strategy",
        "cheapest_strategy",
    ];
    let amount_names = [
        "cash",
        "economic_cost",
        "plan_fees",
        "prepaid_purchases",
        "flex_charges",
        "unused_prepaid_value",
        "credits_demanded",
        "credits_included",
        "credits_prepaid",
        "credits_flex",
        "credits_blocked",
        "included_granted",
        "included_expired",
        "prepaid_purchased",
        "prepaid_expired",
        "prepaid_unused",
    ];
    let mut columns: Vec<Column> = Vec::new();
    let [ws, cohort, start, fin, strategy, cheapest] = text;
    columns.push(Column::new(names[0].into(), ws));
    columns.push(Column::new(names[1].into(), cohort));
    columns.push(Column::new("seats".into(), seats));
    columns.push(Column::new(names[2].into(), start));
    columns.push(Column::new(names[3].into(), fin));
    columns.push(Column::new(names[4].into(), strategy));
    columns.push(Column::new("is_cheapest".into(), is_cheapest));
    columns.push(Column::new(names[5].into(), cheapest));
    columns.push(Column::new("usage_events".into(), events));
    for (name, values) in amount_names.iter().zip(amounts) {
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
        .round_dp(portfolio.scenario.book.minor_digits)
        .to_string()
}

fn money(portfolio: &Portfolio, v: i128) -> String {
    format!(
        "{} {}",
        amount(portfolio, v),
        portfolio.scenario.book.currency
    )
}

/// The summary printed on stdout: the import, then per strategy the portfolio's totals and
/// how many workspaces it is cheapest for.
pub fn summary_text(portfolio: &Portfolio, summary: &Summary) -> String {
    let s = &portfolio.scenario;
    let mut out = format!(
        "Portfolio {}: {} workspaces, {} strategies, horizon {} to {}\n",
        s.name,
        portfolio.members.len(),
        s.strategies.len(),
        crate::calendar::display(s.horizon.start),
        crate::calendar::display(s.horizon.end)
    );
    out.push_str(&import_line(&portfolio.import));
    out.push('\n');
    let grid = Grid {
        title: "Totals over every workspace".into(),
        header: [
            "strategy",
            "cash",
            "economic_cost",
            "cheapest_in",
            "blocks_usage_in",
            "credits_blocked",
        ]
        .map(String::from)
        .to_vec(),
        rows: s
            .strategies
            .iter()
            .zip(&summary.strategies)
            .map(|(st, t)| {
                vec![
                    st.name.clone(),
                    money(portfolio, t.cash_micros),
                    money(portfolio, t.economic_micros),
                    t.cheapest_in.to_string(),
                    t.blocking_in.to_string(),
                    micros(t.blocked_micros).normalize().to_string(),
                ]
            })
            .collect(),
    };
    out.push_str(&grid.to_table(false));
    let first = &summary.strategies[0];
    let comparison = if first.blocking_in == 0 {
        format!(
            "{} less economic cost than every workspace on {}",
            money(
                portfolio,
                first.economic_micros - summary.best_economic_micros
            ),
            s.strategies[0].name
        )
    } else {
        format!(
            "not compared with {}, which refuses usage in {} workspace(s)",
            s.strategies[0].name, first.blocking_in
        )
    };
    out.push_str(&format!(
        "Each workspace on its cheapest strategy (among those refusing the least usage): economic cost {}, cash {} ({comparison})\n",
        money(portfolio, summary.best_economic_micros),
        money(portfolio, summary.best_cash_micros),
    ));
    out
}

fn import_line(r: &ImportReport) -> String {
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
        "currency": s.book.currency,
        "workspaces": portfolio.members.len(),
        "trace": {
            "file": r.path.display().to_string(),
            "rows": r.rows,
            "rows_skipped": r.skipped,
            "rows_out_of_order": r.out_of_order,
            "events": r.events,
            "resolution": r.resolution.name(),
        },
        "strategies": s.strategies.iter().zip(&summary.strategies).map(|(st, t)| json!({
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
