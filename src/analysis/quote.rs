//! A customer quote's numbers: the advice, the setups a salesperson compares it with, and
//! the exact cost curves a reader moves along.
//!
//! [`quote`] runs [`advise`] and adds what a one-page quote needs:
//! - **the setups shown**: the recommendation, the plan the customer asked about as it is
//!   set up (the case's current strategy), paying as you go (the monthly plan with the
//!   lowest fee for the seats, flex on and uncapped, nothing prepaid: no commitment), and the
//!   other finalists, at most [`SETUPS_MAX`] rows; one setup can play several roles;
//! - **one simulation** of those setups on the advice's paths and seed, so the current setup
//!   and the finalists have the very statistics the advice reports (common random numbers:
//!   path `k` is the same draw whatever else is measured), and pay-as-you-go joins them;
//! - **cost curves**: every setup's exact cost at steady usage from zero to well past the
//!   customer's high end ([`breakeven::breakeven_among`]), with the crossings, which a page
//!   embeds for its slider; and each setup's cost at the low and the high end.

use crate::analysis::advise::{advise, Advice, Constraints, Goal, RaceConfig};
use crate::analysis::breakeven::{self, Breakeven, Choice, Cost, Origin, Sweep, SweepError, Unit};
use crate::analysis::montecarlo::{self, Comparison, SimulateError, Summary};
use crate::analysis::Case;
use crate::engine::ledger::{CapSetting, FlexSetting};
use crate::engine::strategy::Strategy;
use crate::model::amounts::Money;
use crate::model::pricing::{CycleKind, PlanId};
use crate::usage::synthetic::UsageModel;

/// Most setups a quote shows (the recommendation, the asked plan, pay as you go and the
/// alternatives).
pub const SETUPS_MAX: usize = 5;
/// Grid points of the cost curves: the slider's positions.
pub const CURVE_POINTS: usize = 241;
/// The curves run from zero to this many times the customer's high end.
const CURVE_TOP_TIMES_HIGH: i64 = 2;
/// The curves' finest step is set so that the top is at most this many steps.
const CURVE_STEPS_MAX: i64 = 100_000;

/// The customer's usage a month, in credit millionths at the rates in force at the start:
/// the stated low end (P10), what they expect (the median) and the high end (P90).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageLevels {
    pub low_micros: i64,
    pub expected_micros: i64,
    pub high_micros: i64,
}

/// What a setup is in the quote (one setup can be several).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Roles {
    pub recommended: bool,
    /// The plan the customer asked about, as the case sets it up (its current strategy).
    pub asked: bool,
    pub pay_as_you_go: bool,
}

/// One setup the quote shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteSetup {
    pub roles: Roles,
    /// Its row in [`Quote::summary`] and its choice in [`Quote::curves`].
    pub row: usize,
    /// Its candidate in the advice, when it is one (pay as you go may be the quote's own).
    pub candidate: Option<usize>,
    pub strategy: Strategy,
    /// Charged on the first day: the first cycle's fee and the purchases at start.
    pub upfront: Money,
}

#[derive(Debug, Clone)]
pub struct Quote {
    pub advice: Advice,
    /// In the order shown: the recommendation, the asked plan, pay as you go, the others.
    pub setups: Vec<QuoteSetup>,
    /// The advice's current setup and finalists (rows `0..=finalists`, the advice's own
    /// statistics), then pay as you go when it is none of them; savings against row 0.
    pub summary: Summary,
    /// The same rows with savings and payback against paying as you go, when that is not
    /// row 0.
    pub vs_pay_as_you_go: Option<Summary>,
    /// Choice `i` is summary row `i`.
    pub curves: Breakeven,
    pub levels: UsageLevels,
    /// Each summary row's cost at steady usage at the low and the high end.
    pub at_low: Vec<Cost>,
    pub at_high: Vec<Cost>,
}

#[derive(Debug)]
pub enum QuoteError {
    Path(SimulateError),
    Sweep(SweepError),
}

impl std::fmt::Display for QuoteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QuoteError::Path(e) => write!(f, "{e}"),
            QuoteError::Sweep(e) => write!(f, "the cost curves: {e}"),
        }
    }
}

/// Paying as you go: the monthly plan with the lowest fee for the workspace's seats (the
/// first such in the book), flex on and uncapped, nothing prepaid. `None` when the book has
/// no monthly plan.
pub fn pay_as_you_go(case: &Case) -> Option<Strategy> {
    let seats = case.workspace.seats;
    let (i, plan) = case
        .book
        .plans
        .iter()
        .enumerate()
        .filter(|(_, p)| p.cycle == CycleKind::Monthly)
        .filter_map(|(i, p)| p.fee_for(seats).ok().map(|fee| (i, p, fee)))
        .min_by_key(|(i, _, fee)| (*fee, *i))
        .map(|(i, p, _)| (i, p))?;
    let flex = FlexSetting {
        enabled: true,
        cap: CapSetting::Uncapped,
    };
    let mut s = Strategy::pay_as_you_go(&format!("flex only on {}", plan.id), flex);
    s.start_plan = Some(PlanId(i));
    Some(s)
}

