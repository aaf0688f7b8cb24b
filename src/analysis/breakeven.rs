//! Break-even under steady usage: for every level of usage in a range, what each choice costs,
//! and every level where the cheapest choice changes, found exactly on the ledger.
//!
//! **Steady usage.** A level `u` is an amount per month: credits, or a metric's quantity in
//! its own unit ([`Unit::Metric`]). Every billing month of the horizon (from the workspace's
//! anchor, by the ledger's month arithmetic) receives exactly `u`, as one usage event per day
//! of that month at the anchor's time of day, split as evenly as whole millionths allow (the
//! remainder's millionths go to the first days). A metric's daily quantity is turned into
//! credits exactly as a usage CSV row is (the rate in force that day, rounded once by the
//! book's rounding). A last month cut short by the horizon gets the days it has. Nothing
//! here is a float: levels are integer millionths and costs come from the ledger.
//!
//! **Choices** ([`choices`]): every strategy of the case as written; every plan of the book
//! (each plan is a plan and cycle) from the start, flex on and uncapped, no bundles; and for
//! every bundle of the workspace's cohort, on the workspace's plan with flex uncapped, "top up
//! with this bundle when the prepaid balance runs out". The top-up is the existing top-up
//! rule with its threshold at the largest day of usage at the level: the balance never drops
//! below one day's usage, so no day spills into flex. It therefore keeps one bundle in hand
//! from the start, even while included credits last; economic cost credits back what is left
//! unused at the horizon's end, cash does not. Book choices are uncapped so that none refuses
//! usage and all compare; a scenario strategy with a cap may refuse usage, and then the one
//! ranking applies ([`crate::analysis::ranking`]): at each level only the choices refusing
//! the least usage compete. A wallet cohort (open amounts, no bundles) adds no top-up choices.
//!
//! **Cost** of a choice at a level is its total over the horizon, in cash and in economic
//! cost, each with its own envelope (the cheapest choice at each level).
//!
//! **Crossings.** A grid of levels over `[from, to]` is evaluated first (in parallel, over
//! levels and choices: every replay is independent, so results never depend on the thread
//! count). Each grid interval is then walked from the left: when the choice cheapest at the
//! left end is provably among the cheapest all the way to the right end (it costs there no
//! more than any other costs at the left end, [`settled`]), the interval is done; otherwise it
//! is halved on whole steps and each half walked in turn, down to single steps, where the
//! level at which the cheapest choice stops being cheapest is a crossing and the new cheapest
//! carries on. This is a bisection where there is one change, finds several changes between
//! the same two grid points (even a change and its reversal), and evaluates level by level
//! only where the envelope is contested. The proof assumes each choice's cost and refused
//! usage never fall as usage grows: true of plans, bundles and top-ups; a scenario strategy
//! whose cost can fall with more usage (an upgrade rule firing earlier) could hide a dip
//! between two levels evaluated. A tie is not a change: the choice that was cheapest stays
//! cheapest while it ties, and among choices newly tied for cheapest the one listed first
//! wins (scenario strategies, then plans in book order, then bundles in catalog order).
//! Near a crossing, rounding to the cent (each flex invoice, the unused prepaid value) can make
//! two choices trade places more than once within a few units of a fine metric
//! (milliseconds): each change is reported, as the ledger computes it.

use crate::analysis::case::Case;
use crate::analysis::montecarlo::Measure;
use crate::analysis::ranking::{rank, Contender};
use crate::analysis::worst_case::{self, Subject};
use crate::engine::ledger::{CapSetting, FlexSetting, Purchase};
use crate::engine::replay::{replay, CreditUsage, ReplayError};
use crate::engine::strategy::{Strategy, TopUp};
use crate::model::amounts::{Credits, Money, CREDITS_MAX};
use crate::model::calendar::{add_days, add_months, Instant};
use crate::model::pricing::{MetricId, PlanId, RateError};
use crate::model::text::grouped;
use rayon::prelude::*;
use rust_decimal::Decimal;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Levels evaluated before bisecting (128 intervals).
pub const GRID_POINTS_DEFAULT: usize = 129;
/// Fewest and most grid points a sweep may ask for.
pub const GRID_POINTS_MIN: usize = 2;
pub const GRID_POINTS_MAX: usize = 4_097;
/// Millionths in one unit (a credit, or one unit of a metric).
pub const UNIT_MICROS: i64 = 1_000_000;

