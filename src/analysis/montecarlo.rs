//! Monte Carlo: many plausible usage paths, every strategy replayed on each (common random
//! numbers), and the distribution of cost per strategy.
//!
//! Path `i` draws from ChaCha8 keyed by the master seed on stream `i`, so a path's numbers
//! depend on (seed, i) alone: results are identical with 1 thread or 16. Paths run in
//! parallel (rayon) and their per-path totals are collected in path order; nothing of a
//! path's horizon is kept beyond those totals and its month-end cumulative costs.

use crate::analysis::month_costs::{self, MonthCosts, Shape, MEASURES};
use crate::analysis::ranking::{self, Contender};
use crate::analysis::{in_pool, Case};
use crate::engine::ledger::Ledger;
use crate::engine::monthly::{Monthly, MonthlyBuffers};
use crate::engine::reading::{PrefixBuffers, PrefixedEvents};
use crate::engine::replay::{replay_observed, CreditUsage, ReplayError, Watch};
use crate::model::amounts::{Credits, Money};
use crate::model::calendar::Instant;
use crate::usage::synthetic::{DrawBuffers, Horizon, UsageModel};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use rust_decimal::Decimal;

/// Most paths one run accepts.
pub const PATHS_MAX: u32 = 10_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimConfig {
    pub paths: u32,
    pub seed: u64,
    /// Worker threads; `None`: rayon's default (one per core).
    pub threads: Option<usize>,
}

/// How strategies are compared: savings and break-even against `baseline`; costs within
/// `tie_within` of each other are a tie for P(cheapest) and P(saves).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Comparison {
    pub baseline: usize,
    pub tie_within: Money,
}

impl Comparison {
    /// Against `baseline`, ties only when costs are equal to the micro-unit.
    pub fn exact(baseline: usize) -> Comparison {
        Comparison {
            baseline,
            tie_within: Money::ZERO,
        }
    }
}

/// One strategy's results on one path: what either replay keeps of its totals.
pub type StrategyPath = crate::engine::ledger::KeptTotals;

/// Every strategy's results on one path, in the scenario's strategy order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathResult {
    pub strategies: Vec<StrategyPath>,
    pub demanded: Credits,
    pub clamped_days: u32,
}

pub use crate::model::calendar::month_ends;

/// The model laid out over the case's horizon, once per run: whole days from the anchor (a
/// horizon ending mid-day draws nothing for its partial last day).
fn horizon<'m>(case: &Case, model: &'m UsageModel) -> Horizon<'m> {
    model.horizon(case.workspace.anchor, case.days())
}

/// What a worker thread reuses from path to path, so that a path allocates nothing.
#[derive(Debug, Default)]
pub struct PathBuffers {
    draw: DrawBuffers,
    /// The path's usage, one event a day with usage, in time order.
    usage: Vec<CreditUsage>,
    /// Running totals of `usage` and where the month ends fall in it, shared by every
    /// strategy's replay of the path.
    prefix: PrefixBuffers,
    /// What [`Monthly`] replays reuse.
    monthly: MonthlyBuffers,
}

/// How a run replays its strategies: those that cannot react month by month where they can
/// ([`Monthly`]), or every one in full (what the month-by-month replay is tested against).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Replay {
    MonthlyWherePossible,
    InFull,
}

/// What replays every path of a run: the case, its month ends, and each strategy's
/// month-by-month start where it has one.
struct Replays<'c> {
    case: &'c Case,
    months: &'c [Instant],
    monthly: Vec<Option<Monthly<'c>>>,
}

impl<'c> Replays<'c> {
    fn new(case: &'c Case, months: &'c [Instant], replay: Replay) -> Replays<'c> {
        let (book, workspace, end) = (&case.book, case.workspace, case.horizon.end);
        let monthly = (case.strategies.iter())
            .map(|s| match replay {
                Replay::MonthlyWherePossible => Monthly::prepare(book, workspace, end, s),
                Replay::InFull => None,
            })
            .collect();
        Replays {
            case,
            months,
            monthly,
        }
    }
}

/// Draws path `path`'s usage into `buffers.usage`, in time order; returns the days clamped.
fn draw_path(
    case: &Case,
    horizon: &Horizon<'_>,
    seed: u64,
    path: u64,
    buffers: &mut PathBuffers,
) -> u32 {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(path);
    let usage = &mut buffers.usage;
    let report = horizon.draw(&mut rng, case.book.rounding, &mut buffers.draw, usage);
    debug_assert!(usage.last().is_none_or(|u| u.at < case.horizon.end));
    report.clamped_days
}

/// Runs one path: draws its usage over `horizon` (the case's, see [`UsageModel::horizon`])
/// and replays it under every strategy, with each strategy's cost at every one of the
/// replays' months (the case's [`month_ends`], the same for every path) written to
/// `month_costs`, laid out as [`Shape::column`] says.
fn run_path(
    replays: &Replays<'_>,
    horizon: &Horizon<'_>,
    (seed, path): (u64, u64),
    buffers: &mut PathBuffers,
    month_costs: &mut [i64],
) -> Result<PathResult, PathError> {
    let clamped_days = draw_path(replays.case, horizon, seed, path, buffers);
    let strategies = replay_path(replays, buffers, month_costs).map_err(|error| PathError {
        path,
        seed,
        error,
    })?;
    // The replays' running totals end at the path's total. Every strategy's ledger held it
    // within the credit limit.
    let demanded = i64::try_from(buffers.prefix.total_micros()).expect("within the credit limit");
    Ok(PathResult {
        strategies,
        demanded: Credits::from_micros(demanded),
        clamped_days,
    })
}