/// Whether two strategies bill alike (names aside; a missing start plan is the workspace's).
fn same_setup(case: &Case, a: &Strategy, b: &Strategy) -> bool {
    let plan = |s: &Strategy| s.start_plan.unwrap_or(case.workspace.plan);
    plan(a) == plan(b)
        && Strategy {
            name: String::new(),
            start_plan: None,
            ..a.clone()
        } == Strategy {
            name: String::new(),
            start_plan: None,
            ..b.clone()
        }
}

/// The quote for `case` (its strategy `current` is the plan the customer asked about) on the
/// usage `model`, with the customer's stated `levels`.
pub fn quote(
    case: &Case,
    model: &UsageModel,
    current: usize,
    (goal, constraints): (Goal, Constraints),
    config: RaceConfig,
    levels: UsageLevels,
) -> Result<Quote, QuoteError> {
    let advice =
        advise(case, model, current, goal, constraints, config).map_err(QuoteError::Path)?;
    let mut strategies: Vec<Strategy> = (0..advice.summary.strategies.len())
        .map(|k| {
            advice.candidates[advice.candidate_of_row(k)]
                .strategy
                .clone()
        })
        .collect();
    let payg_row = pay_as_you_go(case).map(|payg| {
        strategies
            .iter()
            .position(|s| same_setup(case, s, &payg))
            .unwrap_or_else(|| {
                strategies.push(payg);
                strategies.len() - 1
            })
    });
    let measured = Case {
        strategies,
        ..case.clone()
    };
    let paths =
        montecarlo::simulate(&measured, model, config.sim, &|_| {}).map_err(QuoteError::Path)?;
    let summary = montecarlo::summarise(&measured, config.sim, Comparison::exact(0), &paths);
    let vs_pay_as_you_go = payg_row
        .filter(|&r| r != 0)
        .map(|r| montecarlo::summarise(&measured, config.sim, Comparison::exact(r), &paths));
    let setups = setups(&measured, &advice, payg_row);
    let choices: Vec<Choice> = (measured.strategies.iter().enumerate())
        .map(|(i, s)| Choice {
            name: s.name.clone(),
            origin: Origin::Scenario(i),
            strategy: s.clone(),
        })
        .collect();
    let sweep = curve_sweep(levels);
    let curves =
        breakeven::breakeven_among(&measured, choices.clone(), sweep).map_err(QuoteError::Sweep)?;
    // Below the sweep's top, whose worst case the sweep checked.
    let at = |l| breakeven::costs_at_level(&measured, &choices, Unit::Credits, l);
    let at_low = at(levels.low_micros).map_err(QuoteError::Sweep)?;
    let at_high = at(levels.high_micros).map_err(QuoteError::Sweep)?;
    Ok(Quote {
        advice,
        setups,
        summary,
        vs_pay_as_you_go,
        curves,
        levels,
        at_low,
        at_high,
    })
}

/// The setups shown, in order: the recommendation, the asked plan (row 0), pay as you go,
/// then the other finalists, at most [`SETUPS_MAX`].
fn setups(measured: &Case, advice: &Advice, payg_row: Option<usize>) -> Vec<QuoteSetup> {
    let recommended = advice.recommended_row();
    let rows = measured.strategies.len();
    let mut order: Vec<usize> = vec![recommended, 0];
    order.extend(payg_row);
    order.extend(1..rows);
    let mut seen = Vec::new();
    order.retain(|r| {
        let new = !seen.contains(r);
        seen.push(*r);
        new
    });
    order.truncate(SETUPS_MAX);
    let finalists = advice.summary.strategies.len();
    order
        .into_iter()
        .map(|row| {
            let candidate = (row < finalists).then(|| advice.candidate_of_row(row));
            let strategy = measured.strategies[row].clone();
            QuoteSetup {
                roles: Roles {
                    recommended: row == recommended,
                    asked: row == 0,
                    pay_as_you_go: Some(row) == payg_row,
                },
                row,
                candidate,
                upfront: candidate.map_or_else(
                    || crate::analysis::advise::upfront(measured, &strategy),
                    |c| advice.candidates[c].upfront,
                ),
                strategy,
            }
        })
        .collect()
}

/// Steady usage from zero to [`CURVE_TOP_TIMES_HIGH`] times the high end (at least one
/// credit), in steps of a power of ten of millionths fine enough for the crossings to be
/// pinned to about 1/100,000 of the range.
pub fn curve_sweep(levels: UsageLevels) -> Sweep {
    let top = (levels.high_micros.max(1))
        .saturating_mul(CURVE_TOP_TIMES_HIGH)
        .max(breakeven::UNIT_MICROS);
    let mut step = 1i64;
    while top / step > CURVE_STEPS_MAX {
        step *= 10;
    }
    Sweep {
        unit: Unit::Credits,
        from_micros: 0,
        to_micros: (top / step + i64::from(top % step != 0)).saturating_mul(step),
        step_micros: step,
        grid_points: CURVE_POINTS,
    }
}