/// What a level counts per month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Credits,
    /// The metric's quantity, in its own unit, converted through the rate card.
    Metric(MetricId),
}

/// The range swept and how finely. Levels are millionths of the unit per month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sweep {
    pub unit: Unit,
    pub from_micros: i64,
    pub to_micros: i64,
    /// Crossings are pinned to one step (default: one unit); `from` and `to` are multiples.
    pub step_micros: i64,
    pub grid_points: usize,
}

/// Where a choice comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The case's strategy with this index.
    Scenario(usize),
    /// This plan from the start, flex uncapped, no bundles.
    Plan(PlanId),
    /// The workspace's plan, flex uncapped, topping up with this bundle of the cohort.
    TopUp(usize),
}

/// One way of paying that the sweep compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub name: String,
    pub origin: Origin,
    /// For a top-up, the threshold is set per level ([`Choice::strategy_for`]).
    pub strategy: Strategy,
}

impl Choice {
    /// The strategy replayed at a level whose largest day of usage is `largest_day`.
    pub fn strategy_for(&self, largest_day: Credits) -> Cow<'_, Strategy> {
        match (self.origin, self.strategy.top_up) {
            (Origin::TopUp(_), Some(t)) => {
                let mut s = self.strategy.clone();
                s.top_up = Some(TopUp {
                    below_credits: largest_day,
                    purchase: t.purchase,
                });
                Cow::Owned(s)
            }
            _ => Cow::Borrowed(&self.strategy),
        }
    }
}

/// What a choice cost at one level over the whole horizon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cost {
    pub cash: Money,
    pub economic: Money,
    /// Usage it refused (a cap or flex switched off).
    pub refused: Credits,
}

impl Cost {
    pub fn of(&self, m: Measure) -> Money {
        match m {
            Measure::Cash => self.cash,
            Measure::Economic => self.economic,
        }
    }
}

/// A level from which `to` is the cheapest choice, where `from` was until one step below.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crossing {
    pub level_micros: i64,
    pub from: usize,
    pub to: usize,
    /// Costs of `from` and of `to` one step below the level, in the envelope's measure.
    pub below: (Money, Money),
    /// Costs of `from` and of `to` at the level.
    pub at: (Money, Money),
}

/// The cheapest choice across the range in one measure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub measure: Measure,
    /// The cheapest choice at `from`.
    pub first: usize,
    pub crossings: Vec<Crossing>,
}

impl Envelope {
    /// The cheapest choice at `level` (a level evaluated or not): the last crossing at or below.
    pub fn cheapest_at(&self, level_micros: i64) -> usize {
        self.crossings
            .iter()
            .take_while(|c| c.level_micros <= level_micros)
            .last()
            .map_or(self.first, |c| c.to)
    }
}

/// The result of a sweep.
#[derive(Debug, Clone)]
pub struct Breakeven {
    pub sweep: Sweep,
    /// Billing months that start in the horizon: a level's cost per month is its total / months.
    pub months: u32,
    pub choices: Vec<Choice>,
    /// Economic cost, then cash.
    pub envelopes: Vec<Envelope>,
    /// Every level evaluated (the grid and the bisections), ascending, with each choice's cost.
    pub evaluated: Vec<(i64, Vec<Cost>)>,
}

impl Breakeven {
    pub fn envelope(&self, m: Measure) -> &Envelope {
        self.envelopes
            .iter()
            .find(|e| e.measure == m)
            .expect("both measures are swept")
    }

