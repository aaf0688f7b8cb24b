//! Parquet tables for notebooks: one row per path and strategy, and the monthly fan.
//!
//! Amounts are `Decimal(19, 6)`: the ledger's exact millionths, so a notebook sums them
//! without float drift (polars and pyarrow read them as decimals). Column names and units are
//! documented in notebooks-data/README.md; tests/simulate.rs reads every file back.

use super::provenance::Provenance;
use crate::analysis::montecarlo::{month_ends, Measure, PathResult, Summary};
use crate::input::scenario::Scenario;
use crate::model::amounts::Money;
use crate::model::calendar::Instant;
use polars::io::parquet::write::KeyValueMetadata;
use polars::prelude::*;

/// Precision and scale of every amount column: the ledger's 6 decimals, and 13 integer
/// digits, so that every `i64` of millionths fits (19 digits), the amount limit of 10^12
/// included. (18 digits held amounts only below 10^12, and the writer panicked at it.)
const DECIMAL_PRECISION: usize = 19;
const DECIMAL_SCALE: usize = 6;

pub(crate) fn decimal_column(name: &str, micros: Vec<i64>) -> Column {
    let wide: Vec<i128> = micros.into_iter().map(i128::from).collect();
    Int128Chunked::from_vec(name.into(), wide)
        .into_decimal(DECIMAL_PRECISION, DECIMAL_SCALE)
        .expect("an i64 of millionths fits 19 digits")
        .into_series()
        .into_column()
}

pub(crate) fn days_since_epoch(t: Instant) -> i32 {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date");
    (t.date() - epoch).num_days() as i32
}

/// File metadata for a Parquet file of `schema`: the Arrow schema at polars' oldest
/// compatibility level, so readers (pyarrow, pandas) see text as plain UTF-8 strings rather
/// than string_view, and the provenance of the numbers.
pub fn parquet_metadata(schema: &Schema, provenance: &Provenance) -> KeyValueMetadata {
    let arrow = schema.to_arrow(CompatLevel::oldest());
    let key = polars_parquet::write::schema_to_metadata_key(&arrow);
    let mut pairs = vec![(
        key.key,
        key.value.expect("the Arrow schema is always serialised"),
    )];
    pairs.extend(provenance.to_key_values());
    KeyValueMetadata::from_static(pairs)
}

pub fn to_parquet(mut frame: DataFrame, provenance: &Provenance) -> Vec<u8> {
    let mut bytes = Vec::new();
    let metadata = parquet_metadata(frame.schema(), provenance);
    ParquetWriter::new(&mut bytes)
        .with_key_value_metadata(Some(metadata))
        .finish(&mut frame)
        .expect("writing Parquet to memory cannot fail");
    bytes
}

/// `paths.parquet`: per path and strategy, the totals the statistics were computed from.
pub fn paths_parquet(
    scenario: &Scenario,
    summary: &Summary,
    paths: &[PathResult],
    provenance: &Provenance,
) -> Vec<u8> {
    let strategies = scenario.case.strategies.len();
    let rows = paths.len() * strategies;
    let mut path_index = Vec::with_capacity(rows);
    let mut strategy = Vec::with_capacity(rows);
    let mut is_baseline = Vec::with_capacity(rows);
    let (mut cash, mut economic, mut savings) = (
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
    );
    let (mut unused_value, mut unexpired_fee) =
        (Vec::with_capacity(rows), Vec::with_capacity(rows));
    let (mut demanded, mut blocked, mut bought, mut used) = (
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
    );
    for (i, p) in paths.iter().enumerate() {
        let base = &p.strategies[summary.baseline];
        for (s, r) in p.strategies.iter().enumerate() {
            path_index.push(i as u32);
            strategy.push(scenario.case.strategies[s].name.as_str());
            is_baseline.push(s == summary.baseline);
            cash.push(r.cash.micros());
            economic.push(r.economic.micros());
            unused_value.push(r.unused_prepaid_value.micros());
            unexpired_fee.push(r.unexpired_fee_value.micros());
            savings.push(base.economic.micros() - r.economic.micros());
            demanded.push(p.demanded.micros());
            blocked.push(r.blocked.micros());
            bought.push(r.prepaid_purchased.micros());
            used.push(r.prepaid_consumed.micros());
        }
    }
    let frame = DataFrame::new_infer_height(vec![
        Column::new("path".into(), path_index),
        Column::new("strategy".into(), strategy),
        Column::new("is_baseline".into(), is_baseline),
        decimal_column("cash", cash),
        decimal_column("economic_cost", economic),
        decimal_column("unused_prepaid_value", unused_value),
        decimal_column("unexpired_fee_value", unexpired_fee),
        decimal_column("economic_savings_vs_baseline", savings),
        decimal_column("credits_demanded", demanded),
        decimal_column("credits_blocked", blocked),
        decimal_column("prepaid_credits_purchased", bought),
        decimal_column("prepaid_credits_consumed", used),
    ])
    .expect("columns of equal length");
    to_parquet(frame, provenance)
}

/// `fan.parquet`: per strategy, measure and month, P10/P50/P90 of cumulative cost at the
/// month's end (the same order statistics as `summary.json`).
pub fn fan_parquet(scenario: &Scenario, summary: &Summary, provenance: &Provenance) -> Vec<u8> {
    let ends = month_ends(scenario.case.workspace.anchor, scenario.case.horizon.end);
    let (mut strategy, mut measure, mut month, mut as_of) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut p10, mut p50, mut p90) = (Vec::new(), Vec::new(), Vec::new());
    for s in &summary.strategies {
        for m in [Measure::Economic, Measure::Cash] {
            let fan = &s.measure(m).fan;
            assert_eq!(fan.len(), ends.len(), "one fan point per month end");
            for (k, (quantiles, end)) in fan.iter().zip(&ends).enumerate() {
                strategy.push(s.name.as_str());
                measure.push(m.name());
                month.push(k as u32 + 1);
                as_of.push(days_since_epoch(*end));
                let [a, b, c]: [Money; 3] = *quantiles;
                p10.push(a.micros());
                p50.push(b.micros());
                p90.push(c.micros());
            }
        }
    }
    let frame = DataFrame::new_infer_height(vec![
        Column::new("strategy".into(), strategy),
        Column::new("measure".into(), measure),
        Column::new("month".into(), month),
        Int32Chunked::from_vec("as_of".into(), as_of)
            .into_date()
            .into_series()
            .into_column(),
        decimal_column("p10", p10),
        decimal_column("p50", p50),
        decimal_column("p90", p90),
    ])
    .expect("columns of equal length");
    to_parquet(frame, provenance)
}
