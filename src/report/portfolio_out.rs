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

/// What a portfolio summary names besides its totals: from a loaded portfolio, or from a
/// shard's summary.json when `portfolio merge` joins shards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryInfo {
    pub scenario: String,
    pub currency: String,
    pub minor_digits: u32,
    pub workspaces: usize,
    pub strategies: Vec<String>,
    pub horizon: (String, String),
    pub trace: TraceInfo,
}

/// What the trace import read, as a summary shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceInfo {
    pub file: String,
    pub rows: u64,
    pub skipped: u64,
    pub out_of_order: u64,
    pub events: u64,
    pub resolution: String,
}

impl TraceInfo {
    pub fn of(r: &ImportReport) -> TraceInfo {
        TraceInfo {
            file: r.path.display().to_string(),
            rows: r.rows,
            skipped: r.skipped,
            out_of_order: r.out_of_order,
            events: r.events,
            resolution: r.resolution.name().to_string(),
        }
    }
}

impl SummaryInfo {
    pub fn of(portfolio: &Portfolio) -> SummaryInfo {
        let s = &portfolio.scenario;
        SummaryInfo {
            scenario: s.name.clone(),
            currency: s.case.book.currency.clone(),
            minor_digits: s.case.book.minor_digits,
            workspaces: portfolio.members.len(),
            strategies: s.case.strategies.iter().map(|x| x.name.clone()).collect(),
            horizon: (
                crate::model::calendar::display(s.case.horizon.start),
                crate::model::calendar::display(s.case.horizon.end),
            ),
            trace: TraceInfo::of(&portfolio.import),
        }
    }

    /// The info a summary.json holds (as [`summary_json`] writes it).
    pub fn from_json(v: &Value) -> Option<SummaryInfo> {
        let text = |v: &Value| v.as_str().map(str::to_string);
        let t = &v["trace"];
        Some(SummaryInfo {
            scenario: text(&v["scenario"])?,
            currency: text(&v["currency"])?,
            minor_digits: u32::try_from(v["minor_digits"].as_u64()?).ok()?,
            workspaces: usize::try_from(v["workspaces"].as_u64()?).ok()?,
            strategies: (v["strategies"].as_array()?.iter())
                .map(|s| text(&s["name"]))
                .collect::<Option<Vec<_>>>()?,
            horizon: (text(&v["horizon"]["start"])?, text(&v["horizon"]["end"])?),
            trace: TraceInfo {
                file: text(&t["file"])?,
                rows: t["rows"].as_u64()?,
                skipped: t["rows_skipped"].as_u64()?,
                out_of_order: t["rows_out_of_order"].as_u64()?,
                events: t["events"].as_u64()?,
                resolution: text(&t["resolution"])?,
            },
        })
    }
}

/// Money totals are whole minor units (every invoice line is rounded): shown with them.
fn amount(info: &SummaryInfo, v: i128) -> String {
    micros(v).round_dp(info.minor_digits).to_string()
}

fn money(info: &SummaryInfo, v: i128) -> String {
    format!("{} {}", amount(info, v), info.currency)
}