    pub fn costs_at(&self, level_micros: i64) -> Option<&[Cost]> {
        let i = self
            .evaluated
            .binary_search_by_key(&level_micros, |(l, _)| *l)
            .ok()?;
        Some(&self.evaluated[i].1)
    }
}

/// Why a sweep could not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SweepError {
    /// The range or step asked for is not a range.
    #[error("{0}")]
    Range(String),
    /// The usage at the top of the range could pass an amount limit.
    #[error("{0}")]
    Limit(String),
    #[error("{0}")]
    Rate(#[from] RateError),
    #[error("at {level} a month: {error}")]
    Replay { level: String, error: ReplayError },
}

/// The choices compared for `case`, in the order that breaks ties.
pub fn choices(case: &Case) -> Vec<Choice> {
    let uncapped = FlexSetting {
        enabled: true,
        cap: CapSetting::Uncapped,
    };
    let mut out: Vec<Choice> = case
        .strategies
        .iter()
        .enumerate()
        .map(|(i, s)| Choice {
            name: s.name.clone(),
            origin: Origin::Scenario(i),
            strategy: s.clone(),
        })
        .collect();
    for (i, plan) in case.book.plans.iter().enumerate() {
        let mut s = Strategy::pay_as_you_go(&plan.id, uncapped);
        s.start_plan = Some(PlanId(i));
        push_unique(&mut out, s, Origin::Plan(PlanId(i)));
    }
    for (i, bundle) in case.cohort().bundles.iter().enumerate() {
        let mut s = Strategy::pay_as_you_go(&format!("top up {}", bundle.id), uncapped);
        s.top_up = Some(TopUp {
            below_credits: Credits::ZERO,
            purchase: Purchase::Bundle(i),
        });
        push_unique(&mut out, s, Origin::TopUp(i));
    }
    out
}

/// Adds a book choice, its name marked "(book)" when a scenario strategy already has it.
fn push_unique(out: &mut Vec<Choice>, mut strategy: Strategy, origin: Origin) {
    while out.iter().any(|c| c.name == strategy.name) {
        strategy.name.push_str(" (book)");
    }
    out.push(Choice {
        name: strategy.name.clone(),
        origin,
        strategy,
    });
}

/// Billing months that start before the horizon's end, from the anchor.
pub fn months(case: &Case) -> u32 {
    let mut n = 0;
    while add_months(case.workspace.anchor, n) < case.horizon.end {
        n += 1;
    }
    n
}

/// `amount` millionths split over `days` as evenly as whole millionths allow, the remainder
/// to the first days.
pub fn split_evenly(amount: i64, days: u32) -> impl Iterator<Item = i64> {
    assert!(amount >= 0 && days > 0);
    let (base, extra) = (amount / i64::from(days), amount % i64::from(days));
    (0..i64::from(days)).map(move |d| base + i64::from(d < extra))
}

/// The usage of `level_micros` a month, steady over the horizon (see the module's doc).
pub fn steady_usage(
    case: &Case,
    unit: Unit,
    level_micros: i64,
) -> Result<Vec<CreditUsage>, RateError> {
    let (anchor, end) = (case.workspace.anchor, case.horizon.end);
    let book = &case.book;
    let mut usage = Vec::new();
    for k in 0..months(case) {
        let start = add_months(anchor, k);
        let days = (add_months(anchor, k + 1) - start).num_days() as u32;
        for (d, amount) in split_evenly(level_micros, days).enumerate() {
            let at: Instant = add_days(start, d as u32);
            if at >= end {
                break;
            }
            let credits = match unit {
                Unit::Credits => Credits::from_micros(amount),
                Unit::Metric(m) => {
                    book.rates
                        .credits(m, at, Decimal::new(amount, 6), book.rounding)?
                }
            };
            if !credits.is_zero() {
                usage.push(CreditUsage { at, credits });
            }
        }
    }
    Ok(usage)
}