/// Replays one path's usage (`buffers.usage`) under every strategy (see [`run_path`]), each
/// month by month where it can be.
fn replay_path(
    replays: &Replays<'_>,
    buffers: &mut PathBuffers,
    month_costs: &mut [i64],
) -> Result<Vec<StrategyPath>, ReplayError> {
    let (case, months) = (replays.case, replays.months);
    // Quiet runs end at month ends (observations, monthly boundaries) more than anywhere.
    let events = PrefixedEvents::with_marks(&buffers.usage, months, &mut buffers.prefix);
    let per_strategy = MEASURES * months.len();
    assert_eq!(month_costs.len(), case.strategies.len() * per_strategy);
    let mut strategies = Vec::with_capacity(case.strategies.len());
    for ((strategy, monthly), costs) in (case.strategies.iter())
        .zip(&replays.monthly)
        .zip(month_costs.chunks_exact_mut(per_strategy))
    {
        let (monthly_cash, monthly_economic) = costs.split_at_mut(months.len());
        let fast = monthly.as_ref().and_then(|m| {
            m.run(
                &events,
                &mut buffers.monthly,
                (monthly_cash, monthly_economic),
            )
        });
        strategies.push(match fast {
            Some(kept) => kept,
            None => replay_in_full(replays, events, strategy, costs)?,
        });
    }
    Ok(strategies)
}

/// One strategy's replay of a path through the ledger, observed at the month ends.
fn replay_in_full(
    replays: &Replays<'_>,
    events: PrefixedEvents<'_>,
    strategy: &crate::engine::strategy::Strategy,
    costs: &mut [i64],
) -> Result<StrategyPath, ReplayError> {
    let (case, months) = (replays.case, replays.months);
    let (monthly_cash, monthly_economic) = costs.split_at_mut(months.len());
    let mut observe = |k: usize, ledger: &Ledger<'_>| {
        let cash = ledger.cash_so_far()?;
        monthly_cash[k] = cash.micros();
        monthly_economic[k] = (cash - ledger.value_held_now()).micros();
        Ok(())
    };
    let watch = Watch {
        at: &months[..months.len() - 1],
        observe: &mut observe,
        statements: false,
    };
    let (book, workspace, end) = (&case.book, case.workspace, case.horizon.end);
    let outcome = replay_observed(book, workspace, end, events, strategy, watch, None)?;
    let kept = outcome.totals.kept();
    monthly_cash[months.len() - 1] = kept.cash.micros();
    monthly_economic[months.len() - 1] = kept.economic.micros();
    Ok(kept)
}

/// A Monte Carlo path whose replay stopped at a limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Monte Carlo path {path} (seed {seed}): {error}")]
pub struct PathError {
    pub path: u64,
    pub seed: u64,
    pub error: ReplayError,
}

/// Draws every path's usage and replays nothing: the floor a full run is measured against
/// (`creditsim bench`). Returns the credits demanded over all paths, so the draws are used.
pub fn draw_only(case: &Case, model: &UsageModel, config: SimConfig) -> Credits {
    assert!(config.paths >= 1 && config.paths <= PATHS_MAX);
    demands(case, model, config).into_iter().sum()
}

/// A run's results: each path's totals, in path order, and each strategy's month-end costs
/// summed and selected over every path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Simulated {
    pub paths: Vec<PathResult>,
    /// Per strategy and measure (cash, then economic cost), one entry per month end.
    pub months: Vec<[Vec<MonthColumn>; MEASURES]>,
}

/// One strategy's cost at one month end over every path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthColumn {
    /// Exact sum over the paths, in micro-units.
    pub sum_micros: i128,
    /// P10, P50, P90 (nearest rank).
    pub fan: [Money; 3],
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    #[error(transparent)]
    Path(#[from] PathError),
    #[error(
        "keeping the paths' month-end costs in a temporary file in {dir} (TMPDIR): {0}",
        dir = std::env::temp_dir().display()
    )]
    Spill(#[from] std::io::Error),
}