/// The portfolio summary: the import, then per strategy the portfolio's totals and how many
/// workspaces it is cheapest for.
pub fn summary_doc(info: &SummaryInfo, summary: &Summary) -> Doc {
    let mut doc = Doc::new(format!("Portfolio {}", info.scenario));
    doc.subtitle = Some(format!(
        "{} workspaces, {} strategies, horizon {} to {}",
        info.workspaces,
        info.strategies.len(),
        info.horizon.0,
        info.horizon.1
    ));
    doc.push(Block::Paragraph(import_line(&info.trace)));
    let currency = &info.currency;
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
        rows: (info.strategies.iter())
            .zip(&summary.strategies)
            .map(|(name, t)| {
                vec![
                    name.clone(),
                    amount(info, t.cash_micros),
                    amount(info, t.economic_micros),
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
            money(info, first.economic_micros - summary.best_economic_micros),
            info.strategies[0]
        )
    } else {
        format!(
            "not compared with {}, which refuses usage in {} workspace(s)",
            info.strategies[0], first.blocking_in
        )
    };
    doc.push(Block::Paragraph(format!(
        "Each workspace on its cheapest strategy (among those refusing the least usage): economic cost {}, cash {} ({comparison})",
        money(info, summary.best_economic_micros),
        money(info, summary.best_cash_micros),
    )));
    doc.data = summary_json(info, summary);
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

pub(super) fn import_line(r: &TraceInfo) -> String {
    format!(
        "Usage: {} ({} rows used of {}, {} skipped; {} events at {} resolution)",
        r.file,
        r.rows - r.skipped,
        r.rows,
        r.skipped,
        r.events,
        r.resolution
    )
}

pub fn summary_json(info: &SummaryInfo, summary: &Summary) -> Value {
    let r = &info.trace;
    json!({
        "scenario": info.scenario,
        "currency": info.currency,
        "minor_digits": info.minor_digits,
        "workspaces": info.workspaces,
        "horizon": { "start": info.horizon.0, "end": info.horizon.1 },
        "trace": {
            "file": r.file,
            "rows": r.rows,
            "rows_skipped": r.skipped,
            "rows_out_of_order": r.out_of_order,
            "events": r.events,
            "resolution": r.resolution,
        },
        "strategies": info.strategies.iter().zip(&summary.strategies).map(|(name, t)| json!({
            "name": name,
            "cash": amount(info, t.cash_micros),
            "economic_cost": amount(info, t.economic_micros),
            "credits_demanded": micros(t.demanded_micros).normalize().to_string(),
            "credits_blocked": micros(t.blocked_micros).normalize().to_string(),
            "cheapest_in": t.cheapest_in,
            "blocks_usage_in": t.blocking_in,
        })).collect::<Vec<_>>(),
        "each_on_cheapest": {
            "economic_cost": amount(info, summary.best_economic_micros),
            "cash": amount(info, summary.best_cash_micros),
        },
    })
}

/// A decimal column's millionths at every row.
fn micros_column(frame: &DataFrame, name: &str) -> Result<Vec<i128>, String> {
    let column = frame
        .column(name)
        .map_err(|e| format!("column {name}: {e}"))?;
    let decimal = column
        .decimal()
        .map_err(|e| format!("column {name}: {e}"))?;
    (0..frame.height())
        .map(|i| {
            (decimal.physical().get(i)).ok_or_else(|| format!("column {name}: empty at row {i}"))
        })
        .collect()
}

/// The summary of a portfolio table (as [`frame`] writes it): what `portfolio merge`
/// recomputes from the shards' rows.
pub fn summary_from_frame(frame: &DataFrame, strategies: &[String]) -> Result<Summary, String> {
    let strategy = frame.column("strategy").and_then(|c| c.str().cloned());
    let strategy = strategy.map_err(|e| format!("column strategy: {e}"))?;
    let cheapest = frame.column("is_cheapest").and_then(|c| c.bool().cloned());
    let cheapest = cheapest.map_err(|e| format!("column is_cheapest: {e}"))?;
    let [cash, economic, demanded, blocked] = [
        "cash",
        "economic_cost",
        "credits_demanded",
        "credits_blocked",
    ]
    .map(|name| micros_column(frame, name));
    let (cash, economic, demanded, blocked) = (cash?, economic?, demanded?, blocked?);
    let mut summary = Summary {
        strategies: vec![Default::default(); strategies.len()],
        best_economic_micros: 0,
        best_cash_micros: 0,
    };
    for i in 0..frame.height() {
        let name = strategy.get(i).unwrap_or_default();
        let s = (strategies.iter().position(|x| x == name))
            .ok_or_else(|| format!("row {i}: strategy \"{name}\" is not the scenario's"))?;
        let t = &mut summary.strategies[s];
        t.cash_micros += cash[i];
        t.economic_micros += economic[i];
        t.demanded_micros += demanded[i];
        t.blocked_micros += blocked[i];
        t.blocking_in += usize::from(blocked[i] != 0);
        if cheapest.get(i) == Some(true) {
            t.cheapest_in += 1;
            summary.best_economic_micros += economic[i];
            summary.best_cash_micros += cash[i];
        }
    }
    Ok(summary)
}

/// Shards' tables as one, in the portfolio's workspace order (`order`: every workspace id
/// of the portfolio, as one run lists them); within a workspace, rows keep their order.
pub fn merge_frames(frames: Vec<DataFrame>, order: &[String]) -> Result<DataFrame, String> {
    let mut frames = frames.into_iter();
    let mut all = frames.next().ok_or("no shard to merge")?;
    for f in frames {
        all.vstack_mut(&f)
            .map_err(|e| format!("the shards' tables differ: {e}"))?;
    }
    let position: std::collections::BTreeMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(k, id)| (id.as_str(), k))
        .collect();
    let workspace = all.column("workspace").and_then(|c| c.str().cloned());
    let workspace = workspace.map_err(|e| format!("column workspace: {e}"))?;
    let mut rows: Vec<(usize, u32)> = Vec::with_capacity(all.height());
    for i in 0..all.height() {
        let id = workspace.get(i).unwrap_or_default();
        let at = position
            .get(id)
            .ok_or_else(|| format!("workspace \"{id}\" is not in the shards' portfolio"))?;
        rows.push((*at, i as u32));
    }
    rows.sort_unstable();
    let take = IdxCa::from_vec("take".into(), rows.iter().map(|r| r.1 as IdxSize).collect());
    all.take(&take).map_err(|e| e.to_string())
}