/// Each choice's cost on `usage`, in the choices' order; the first error in that order.
fn costs_on(
    case: &Case,
    choices: &[Choice],
    usage: &[CreditUsage],
) -> Result<Vec<Cost>, ReplayError> {
    let largest_day = usage
        .iter()
        .map(|u| u.credits)
        .max()
        .unwrap_or(Credits::ZERO);
    let results: Vec<Result<Cost, ReplayError>> = choices
        .par_iter()
        .map(|c| {
            let strategy = c.strategy_for(largest_day);
            let o = replay(
                &case.book,
                case.workspace,
                case.horizon.end,
                usage,
                &strategy,
            )?;
            Ok(Cost {
                cash: o.totals.cash(),
                economic: o.totals.economic_cost(),
                refused: o.totals.credits.blocked,
            })
        })
        .collect();
    results.into_iter().collect()
}

/// Each choice's cost at one steady level (a point off the sweep's grid: a customer's low or
/// high end), by the same replay as the sweep.
pub fn costs_at_level(
    case: &Case,
    choices: &[Choice],
    unit: Unit,
    level_micros: i64,
) -> Result<Vec<Cost>, SweepError> {
    let usage = steady_usage(case, unit, level_micros)?;
    costs_on(case, choices, &usage).map_err(|error| SweepError::Replay {
        level: level_text(case, unit, level_micros),
        error,
    })
}

/// A level for people: "64 credits", "1,920 gpu_training_minutes".
pub fn level_text(case: &Case, unit: Unit, level_micros: i64) -> String {
    format!("{} {}", level_number(level_micros), unit_name(case, unit))
}

/// A level as a grouped decimal without trailing zeros: "1,920", "63.5".
pub fn level_number(level_micros: i64) -> String {
    grouped(Decimal::new(level_micros, 6).normalize())
}

pub fn unit_name(case: &Case, unit: Unit) -> String {
    match unit {
        Unit::Credits => "credits".to_string(),
        Unit::Metric(m) => case.book.rates.metrics[m.0].name.clone(),
    }
}

/// The default top of the range, millionths of the unit: four times the larger of the most
/// included credits any plan grants per month (for the workspace's seats) and the scenario's
/// own mean monthly usage (`usage_per_month`, credits), so every plan's included credits and
/// the customer's own level are well inside it; 100 credits when both are zero. For a metric,
/// that many credits in the metric's unit at the rate in force at the anchor, rounded up to a
/// whole unit. Rounded up to a multiple of `step_micros`.
pub fn default_to(
    case: &Case,
    unit: Unit,
    usage_per_month: Credits,
    step_micros: i64,
) -> Result<i64, SweepError> {
    assert!(step_micros > 0);
    let seats = case.workspace.seats;
    let included = case
        .book
        .plans
        .iter()
        .map(|p| {
            let each = p.included_for(seats).map_or(0, |c| c.micros());
            i128::from(each) / i128::from(p.cycle.months())
        })
        .max()
        .unwrap_or(0);
    let credits = match 4 * included.max(i128::from(usage_per_month.micros())) {
        0 => 100 * i128::from(UNIT_MICROS),
        c => c,
    };
    let units = match unit {
        Unit::Credits => credits,
        Unit::Metric(m) => {
            let rate = case.book.rates.version(m, case.workspace.anchor)?;
            let c = Decimal::from_i128_with_scale(credits, 6);
            let units = (c * rate.per / rate.credits).ceil();
            let units: i128 = units.try_into().unwrap_or(i128::MAX / 4);
            units.saturating_mul(i128::from(UNIT_MICROS))
        }
    };
    let step = i128::from(step_micros);
    let whole = units.div_euclid(step) + i128::from(units.rem_euclid(step) != 0);
    i64::try_from(whole * step).map_err(|_| {
        SweepError::Limit("the default range is past every amount limit: give --to".to_string())
    })
}