/// Runs every path; `progress(n)` is called as paths finish (from worker threads). Paths run
/// in blocks (see `analysis::month_costs`), so the month-end costs kept while they run stay
/// within a bound whatever the horizon.
pub fn simulate(
    case: &Case,
    model: &UsageModel,
    config: SimConfig,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Simulated, SimulateError> {
    simulate_within(
        case,
        model,
        config,
        progress,
        month_costs::IN_MEMORY_BYTES_MAX,
    )
}

/// [`simulate`] keeping at most `bytes_max` bytes of month-end costs in memory (0: every
/// block goes to the temporary file), so that tests can compare the two ways.
pub fn simulate_within(
    case: &Case,
    model: &UsageModel,
    config: SimConfig,
    progress: &(dyn Fn(u64) + Sync),
    bytes_max: usize,
) -> Result<Simulated, SimulateError> {
    let replay = Replay::MonthlyWherePossible;
    simulate_replaying(case, model, config, (progress, bytes_max), replay)
}

/// [`simulate`] with every strategy replayed in full through the ledger, none month by month:
/// what the month-by-month replay ([`crate::engine::monthly`]) is held to in the tests.
pub fn simulate_in_full(
    case: &Case,
    model: &UsageModel,
    config: SimConfig,
) -> Result<Simulated, SimulateError> {
    let bytes_max = month_costs::IN_MEMORY_BYTES_MAX;
    simulate_replaying(case, model, config, (&|_| {}, bytes_max), Replay::InFull)
}

fn simulate_replaying(
    case: &Case,
    model: &UsageModel,
    config: SimConfig,
    (progress, bytes_max): (&(dyn Fn(u64) + Sync), usize),
    replay: Replay,
) -> Result<Simulated, SimulateError> {
    assert!(
        config.paths >= 1 && config.paths <= PATHS_MAX,
        "validated path count"
    );
    let months = month_ends(case.workspace.anchor, case.horizon.end);
    let shape = Shape {
        strategies: case.strategies.len(),
        months: months.len(),
    };
    let total = u64::from(config.paths);
    let work = Work {
        case,
        model,
        config,
        months: &months,
        block_paths: shape.block_paths(bytes_max),
        replay,
    };
    in_pool(config.threads, || {
        let mut costs = MonthCosts::new(shape, total as usize, bytes_max)?;
        let paths = work.run_in_blocks(0..total, progress, |rows| {
            costs.push_block(rows).map_err(SimulateError::Spill)
        })?;
        let months = month_columns(&costs)?;
        Ok(Simulated { paths, months })
    })
}

/// What runs a range of paths.
struct Work<'w> {
    case: &'w Case,
    model: &'w UsageModel,
    config: SimConfig,
    months: &'w [Instant],
    block_paths: usize,
    replay: Replay,
}

impl Work<'_> {
    /// Runs the paths numbered `paths` in blocks of `block_paths`, in parallel inside each
    /// block, handing each block's month-end costs to `keep` (see [`run_block`]).
    fn run_in_blocks<E: From<PathError>>(
        &self,
        paths: std::ops::Range<u64>,
        progress: &(dyn Fn(u64) + Sync),
        mut keep: impl FnMut(&[i64]) -> Result<(), E>,
    ) -> Result<Vec<PathResult>, E> {
        let horizon = horizon(self.case, self.model);
        let replays = Replays::new(self.case, self.months, self.replay);
        let (mut results, mut rows) = (Vec::new(), Vec::new());
        let mut start = paths.start;
        while start < paths.end {
            let block = start..paths.end.min(start + self.block_paths as u64);
            start = block.end;
            let seed = self.config.seed;
            results.extend(run_block(
                (&replays, &horizon),
                seed,
                block,
                &mut rows,
                progress,
            )?);
            keep(&rows)?;
        }
        Ok(results)
    }
}

/// Runs the paths numbered `paths`, each path's month-end costs into `rows` one after the
/// other.
fn run_block(
    (replays, horizon): (&Replays<'_>, &Horizon<'_>),
    seed: u64,
    paths: std::ops::Range<u64>,
    rows: &mut Vec<i64>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<PathResult>, PathError> {
    let width = replays.case.strategies.len() * MEASURES * replays.months.len();
    rows.clear();
    rows.resize((paths.end - paths.start) as usize * width, 0);
    let results: Vec<_> = rows
        .par_chunks_mut(width)
        .enumerate()
        .map_init(PathBuffers::default, |buffers, (i, row)| {
            let path = paths.start + i as u64;
            let r = run_path(replays, horizon, (seed, path), buffers, row);
            progress(1);
            r
        })
        .collect();
    // The first failing path by number, not by finishing order: the same error on any
    // thread count.
    results.into_iter().collect()
}

/// Each strategy's month-end costs summed and selected over every path, the strategies and
/// measures in parallel.
fn month_columns(costs: &MonthCosts) -> std::io::Result<Vec<[Vec<MonthColumn>; MEASURES]>> {
    let shape = costs.shape();
    let one = |s: usize, measure: usize| -> std::io::Result<Vec<MonthColumn>> {
        let mut column = Vec::new();
        (0..shape.months)
            .map(|k| {
                costs.read_column(shape.column(s, measure, k), &mut column)?;
                let sum_micros = column.iter().map(|v| i128::from(*v)).sum();
                let fan = percentiles_unsorted(&mut column, [10, 50, 90]).map(Money::from_micros);
                Ok(MonthColumn { sum_micros, fan })
            })
            .collect()
    };
    (0..shape.strategies)
        .into_par_iter()
        .map(|s| {
            let (cash, economic) = rayon::join(|| one(s, 0), || one(s, 1));
            Ok([cash?, economic?])
        })
        .collect()
}

/// [`simulate`]'s path totals for the paths numbered `paths` only, without the month-end
/// statistics: path `k` is the same path whichever range it is run in, so results over
/// adjoining ranges join into one run's (the advice's racing adds paths to the candidates
/// still in the race, round by round).
pub fn simulate_paths(
    case: &Case,
    model: &UsageModel,
    config: SimConfig,
    paths: std::ops::Range<u64>,
) -> Result<Vec<PathResult>, PathError> {
    let months = month_ends(case.workspace.anchor, case.horizon.end);
    let shape = Shape {
        strategies: case.strategies.len(),
        months: months.len(),
    };
    let work = Work {
        case,
        model,
        config,
        months: &months,
        block_paths: shape.block_paths(month_costs::IN_MEMORY_BYTES_MAX),
        replay: Replay::MonthlyWherePossible,
    };
    in_pool(config.threads, || {
        work.run_in_blocks(paths, &|_| {}, |_| Ok::<(), PathError>(()))
    })
}

/// The credits each of the first `config.paths` paths demands over the horizon, drawn and
/// not replayed.
pub fn demands(case: &Case, model: &UsageModel, config: SimConfig) -> Vec<Credits> {
    each_drawn(case, model, config, |usage| {
        usage.iter().map(|u| u.credits).sum()
    })
}

/// The usage of each of the first `config.paths` paths, drawn and not replayed: path k is
/// the usage `simulate` replays on path k.
pub fn draw_usage(case: &Case, model: &UsageModel, config: SimConfig) -> Vec<Vec<CreditUsage>> {
    each_drawn(case, model, config, <[CreditUsage]>::to_vec)
}

/// `of` each of the first `config.paths` paths' usage, drawn and not replayed.
fn each_drawn<T: Send>(
    case: &Case,
    model: &UsageModel,
    config: SimConfig,
    of: impl Fn(&[CreditUsage]) -> T + Sync,
) -> Vec<T> {
    let horizon = horizon(case, model);
    in_pool(config.threads, || {
        (0..u64::from(config.paths))
            .into_par_iter()
            .map_init(PathBuffers::default, |buffers, path| {
                draw_path(case, &horizon, config.seed, path, buffers);
                of(&buffers.usage)
            })
            .collect()
    })
}

// ---------------------------------------------------------------- statistics

/// Which cost a statistic is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    Cash,
    Economic,
}

