//! `creditsim trace generate`: synthetic traces from a scenario's usage model.
//!
//! Workspace k's usage is Monte Carlo path k: the same ChaCha8 stream, so the day totals of
//! a generated trace are the usage `simulate` replays on that path. Each metric's day is
//! split into `rows_per_day` rows at random times of the day by a second generator (its own
//! key), so the split never changes the path's draws; the split is in whole units of the
//! metric, so the rows of a day add up exactly to the day's quantity.

use super::provenance::Provenance;
use super::trace_file::{TraceRow, TraceWriter};
use crate::input::scenario::Scenario;
use crate::model::calendar::Instant;
use crate::usage::synthetic::{DrawBuffers, UsageModel};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use std::path::Path;

/// Most rows one metric's day is split into.
pub const ROWS_PER_DAY_MAX: u32 = 1_440;

/// Key of the generator that splits days into rows (path draws use the master seed itself).
const SPLIT_KEY: u64 = 0x7472_6163_6573_706c; // "tracespl"

#[derive(Debug, Clone, Copy)]
pub struct GenerateConfig {
    pub workspaces: u32,
    pub rows_per_day: u32,
    pub seed: u64,
}

/// The id of workspace `k` of `n`: `ws-001` ... zero-padded so ids sort like numbers.
pub fn workspace_id(k: u32, n: u32) -> String {
    let width = n.to_string().len().max(3);
    format!("ws-{:0width$}", k + 1)
}

/// Writes the trace; returns the rows written.
pub fn generate(
    scenario: &Scenario,
    model: &UsageModel,
    config: GenerateConfig,
    out: &Path,
    provenance: &Provenance,
) -> Result<u64, String> {
    let mut trace = DayWriter::create(scenario, model, config.workspaces > 1, out, provenance)?;
    let start = scenario.case.workspace.anchor;
    let days = scenario.case.days();
    let mut buffers = DrawBuffers::default();
    let horizon = model.horizon(start, days);
    for k in 0..config.workspaces {
        let id = workspace_id(k, config.workspaces);
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        rng.set_stream(u64::from(k));
        let mut split = ChaCha8Rng::seed_from_u64(config.seed ^ SPLIT_KEY);
        split.set_stream(u64::from(k));
        horizon.walk(&mut rng, &mut buffers, |day_start, drawn| match drawn {
            Some((m, units)) => split_day(
                &mut split,
                day_start,
                m,
                units,
                config.rows_per_day,
                &mut trace.day_rows,
            ),
            None => trace.write_day(&id),
        });
        if let Some(e) = trace.error.take() {
            return Err(e);
        }
    }
    trace.writer.finish()
}

/// A trace being written a day at a time, each day's rows sorted by time.
struct DayWriter<'a> {
    writer: TraceWriter,
    model: &'a UsageModel,
    /// The name of each of the model's metrics.
    names: Vec<&'a str>,
    with_workspace: bool,
    /// Rows of one day, sorted by time before writing: (instant, metric, units).
    day_rows: Vec<(Instant, usize, i64)>,
    /// The first write error; nothing is written after it.
    error: Option<String>,
}

impl<'a> DayWriter<'a> {
    fn create(
        scenario: &'a Scenario,
        model: &'a UsageModel,
        with_workspace: bool,
        out: &Path,
        provenance: &Provenance,
    ) -> Result<DayWriter<'a>, String> {
        let scale = model
            .metrics
            .iter()
            .map(|m| m.unit.normalize().scale())
            .max()
            .unwrap_or(0);
        let names = model
            .metrics
            .iter()
            .map(|m| scenario.case.book.rates.metrics[m.metric.0].name.as_str())
            .collect();
        Ok(DayWriter {
            writer: TraceWriter::create(out, with_workspace, scale, provenance)?,
            model,
            names,
            with_workspace,
            day_rows: Vec::new(),
            error: None,
        })
    }

    /// Writes the day's rows as workspace `id`'s and starts the next day.
    fn write_day(&mut self, id: &str) {
        self.day_rows.sort_by_key(|r| (r.0, r.1));
        for &(at, m, units) in &self.day_rows {
            if self.error.is_some() {
                break;
            }
            let row = TraceRow {
                at,
                workspace: self.with_workspace.then_some(id),
                metric: self.names[m],
                quantity: Decimal::from(units) * self.model.metrics[m].unit,
            };
            if let Err(e) = self.writer.push(row) {
                self.error = Some(e);
            }
        }
        self.day_rows.clear();
    }
}

/// Splits `units` into at most `rows` positive parts at random seconds of the day (cut
/// points uniform over the units, so the parts add up to `units` exactly).
fn split_day(
    rng: &mut ChaCha8Rng,
    day_start: Instant,
    metric: usize,
    units: i64,
    rows: u32,
    out: &mut Vec<(Instant, usize, i64)>,
) {
    let rows = i64::from(rows).min(units).max(1);
    let mut cuts: Vec<i64> = (1..rows).map(|_| rng.random_range(0..=units)).collect();
    cuts.sort_unstable();
    let mut previous = 0;
    for cut in cuts.into_iter().chain(std::iter::once(units)) {
        let part = cut - previous;
        previous = cut;
        if part > 0 {
            let second = rng.random_range(0..86_400);
            out.push((day_start + chrono::Duration::seconds(second), metric, part));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::calendar::add_days;

    #[test]
    fn a_split_day_adds_up_and_stays_in_the_day() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let day =
            crate::model::calendar::midnight(chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap());
        for (units, rows) in [(1, 1), (1, 24), (1000, 24), (7, 7), (123_456, 1440)] {
            let mut out = Vec::new();
            split_day(&mut rng, day, 0, units, rows, &mut out);
            assert_eq!(out.iter().map(|r| r.2).sum::<i64>(), units);
            assert!(out.len() as u32 <= rows);
            assert!(out
                .iter()
                .all(|r| r.2 > 0 && r.0 >= day && r.0 < add_days(day, 1)));
        }
    }

    #[test]
    fn ids_sort_like_numbers() {
        assert_eq!(workspace_id(0, 5), "ws-001");
        assert_eq!(workspace_id(9999, 10000), "ws-10000");
        assert_eq!(workspace_id(8, 10000), "ws-00009");
    }
}