/// The default sweep of `case`: from zero to [`default_to`] (with the scenario's own mean
/// monthly usage, `usage_total_micros` credits over the horizon), one unit a step, on
/// [`GRID_POINTS_DEFAULT`] grid points.
pub fn default_sweep(
    case: &Case,
    unit: Unit,
    usage_total_micros: i128,
) -> Result<Sweep, SweepError> {
    let mean = usage_total_micros / i128::from(months(case).max(1));
    let mean = Credits::from_micros(i64::try_from(mean).unwrap_or(CREDITS_MAX.micros()));
    Ok(Sweep {
        unit,
        from_micros: 0,
        to_micros: default_to(case, unit, mean, UNIT_MICROS)?,
        step_micros: UNIT_MICROS,
        grid_points: GRID_POINTS_DEFAULT,
    })
}

/// Refuses a range that is not one, or whose top could pass an amount limit, before anything
/// is replayed: the usage at `to` (the most at every level, since the split never lowers a
/// day as the level grows) and every choice's worst case on it (`analysis::worst_case`).
fn check_range(case: &Case, choices: &[Choice], sweep: &Sweep) -> Result<(), SweepError> {
    let (from, to, step) = (sweep.from_micros, sweep.to_micros, sweep.step_micros);
    let text = |l| level_text(case, sweep.unit, l);
    if step <= 0 {
        return Err(SweepError::Range("the step must be above zero".into()));
    }
    if from < 0 || from > to {
        return Err(SweepError::Range(format!(
            "the range must go up from zero or more: from {} to {}",
            text(from),
            text(to)
        )));
    }
    if from % step != 0 || to % step != 0 {
        return Err(SweepError::Range(format!(
            "the range's ends must be multiples of the step ({})",
            level_number(step)
        )));
    }
    if !(GRID_POINTS_MIN..=GRID_POINTS_MAX).contains(&sweep.grid_points) {
        return Err(SweepError::Range(format!(
            "the grid must have {GRID_POINTS_MIN}-{GRID_POINTS_MAX} points"
        )));
    }
    let usage = steady_usage(case, sweep.unit, to)?;
    let total: i128 = usage.iter().map(|u| i128::from(u.credits.micros())).sum();
    let months = months(case);
    if total > i128::from(CREDITS_MAX.micros()) {
        return Err(SweepError::Limit(format!(
            "{} a month over {months} months is {} credits of usage, above the limit of {} credits",
            text(to),
            grouped(Decimal::from_i128_with_scale(total, 6)),
            grouped(CREDITS_MAX.to_decimal())
        )));
    }
    let strategies: Vec<Strategy> = choices.iter().map(|c| c.strategy.clone()).collect();
    let subject = Subject {
        strategies: &strategies,
        ..Subject::of(case)
    };
    worst_case::check(subject, Some(Credits::from_micros(total as i64)))
        .map_err(|b| SweepError::Limit(format!("at {} a month: {}", text(to), b.message)))
}

/// The grid's levels: `points` spread evenly over `[from, to]` on whole steps, ascending,
/// without repeats.
pub fn grid(sweep: &Sweep) -> Vec<i64> {
    let step = i128::from(sweep.step_micros);
    let (lo, hi) = (
        i128::from(sweep.from_micros) / step,
        i128::from(sweep.to_micros) / step,
    );
    let n = sweep.grid_points as i128 - 1;
    let mut out: Vec<i64> = (0..=n)
        .map(|i| ((lo + (hi - lo) * i / n) * step) as i64)
        .collect();
    out.dedup();
    out
}

/// Whether choice `i` is among the cheapest in `m` at a level: it refuses no more than any
/// other, and no choice refusing as little costs less.
pub fn among_cheapest(costs: &[Cost], m: Measure, i: usize) -> bool {
    let least = costs.iter().map(|c| c.refused).min().expect("a choice");
    costs[i].refused == least
        && costs
            .iter()
            .filter(|c| c.refused == least)
            .all(|c| c.of(m) >= costs[i].of(m))
}

/// The cheapest choice in `m` by the one ranking (ties: listed first).
pub fn cheapest(costs: &[Cost], m: Measure) -> usize {
    let contenders: Vec<Contender> = costs
        .iter()
        .map(|c| Contender {
            refused: c.refused,
            cost: c.of(m),
        })
        .collect();
    rank(&contenders).cheapest()
}