impl Measure {
    pub fn name(self) -> &'static str {
        match self {
            Measure::Cash => "cash",
            Measure::Economic => "economic_cost",
        }
    }

    /// This measure's total of one strategy on one path.
    pub fn of(self, s: &StrategyPath) -> Money {
        match self {
            Measure::Cash => s.cash,
            Measure::Economic => s.economic,
        }
    }

    /// Where this measure's month ends are in [`Simulated::months`].
    fn index(self) -> usize {
        match self {
            Measure::Cash => 0,
            Measure::Economic => 1,
        }
    }
}

/// Distribution of one cost over the paths. Money values are exact order statistics;
/// mean, standard error and CVaR are decimals rounded to 4 places.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CostStats {
    pub mean: Decimal,
    /// Standard error of the mean: sample standard deviation / sqrt(paths).
    pub stderr: Decimal,
    pub p5: Money,
    pub p50: Money,
    pub p90: Money,
    pub p95: Money,
    pub p99: Money,
    /// Mean of the worst 5% of paths (expected shortfall).
    pub cvar95: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavingsStats {
    /// Baseline cost minus this strategy's cost, per path.
    pub mean: Decimal,
    pub stderr: Decimal,
    pub p5: Money,
    pub p95: Money,
    /// Share of paths where this strategy costs strictly less than the baseline.
    pub p_positive: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasureStats {
    pub cost: CostStats,
    /// Share of paths where this strategy is the cheapest (ties share the path equally).
    pub p_cheapest: Decimal,
    pub savings: SavingsStats,
    /// The month (1-based) from which the mean cumulative cost stays below the baseline's
    /// through the horizon's end, if any: the month after the last crossing.
    pub break_even_month: Option<u32>,
    /// P10, P50, P90 of cumulative cost at each month end.
    pub fan: Vec<[Money; 3]>,
    /// Exact sum over the paths of cumulative cost at each month end, in micro-units
    /// (divided by the path count: the mean cumulative cost).
    pub cumulative_sums_micros: Vec<i128>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrategyStats {
    pub name: String,
    pub cash: MeasureStats,
    pub economic: MeasureStats,
    /// Prepaid credits consumed / bought, over all paths; `None` when nothing was bought.
    pub prepaid_utilisation: Option<Decimal>,
    pub blocked_mean: Decimal,
    pub p_blocked: Decimal,
}

impl StrategyStats {
    pub fn measure(&self, m: Measure) -> &MeasureStats {
        match m {
            Measure::Cash => &self.cash,
            Measure::Economic => &self.economic,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub paths: u32,
    pub seed: u64,
    pub baseline: usize,
    pub tie_within: Money,
    pub strategies: Vec<StrategyStats>,
    pub demanded_mean: Decimal,
    pub clamped_days: u64,
}

const STAT_DIGITS: u32 = 4;

/// Nearest-rank percentile of sorted values: the smallest value with at least q of the
/// paths at or below it.
pub fn percentile(sorted: &[i64], q_percent: u32) -> i64 {
    sorted[percentile_index(sorted.len(), q_percent)]
}

/// Where the nearest-rank percentile sits in `n` sorted values.
fn percentile_index(n: usize, q_percent: u32) -> usize {
    (n * q_percent as usize).div_ceil(100).max(1) - 1
}

/// The nearest-rank percentiles `q_percent` (ascending) without sorting: the values a sort
/// would put at their indices, by O(n) selections (the fan asks for three percentiles per
/// month, per strategy and measure). The middle one is selected first, then the lower ones
/// among the values below it and the higher ones among those above, so each selection after
/// the first looks at part of the values.
fn percentiles_unsorted<const N: usize>(values: &mut [i64], q_percent: [u32; N]) -> [i64; N] {
    debug_assert!(q_percent.is_sorted(), "ascending percentiles");
    let ranks = q_percent.map(|q| percentile_index(values.len(), q));
    let mut out = [0; N];
    select_ranks(values, 0, &ranks, &mut out);
    out
}

/// Puts in `out[i]` the value a sort would put at index `ranks[i]` (ascending) of the whole,
/// of which `values` are the ones a sort puts from index `offset` on.
fn select_ranks(values: &mut [i64], offset: usize, ranks: &[usize], out: &mut [i64]) {
    let Some(&rank) = ranks.get(ranks.len() / 2) else {
        return;
    };
    let (lower, at, upper) = values.select_nth_unstable(rank - offset);
    let (below, above) = (
        ranks.partition_point(|r| *r < rank),
        ranks.partition_point(|r| *r <= rank),
    );
    out[below..above].fill(*at);
    select_ranks(lower, offset, &ranks[..below], &mut out[..below]);
    select_ranks(upper, rank + 1, &ranks[above..], &mut out[above..]);
}

/// `numerator / denominator` rounded half-up to 4 decimals; 0 for an empty denominator.
fn ratio(numerator: i128, denominator: i128) -> Decimal {
    if denominator == 0 {
        return Decimal::ZERO;
    }
    let value = crate::model::amounts::div_round(
        numerator * 10i128.pow(STAT_DIGITS),
        denominator,
        crate::model::amounts::Rounding::HalfUp,
    );
    Decimal::from_i128_with_scale(value, STAT_DIGITS)
}

/// Mean of micro-unit values as a decimal of the unit, rounded to 4 places.
fn mean_micros(values: &[i64]) -> Decimal {
    let sum: i128 = values.iter().map(|v| i128::from(*v)).sum();
    ratio(sum, values.len() as i128 * 1_000_000)
}

/// Standard error in units, from micro-unit values. Floating point is fine here: it is a
/// statement about sampling error, not an amount anyone is charged.
fn stderr_micros(values: &[i64]) -> Decimal {
    let n = values.len();
    if n < 2 {
        return Decimal::ZERO;
    }
    let mean = values.iter().map(|v| *v as f64).sum::<f64>() / n as f64;
    let var = values
        .iter()
        .map(|v| (*v as f64 - mean).powi(2))
        .sum::<f64>()
        / (n - 1) as f64;
    let se = (var / n as f64).sqrt() / 1e6;
    Decimal::from_f64_retain(se)
        .unwrap_or_default()
        .round_dp(STAT_DIGITS)
}

fn cost_stats(values: &[i64]) -> CostStats {
    // Selections, not a sort: the summary comes after every path, and the run waits for it.
    // Each percentile is the value a sort puts at its index, and after selecting index
    // n - tail the values from there on are the `tail` largest.
    let mut scratch = values.to_vec();
    let tail = values.len().div_ceil(20).max(1);
    let cvar95 = {
        let at = values.len() - tail;
        scratch.select_nth_unstable(at);
        mean_micros(&scratch[at..])
    };
    let [p5, p50, p90, p95, p99] =
        percentiles_unsorted(&mut scratch, [5, 50, 90, 95, 99]).map(Money::from_micros);
    CostStats {
        mean: mean_micros(values),
        stderr: stderr_micros(values),
        p5,
        p50,
        p90,
        p95,
        p99,
        cvar95,
    }
}

fn measure_stats(run: &Simulated, s: usize, comparison: Comparison, m: Measure) -> MeasureStats {
    let paths = &run.paths;
    let n = paths.len();
    let values: Vec<i64> = paths
        .iter()
        .map(|p| m.of(&p.strategies[s]).micros())
        .collect();
    let cheapest_share_e6 = cheapest_share_e6(paths, s, comparison.tie_within, m);
    let months = month_stats(run, s, comparison.baseline, m);
    MeasureStats {
        cost: cost_stats(&values),
        p_cheapest: ratio(i128::from(cheapest_share_e6), n as i128 * 1_000_000),
        savings: savings_stats(paths, s, comparison, m),
        break_even_month: months.break_even_month,
        fan: months.fan,
        cumulative_sums_micros: months.cumulative_sums_micros,
    }
}

/// Strategy `s`'s share of the paths on which it is the cheapest, in millionths of a path:
/// on each path the one ranking decides (`analysis::ranking`): only the strategies that
/// refused the least usage there compete, and costs within `tie_within` share the path.
fn cheapest_share_e6(paths: &[PathResult], s: usize, tie_within: Money, m: Measure) -> u64 {
    let mut contenders = Vec::with_capacity(paths[0].strategies.len());
    paths
        .iter()
        .map(|p| {
            contenders.clear();
            contenders.extend(p.strategies.iter().map(|x| Contender {
                refused: x.blocked,
                cost: m.of(x),
            }));
            ranking::cheapest_share_e6(&contenders, s, tie_within)
        })
        .sum()
}

/// What strategy `s` saves against the baseline, per path.
fn savings_stats(
    paths: &[PathResult],
    s: usize,
    comparison: Comparison,
    m: Measure,
) -> SavingsStats {
    let Comparison {
        baseline,
        tie_within,
    } = comparison;
    let savings: Vec<i64> = paths
        .iter()
        .map(|p| m.of(&p.strategies[baseline]).micros() - m.of(&p.strategies[s]).micros())
        .collect();
    let [p5, p95] = percentiles_unsorted(&mut savings.clone(), [5, 95]);
    let positive = savings.iter().filter(|v| **v > tie_within.micros()).count() as u64;
    SavingsStats {
        mean: mean_micros(&savings),
        stderr: stderr_micros(&savings),
        p5: Money::from_micros(p5),
        p95: Money::from_micros(p95),
        p_positive: ratio(i128::from(positive), paths.len() as i128),
    }
}

/// The month-end part of [`MeasureStats`].
struct MonthStats {
    break_even_month: Option<u32>,
    fan: Vec<[Money; 3]>,
    cumulative_sums_micros: Vec<i128>,
}

/// Strategy `s`'s cumulative cost at each month end over the paths, and its break-even month
/// against the baseline (see [`break_even_month`]).
fn month_stats(run: &Simulated, s: usize, baseline: usize, m: Measure) -> MonthStats {
    let sums = |strategy: usize| -> Vec<i128> {
        run.months[strategy][m.index()]
            .iter()
            .map(|c| c.sum_micros)
            .collect()
    };
    let cumulative_sums_micros = sums(s);
    let break_even_month = if s == baseline {
        None
    } else {
        break_even_month(&cumulative_sums_micros, &sums(baseline))
    };
    MonthStats {
        break_even_month,
        fan: run.months[s][m.index()].iter().map(|c| c.fan).collect(),
        cumulative_sums_micros,
    }
}

/// The month (1-based) from which a strategy's mean cumulative cost stays below the
/// baseline's through the horizon's end: the month after the last one in which it is not
/// below. `None` when it is not below at the end. A strategy that dips below early and
/// crosses back (an annual fee read fairly in month 1, then flex costs catching up) has
/// not paid off yet; one that pays more upfront and less later pays off at the last
/// crossing. Sums over the same paths compare as their means do.
fn break_even_month(own: &[i128], baseline: &[i128]) -> Option<u32> {
    assert_eq!(own.len(), baseline.len(), "one sum per month end");
    let last_not_below = own.iter().zip(baseline).rposition(|(o, b)| o >= b);
    match last_not_below {
        None if own.is_empty() => None,
        None => Some(1),
        Some(k) if k + 1 == own.len() => None,
        Some(k) => Some(k as u32 + 2),
    }
}

/// Statistics per strategy over all paths.
pub fn summarise(
    case: &Case,
    config: SimConfig,
    comparison: Comparison,
    run: &Simulated,
) -> Summary {
    let paths = &run.paths;
    let baseline = comparison.baseline;
    assert!(!paths.is_empty(), "at least one path");
    // Strategies (and their two measures) are independent: summarise them in parallel, on
    // the run's own thread count, and collect in strategy order.
    let strategies = in_pool(config.threads, || {
        case.strategies
            .par_iter()
            .enumerate()
            .map(|(s, strategy)| {
                let purchased: i128 = paths
                    .iter()
                    .map(|p| i128::from(p.strategies[s].prepaid_purchased.micros()))
                    .sum();
                let consumed: i128 = paths
                    .iter()
                    .map(|p| i128::from(p.strategies[s].prepaid_consumed.micros()))
                    .sum();
                let blocked: Vec<i64> = paths
                    .iter()
                    .map(|p| p.strategies[s].blocked.micros())
                    .collect();
                let any_blocked = blocked.iter().filter(|b| **b > 0).count() as u64;
                let (cash, economic) = rayon::join(
                    || measure_stats(run, s, comparison, Measure::Cash),
                    || measure_stats(run, s, comparison, Measure::Economic),
                );
                StrategyStats {
                    name: strategy.name.clone(),
                    cash,
                    economic,
                    prepaid_utilisation: (purchased > 0).then(|| ratio(consumed, purchased)),
                    blocked_mean: mean_micros(&blocked),
                    p_blocked: ratio(i128::from(any_blocked), paths.len() as i128),
                }
            })
            .collect()
    });
    let demanded: Vec<i64> = paths.iter().map(|p| p.demanded.micros()).collect();
    Summary {
        paths: paths.len() as u32,
        seed: config.seed,
        baseline,
        tie_within: comparison.tie_within,
        strategies,
        demanded_mean: mean_micros(&demanded),
        clamped_days: paths.iter().map(|p| u64::from(p.clamped_days)).sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        // 1..=10: P5 -> rank ceil(0.5) = 1 -> 1; P50 -> rank 5 -> 5; P90 -> 9; P95 -> rank 10.
        let v: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&v, 5), 1);
        assert_eq!(percentile(&v, 50), 5);
        assert_eq!(percentile(&v, 90), 9);
        assert_eq!(percentile(&v, 95), 10);
    }

    #[test]
    fn mean_and_cvar_of_micro_values() {
        // Costs 1.00 .. 20.00: mean 10.50; the worst 5% of 20 paths is 1 path: 20.00.
        let v: Vec<i64> = (1..=20).map(|x| x * 1_000_000).collect();
        let s = cost_stats(&v);
        assert_eq!(s.mean, Decimal::new(105_000, 4));
        assert_eq!(s.cvar95, Decimal::new(200_000, 4));
        // Sample sd of 1..20 = sqrt(35) = 5.9161; se = 5.9161 / sqrt(20) = 1.3229.
        assert_eq!(s.stderr, Decimal::new(13_229, 4));
    }

    fn strategy_path(cost_units: i64, blocked_credits: i64) -> StrategyPath {
        let cost = Money::from_micros(cost_units * 1_000_000);
        StrategyPath {
            cash: cost,
            economic: cost,
            blocked: Credits::from_micros(blocked_credits * 1_000_000),
            prepaid_purchased: Credits::ZERO,
            prepaid_consumed: Credits::ZERO,
            unused_prepaid_value: Money::ZERO,
            unexpired_fee_value: Money::ZERO,
        }
    }

    /// A run of `paths` whose only month end is each strategy's total.
    fn run_of(paths: Vec<PathResult>) -> Simulated {
        let rows: Vec<i64> = paths
            .iter()
            .flat_map(|p| p.strategies.iter())
            .flat_map(|s| [s.cash.micros(), s.economic.micros()])
            .collect();
        run_with_months(paths, 1, &rows)
    }

    /// A run of `paths` with month-end costs `rows` (each path's, laid out by
    /// [`Shape::column`]), summed and selected by the run's own code.
    fn run_with_months(paths: Vec<PathResult>, months: usize, rows: &[i64]) -> Simulated {
        let shape = Shape {
            strategies: paths[0].strategies.len(),
            months,
        };
        let mut costs = MonthCosts::new(shape, paths.len(), usize::MAX).unwrap();
        costs.push_block(rows).unwrap();
        Simulated {
            months: month_columns(&costs).unwrap(),
            paths,
        }
    }

    #[test]
    fn a_strategy_that_refuses_usage_is_never_the_cheapest() {
        // Path 0: A costs 10 and serves everything; B costs 5 because it refused 3 credits:
        // A is the cheapest. Path 1: both cost 10 and serve everything: they share it.
        // A: (1 + 0.5) / 2 = 0.75; B: 0.5 / 2 = 0.25.
        let paths = vec![
            PathResult {
                strategies: vec![strategy_path(10, 0), strategy_path(5, 3)],
                demanded: Credits::ZERO,
                clamped_days: 0,
            },
            PathResult {
                strategies: vec![strategy_path(10, 0), strategy_path(10, 0)],
                demanded: Credits::ZERO,
                clamped_days: 0,
            },
        ];
        let run = run_of(paths);
        let a = measure_stats(&run, 0, Comparison::exact(0), Measure::Cash);
        let b = measure_stats(&run, 1, Comparison::exact(0), Measure::Cash);
        assert_eq!(a.p_cheapest, Decimal::new(7_500, 4));
        assert_eq!(b.p_cheapest, Decimal::new(2_500, 4));
        // Savings still say what was paid: B paid 5 less on path 0.
        assert_eq!(b.savings.mean, Decimal::new(25_000, 4));
    }

    #[test]
    fn costs_within_tie_within_share_the_path() {
        // tie_within 0.50, baseline C.
        // Path 0: A 10, B 10.50, C 12: A and B tie (B - min = 0.50), C does not.
        // Path 1: A 10, B 10, C 10.40: all three tie, 1/3 each (333,333 millionths).
        // A: (500,000 + 333,333) / 2,000,000 = 0.4166665 -> 0.4167 (half up).
        // C: 333,333 / 2,000,000 = 0.1666665 -> 0.1667.
        // A saves 2.00 (> 0.50) on path 0 and 0.40 (a tie) on path 1: P(saves) = 0.5.
        let cents = |c: i64| {
            let mut x = strategy_path(0, 0);
            x.cash = Money::from_micros(c * 10_000);
            x
        };
        let paths = vec![
            PathResult {
                strategies: vec![cents(1000), cents(1050), cents(1200)],
                demanded: Credits::ZERO,
                clamped_days: 0,
            },
            PathResult {
                strategies: vec![cents(1000), cents(1000), cents(1040)],
                demanded: Credits::ZERO,
                clamped_days: 0,
            },
        ];
        let comparison = Comparison {
            baseline: 2,
            tie_within: Money::from_micros(500_000),
        };
        let run = run_of(paths);
        let a = measure_stats(&run, 0, comparison, Measure::Cash);
        let c = measure_stats(&run, 2, comparison, Measure::Cash);
        assert_eq!(a.p_cheapest, Decimal::new(4_167, 4));
        assert_eq!(c.p_cheapest, Decimal::new(1_667, 4));
        assert_eq!(a.savings.p_positive, Decimal::new(5_000, 4));
    }

    #[test]
    fn break_even_is_the_month_from_which_the_cost_stays_below_the_baseline() {
        let units = |v: &[i128]| v.iter().map(|u| u * 1_000_000).collect::<Vec<_>>();
        let baseline = units(&[10, 20, 30, 40, 50, 60]);
        // Month:    1   2   3   4   5   6
        // baseline 10  20  30  40  50  60
        // upfront   5  25  30  35  40  45
        // Below in month 1 (5 < 10, a dip), not in month 2 (25 >= 20) nor in month 3
        // (30 = 30 is not below), below from month 4 to the end: month 4, not month 1.
        let upfront = units(&[5, 25, 30, 35, 40, 45]);
        assert_eq!(break_even_month(&upfront, &baseline), Some(4));
        // Below in months 1-5, not at the end (61 >= 60): it never pays off.
        let late = units(&[1, 2, 3, 4, 5, 61]);
        assert_eq!(break_even_month(&late, &baseline), None);
        // Equal at the end (60 = 60): never.
        let equal = units(&[1, 2, 3, 4, 5, 60]);
        assert_eq!(break_even_month(&equal, &baseline), None);
        // Below every month: month 1.
        let always = units(&[9, 19, 29, 39, 49, 59]);
        assert_eq!(break_even_month(&always, &baseline), Some(1));
        // Above until month 5, below in month 6 only: month 6.
        let last = units(&[11, 21, 31, 41, 51, 59]);
        assert_eq!(break_even_month(&last, &baseline), Some(6));
    }

    #[test]
    fn break_even_month_compares_the_means_over_the_paths() {
        // Baseline on both paths: 10, 20, 30. Upfront: path 0 4, 26, 20; path 1 6, 24, 30.
        // Upfront's means: (4+6)/2 = 5, (26+24)/2 = 25, (20+30)/2 = 25 against 10, 20, 30:
        // below, above, below. The first month below is 1, but the cost crosses back in
        // month 2: break-even month 3.
        let path = || PathResult {
            strategies: vec![strategy_path(30, 0), strategy_path(0, 0)],
            demanded: Credits::ZERO,
            clamped_days: 0,
        };
        // Per path: baseline cash months 1-3, its economic cost (unused here), then upfront's.
        let rows: Vec<i64> = [
            [10, 20, 30, 0, 0, 0, 4, 26, 20, 0, 0, 0],
            [10, 20, 30, 0, 0, 0, 6, 24, 30, 0, 0, 0],
        ]
        .iter()
        .flatten()
        .map(|u| u * 1_000_000)
        .collect();
        let run = run_with_months(vec![path(), path()], 3, &rows);
        let upfront = measure_stats(&run, 1, Comparison::exact(0), Measure::Cash);
        assert_eq!(upfront.break_even_month, Some(3));
        // The fan of two paths: P10 and P50 are the lower, P90 the higher.
        let m = |u: i64| Money::from_micros(u * 1_000_000);
        assert_eq!(
            upfront.fan,
            vec![
                [m(4), m(4), m(6)],
                [m(24), m(24), m(26)],
                [m(20), m(20), m(30)]
            ]
        );
        assert_eq!(
            upfront.cumulative_sums_micros,
            vec![10_000_000, 50_000_000, 50_000_000]
        );
        let baseline = measure_stats(&run, 0, Comparison::exact(0), Measure::Cash);
        assert_eq!(baseline.break_even_month, None);
    }

    #[test]
    fn month_ends_clip_to_the_horizon() {
        let d = |m, day| {
            crate::model::calendar::midnight(chrono::NaiveDate::from_ymd_opt(2026, m, day).unwrap())
        };
        assert_eq!(
            month_ends(d(1, 31), d(4, 15)),
            vec![d(2, 28), d(3, 31), d(4, 15)]
        );
    }

    proptest::proptest! {
        #[test]
        fn selected_percentiles_are_the_sorted_ones(
            mut values in proptest::collection::vec(-1_000i64..1_000, 1..300),
            mut q in proptest::collection::vec(1u32..=100, 1..6),
        ) {
            // Ties among the values and among the ranks (several percentiles at one index
            // when there are few values) included.
            q.sort_unstable();
            let mut sorted = values.clone();
            sorted.sort_unstable();
            let expected: Vec<i64> = q.iter().map(|q| percentile(&sorted, *q)).collect();
            let selected: Vec<i64> = match q[..] {
                [a] => percentiles_unsorted(&mut values, [a]).to_vec(),
                [a, b] => percentiles_unsorted(&mut values, [a, b]).to_vec(),
                [a, b, c] => percentiles_unsorted(&mut values, [a, b, c]).to_vec(),
                [a, b, c, d] => percentiles_unsorted(&mut values, [a, b, c, d]).to_vec(),
                [a, b, c, d, e] => percentiles_unsorted(&mut values, [a, b, c, d, e]).to_vec(),
                _ => unreachable!("1 to 5 percentiles"),
            };
            proptest::prop_assert_eq!(selected, expected);
        }

        /// The cost statistics selected in place are those of the sorted values: every
        /// percentile at its nearest rank, the CVaR the mean of the sorted tail (the worst
        /// ceil(n / 20) values), mean and standard error of the values as given.
        #[test]
        fn cost_stats_are_those_of_the_sorted_values(
            // Quarter units: ties, and differences the statistics' 4 decimals show.
            values in proptest::collection::vec(
                proptest::strategy::Strategy::prop_map(-50i64..50, |v| v * 250_000),
                1..400,
            ),
        ) {
            let mut sorted = values.clone();
            sorted.sort_unstable();
            let tail = sorted.len().div_ceil(20);
            let at = |q| Money::from_micros(percentile(&sorted, q));
            let s = cost_stats(&values);
            proptest::prop_assert_eq!(
                [s.p5, s.p50, s.p90, s.p95, s.p99],
                [at(5), at(50), at(90), at(95), at(99)]
            );
            proptest::prop_assert_eq!(s.cvar95, mean_micros(&sorted[sorted.len() - tail..]));
            proptest::prop_assert_eq!(s.mean, mean_micros(&values));
            proptest::prop_assert_eq!(s.stderr, stderr_micros(&values));
        }
    }
}