/// Evaluated levels, and how to evaluate more: the replay, or a test's cost function.
struct Levels<F> {
    cache: BTreeMap<i64, Vec<Cost>>,
    evaluate: F,
}

impl<F: Fn(&[i64]) -> Result<Vec<Vec<Cost>>, SweepError>> Levels<F> {
    fn fill(&mut self, levels: &[i64]) -> Result<(), SweepError> {
        let missing: Vec<i64> = levels
            .iter()
            .copied()
            .filter(|l| !self.cache.contains_key(l))
            .collect();
        let costs = (self.evaluate)(&missing)?;
        self.cache.extend(missing.into_iter().zip(costs));
        Ok(())
    }

    fn at(&mut self, level: i64) -> Result<&[Cost], SweepError> {
        self.fill(&[level])?;
        Ok(&self.cache[&level])
    }

    /// The crossing at `level`: `from` stopped being among the cheapest there.
    fn crossing(
        &mut self,
        m: Measure,
        level: i64,
        step: i64,
        from: usize,
    ) -> Result<Crossing, SweepError> {
        let costs = self.at(level)?;
        let to = cheapest(costs, m);
        let at = (costs[from].of(m), costs[to].of(m));
        let below = self.at(level - step)?;
        Ok(Crossing {
            level_micros: level,
            from,
            to,
            below: (below[from].of(m), below[to].of(m)),
            at,
        })
    }

    /// The envelope in `m` over `grid` (evaluated): each grid interval is walked from its
    /// left end, where the current cheapest choice is known.
    fn envelope(&mut self, m: Measure, grid: &[i64], step: i64) -> Result<Envelope, SweepError> {
        let first = cheapest(self.at(grid[0])?, m);
        let mut walk = Walk {
            measure: m,
            step,
            current: first,
            crossings: Vec::new(),
        };
        for pair in grid.windows(2) {
            walk.interval(self, pair[0], pair[1])?;
        }
        Ok(Envelope {
            measure: m,
            first,
            crossings: walk.crossings,
        })
    }
}

/// The state of walking one measure's envelope from left to right.
struct Walk {
    measure: Measure,
    step: i64,
    /// The cheapest choice at the left end of the interval being walked.
    current: usize,
    crossings: Vec<Crossing>,
}

impl Walk {
    /// Walks `(left, right]`, `current` being among the cheapest at `left`: records every
    /// level where it stops being so, in order. An interval of one step is decided by its
    /// right end. A longer one is settled whole when [`settled`] proves `current` stays
    /// among the cheapest throughout; else it is halved and each half walked in turn (a
    /// bisection when there is one change, a finer search where the envelope is contested),
    /// so two changes between the same two grid points are found like one.
    fn interval<F>(
        &mut self,
        levels: &mut Levels<F>,
        left: i64,
        right: i64,
    ) -> Result<(), SweepError>
    where
        F: Fn(&[i64]) -> Result<Vec<Vec<Cost>>, SweepError>,
    {
        if right - left <= self.step {
            if !among_cheapest(levels.at(right)?, self.measure, self.current) {
                let c = levels.crossing(self.measure, right, self.step, self.current)?;
                self.current = c.to;
                self.crossings.push(c);
            }
            return Ok(());
        }
        let right_costs = levels.at(right)?.to_vec();
        if settled(levels.at(left)?, &right_costs, self.measure, self.current) {
            return Ok(());
        }
        let mid = left + (right - left) / self.step / 2 * self.step;
        self.interval(levels, left, mid)?;
        self.interval(levels, mid, right)
    }
}

/// Whether choice `i` is among the cheapest everywhere between two levels, from their costs
/// alone: it refuses nothing at the right end, and costs there no more than any choice that
/// refuses nothing at the left end costs there. This holds when a choice's cost and refused
/// usage never fall as usage grows, which is so for plans, bundles bought at start and
/// top-ups (more usage only adds flex or bundles); a scenario strategy whose cost can fall
/// (an upgrade rule firing earlier) could hide a dip between two levels evaluated.
pub fn settled(left: &[Cost], right: &[Cost], m: Measure, i: usize) -> bool {
    right[i].refused.is_zero()
        && left
            .iter()
            .enumerate()
            .filter(|(x, c)| *x != i && c.refused.is_zero())
            .all(|(_, c)| right[i].of(m) <= c.of(m))
}

/// Sweeps `case` over `sweep`: every choice's cost at the grid's levels and at every level
/// bisection needed, and the crossings in economic cost and in cash.
pub fn breakeven(case: &Case, sweep: Sweep) -> Result<Breakeven, SweepError> {
    breakeven_among(case, choices(case), sweep)
}

/// [`breakeven`] among `choices` (at least one) instead of [`choices`]`(case)`: a caller
/// that has its own candidates (advice, a test of two plans) sweeps just those.
pub fn breakeven_among(
    case: &Case,
    choices: Vec<Choice>,
    sweep: Sweep,
) -> Result<Breakeven, SweepError> {
    assert!(!choices.is_empty(), "at least one choice to sweep");
    check_range(case, &choices, &sweep)?;
    let evaluate = |levels: &[i64]| -> Result<Vec<Vec<Cost>>, SweepError> {
        let results: Vec<Result<Vec<Cost>, SweepError>> = levels
            .par_iter()
            .map(|&level| costs_at_level(case, &choices, sweep.unit, level))
            .collect();
        // The first error in level order, whatever the thread count.
        results.into_iter().collect()
    };
    let mut levels = Levels {
        cache: BTreeMap::new(),
        evaluate,
    };
    let grid = grid(&sweep);
    levels.fill(&grid)?;
    let envelopes = [Measure::Economic, Measure::Cash]
        .into_iter()
        .map(|m| levels.envelope(m, &grid, sweep.step_micros))
        .collect::<Result<Vec<_>, _>>()?;
    let evaluated = levels.cache.into_iter().collect();
    Ok(Breakeven {
        sweep,
        months: months(case),
        choices,
        envelopes,
        evaluated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const U: i64 = UNIT_MICROS;

    fn cost(units: i64, refused: i64) -> Cost {
        let m = Money::from_micros(units * U);
        Cost {
            cash: m,
            economic: m,
            refused: Credits::from_micros(refused * U),
        }
    }

    /// The cash envelope of cost lines `f(level in units)` over `[0, to]` on a grid of `points`.
    fn walk(f: impl Fn(i64) -> Vec<Cost>, to: i64, points: usize) -> Envelope {
        let sweep = Sweep {
            unit: Unit::Credits,
            from_micros: 0,
            to_micros: to * U,
            step_micros: U,
            grid_points: points,
        };
        let mut levels = Levels {
            cache: BTreeMap::new(),
            evaluate: |ls: &[i64]| Ok(ls.iter().map(|l| f(l / U)).collect()),
        };
        let grid = grid(&sweep);
        levels.fill(&grid).unwrap();
        levels.envelope(Measure::Cash, &grid, U).unwrap()
    }

    fn levels_of(e: &Envelope) -> Vec<(i64, usize, usize)> {
        e.crossings
            .iter()
            .map(|c| (c.level_micros / U, c.from, c.to))
            .collect()
    }

    #[test]
    fn split_gives_the_remainder_to_the_first_days() {
        // 64 credits over 30 days: 2.133333 each, 10 micro-credits left for days 1-10.
        let days: Vec<i64> = split_evenly(64 * U, 30).collect();
        assert_eq!(days[0], 2_133_334);
        assert_eq!(days[9], 2_133_334);
        assert_eq!(days[10], 2_133_333);
        assert_eq!(days.iter().sum::<i64>(), 64 * U);
    }

    #[test]
    fn two_changes_inside_one_grid_interval_are_both_found() {
        // c0 = 3u, c1 = 60 + u, c2 = 100. c0 < c1 while u < 30; at 30 they tie (90) and the
        // cheapest stays c0; at 31 c1 = 91 < 93. c1 < c2 while u < 40, tie at 40 (100); at 41
        // c2 = 100 < 101. The grid is just 0 and 100.
        let f = |u: i64| vec![cost(3 * u, 0), cost(60 + u, 0), cost(100, 0)];
        let e = walk(f, 100, 2);
        assert_eq!(e.first, 0);
        assert_eq!(levels_of(&e), vec![(31, 0, 1), (41, 1, 2)]);
        let c = e.crossings[0];
        // At 30: c0 90, c1 90; at 31: c0 93, c1 91.
        assert_eq!(c.below, (Money::from_units(90), Money::from_units(90)));
        assert_eq!(c.at, (Money::from_units(93), Money::from_units(91)));
        assert_eq!(e.cheapest_at(30 * U), 0);
        assert_eq!(e.cheapest_at(31 * U), 1);
        assert_eq!(e.cheapest_at(100 * U), 2);
    }

    #[test]
    fn a_step_function_crossing_a_line_back_and_forth_is_followed_level_by_level() {
        // c0 = 11u against c1 = 100 x ceil(u / 10), a bundle bought every 10 credits: in
        // (10(k - 1), 10k] c1 is cheaper once 11u > 100k, u > 9.09k. k = 1: u = 10 only; k = 2:
        // 19-20; k = 3: 28-30; k = 4: 37-40. At 0 both are 0: c0, listed first. The grid is just
        // 0 and 40: every change and every reversal between them is found.
        let f = |u: i64| vec![cost(11 * u, 0), cost(100 * ((u + 9) / 10), 0)];
        let e = walk(f, 40, 2);
        assert_eq!(
            levels_of(&e),
            vec![
                (10, 0, 1),
                (11, 1, 0),
                (19, 0, 1),
                (21, 1, 0),
                (28, 0, 1),
                (31, 1, 0),
                (37, 0, 1)
            ]
        );
    }

    #[test]
    fn the_grid_does_not_move_a_crossing() {
        let f = |u: i64| vec![cost(3 * u, 0), cost(60 + u, 0), cost(100, 0)];
        for points in [2, 3, 7, 64, 101] {
            assert_eq!(
                levels_of(&walk(f, 100, points)),
                vec![(31, 0, 1), (41, 1, 2)]
            );
        }
    }

    #[test]
    fn a_new_tie_goes_to_the_choice_listed_first() {
        // c0 = 50 flat; c1 and c2 both 2u. At 0, c1 and c2 tie at 0: c1, listed first, is
        // the cheapest. At 25 all three tie at 50: a tie is not a change, c1 stays. At 26
        // c1 = c2 = 52 > 50: c0 from 26.
        let f = |u: i64| vec![cost(50, 0), cost(2 * u, 0), cost(2 * u, 0)];
        let e = walk(f, 40, 5);
        assert_eq!(e.first, 1);
        assert_eq!(levels_of(&e), vec![(26, 1, 0)]);
    }

    #[test]
    fn a_choice_that_refuses_usage_is_never_the_cheapest() {
        // c0 costs 10 but refuses usage above 20; c1 = 30 flat. From 21 c0 refuses 1+ and
        // is set apart, so c1 is the cheapest although it costs more.
        let f = |u: i64| vec![cost(10, (u - 20).max(0)), cost(30, 0)];
        let e = walk(f, 50, 4);
        assert_eq!(levels_of(&e), vec![(21, 0, 1)]);
    }

    #[test]
    fn grids_stay_on_steps_and_inside_the_range() {
        let sweep = Sweep {
            unit: Unit::Credits,
            from_micros: 3 * U,
            to_micros: 10 * U,
            step_micros: U,
            grid_points: 5,
        };
        // 3 + 7i/4 on whole credits: 3, 4, 6, 8, 10.
        let g: Vec<i64> = grid(&sweep).iter().map(|l| l / U).collect();
        assert_eq!(g, vec![3, 4, 6, 8, 10]);
    }
}
