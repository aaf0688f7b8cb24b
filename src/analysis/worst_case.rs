//! The most a case could charge or credit over its horizon, worked out before anything runs.
//!
//! The ledger holds every total to the amount limits as it grows and stops with an error
//! when one would pass (the second line). This is the first: a case whose worst case passes a
//! limit is rejected when it is loaded, with the input to blame, so a user learns it from
//! `validate` rather than from a run that stops in month 200. What cannot be bounded here (how
//! often a top-up rule buys, what a Monte Carlo path draws) is left to the ledger.
//!
//! Bounds are in `i128` millionths, so working them out cannot overflow: every factor is at
//! most 10^18 and the counts are small.

use crate::analysis::case::Case;
use crate::engine::ledger::{purchase_terms, Workspace};
use crate::engine::strategy::{Action, Strategy};
use crate::model::amounts::{Credits, LimitExceeded, Money, CREDITS_MAX, MONEY_MAX};
use crate::model::calendar::{add_months, Instant};
use crate::model::pricing::{Cohort, PlanId, PricingBook};
use crate::model::text::grouped;
use rust_decimal::Decimal;

/// Which input a bound passed its limit because of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Culprit {
    /// The workspace's seats times a plan's per-seat amounts.
    Seats,
    /// The horizon's length times a plan's fee or included credits.
    Horizon,
    /// The usage's total at the flex price.
    Usage,
    /// A strategy's purchases, or all its charges together.
    Strategy(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breach {
    pub culprit: Culprit,
    pub message: String,
}

/// What the bounds are worked out for: a workspace under its strategies until the horizon's
/// end (a scenario's case, or one member of a portfolio).
#[derive(Clone, Copy)]
pub struct Subject<'a> {
    pub book: &'a PricingBook,
    pub workspace: Workspace,
    pub horizon_end: Instant,
    pub strategies: &'a [Strategy],
}

impl<'a> Subject<'a> {
    pub fn of(case: &'a Case) -> Subject<'a> {
        Subject {
            book: &case.book,
            workspace: case.workspace,
            horizon_end: case.horizon.end,
            strategies: &case.strategies,
        }
    }

    fn cohort(&self) -> &'a Cohort {
        &self.book.cohorts[self.workspace.cohort.0]
    }
}

/// Checks that no strategy of `case` can pass an amount limit; `usage_total` is the usage
/// replayed, when it is known before the run (inline or imported, not drawn).
pub fn check(case: Subject<'_>, usage_total: Option<Credits>) -> Result<(), Breach> {
    check_plans(case)?;
    let cycles = cycles_max(case);
    for (index, strategy) in case.strategies.iter().enumerate() {
        let fees = fees_and_grants(case, strategy, cycles)?;
        let bought = fixed_purchases(case, strategy).map_err(|e| Breach {
            culprit: Culprit::Strategy(index),
            message: format!("strategy \"{}\": {e}", strategy.name),
        })?;
        let flex = match usage_total {
            Some(total) => flex_max(case, strategy, total)?,
            None => 0,
        };
        let cash = fees + bought + flex;
        if cash > i128::from(MONEY_MAX.micros()) {
            return Err(Breach {
                culprit: Culprit::Strategy(index),
                message: format!(
                    "strategy \"{}\" could charge up to {} in plan fees + {} in purchases + {} \
                     in flex = {} over the horizon, above the limit of {}",
                    strategy.name,
                    units(fees),
                    units(bought),
                    units(flex),
                    units(cash),
                    limit(MONEY_MAX.micros(), "currency units")
                ),
            });
        }
    }
    Ok(())
}

/// Every plan's fee and grant for the workspace's seats: a strategy may change to any plan.
fn check_plans(case: Subject<'_>) -> Result<(), Breach> {
    let seats = case.workspace.seats;
    for plan in &case.book.plans {
        plan.fee_for(seats)
            .map(|_| ())
            .and_then(|()| plan.included_for(seats).map(|_| ()))
            .map_err(|e: LimitExceeded| Breach {
                culprit: Culprit::Seats,
                message: format!(
                    "{} seat(s) on plan \"{}\": {e}",
                    grouped(seats.into()),
                    plan.id
                ),
            })?;
    }
    Ok(())
}

/// Cycles that can start in the horizon without a plan change: one per month from the anchor
/// (no cycle is shorter than a month). Each plan change starts one more, counted per strategy
/// in [`fees_and_grants`].
fn cycles_max(case: Subject<'_>) -> i128 {
    let (anchor, end) = (case.workspace.anchor, case.horizon_end);
    let mut starts = 0u32;
    while add_months(anchor, starts) < end {
        starts += 1;
    }
    i128::from(starts)
}

/// The plans `strategy` can be on, and how many plan changes it can make: every scheduled
/// change, and an upgrade once at the start and once after each scheduled change.
fn plans_and_changes(case: Subject<'_>, strategy: &Strategy) -> (Vec<PlanId>, i128) {
    let mut plans = vec![strategy.start_plan.unwrap_or(case.workspace.plan)];
    let mut scheduled = 0i128;
    for s in &strategy.scheduled {
        if let Action::ChangePlan(p) = s.action {
            plans.push(p);
            scheduled += 1;
        }
    }
    let mut changes = scheduled;
    if let Some(up) = strategy.upgrade {
        plans.push(up.to);
        changes += scheduled + 1;
    }
    (plans, changes)
}

/// The most `strategy` can pay in plan fees (millionths), after checking the included credits
/// it can be granted.
fn fees_and_grants(case: Subject<'_>, strategy: &Strategy, cycles: i128) -> Result<i128, Breach> {
    let (plans, changes) = plans_and_changes(case, strategy);
    let cycles = cycles + changes;
    let seats = case.workspace.seats;
    let book = &case.book;
    let fee = |p: &PlanId| book.plans[p.0].fee_for(seats).map_or(0, |m| m.micros());
    let grant = |p: &PlanId| {
        book.plans[p.0]
            .included_for(seats)
            .map_or(0, |c| c.micros())
    };
    let costliest = plans.iter().max_by_key(|p| fee(p)).expect("a start plan");
    let richest = plans.iter().max_by_key(|p| grant(p)).expect("a start plan");
    let fees = i128::from(fee(costliest)) * cycles;
    let grants = i128::from(grant(richest)) * cycles;
    let over_horizon = |what: &str, id: &str, each: String, total: i128, limit: String| Breach {
        culprit: Culprit::Horizon,
        message: format!(
            "strategy \"{}\": {what} over the horizon could reach {cycles} cycles x {each} \
             (plan \"{id}\") = {}, above the limit of {limit}",
            strategy.name,
            units(total)
        ),
    };
    if fees > i128::from(MONEY_MAX.micros()) {
        let plan = &book.plans[costliest.0];
        let each = units(i128::from(fee(costliest)));
        let max = limit(MONEY_MAX.micros(), "currency units");
        return Err(over_horizon("plan fees", &plan.id, each, fees, max));
    }
    if grants > i128::from(CREDITS_MAX.micros()) {
        let plan = &book.plans[richest.0];
        let each = units(i128::from(grant(richest)));
        let max = limit(CREDITS_MAX.micros(), "credits");
        return Err(over_horizon(
            "included credits",
            &plan.id,
            each,
            grants,
            max,
        ));
    }
    Ok(fees)
}

/// The money of the purchases `strategy` makes on its own (at start and scheduled),
/// millionths, after checking their credits; what a top-up or alert rule buys depends on the
/// run and is held to the limits by the ledger.
fn fixed_purchases(case: Subject<'_>, strategy: &Strategy) -> Result<i128, LimitExceeded> {
    let cohort = case.cohort();
    let scheduled = strategy.scheduled.iter().filter_map(|s| match s.action {
        Action::Buy { purchase, quantity } => Some((purchase, quantity)),
        _ => None,
    });
    let at_start = strategy.buy_at_start.iter().map(|p| (*p, 1));
    let (mut credits, mut money) = (Credits::ZERO, Money::ZERO);
    for (purchase, quantity) in at_start.chain(scheduled) {
        let (c, m, _) = purchase_terms(cohort, purchase, quantity)?;
        credits.grow(c, "credits bought by the strategy")?;
        money.grow(m, "money spent on purchases")?;
    }
    Ok(i128::from(money.micros()))
}

/// The most the usage can cost as flex at the highest flex price of the plans `strategy` can
/// be on (millionths, rounded up): as if no credit were included or prepaid.
fn flex_max(case: Subject<'_>, strategy: &Strategy, usage: Credits) -> Result<i128, Breach> {
    let (plans, _) = plans_and_changes(case, strategy);
    let cohort = case.cohort();
    let price = plans
        .iter()
        .map(|p| cohort.flex_price(*p))
        .max()
        .expect("a start plan");
    let exact = i128::from(usage.micros()) * i128::from(price.micros());
    let flex = (exact + 999_999) / 1_000_000; // rounded up: both factors are non-negative
    if flex > i128::from(MONEY_MAX.micros()) {
        return Err(Breach {
            culprit: Culprit::Usage,
            message: format!(
                "usage of {} credits could cost {} as flex at {price} per credit \
                 (strategy \"{}\"), above the limit of {}",
                units(i128::from(usage.micros())),
                units(flex),
                strategy.name,
                limit(MONEY_MAX.micros(), "currency units")
            ),
        });
    }
    Ok(flex)
}

/// Millionths as a grouped decimal for a message: "24,100,000,000,000".
fn units(micros: i128) -> String {
    grouped(Decimal::from_i128_with_scale(micros, 6))
}

/// An amount limit for a message.
fn limit(max_micros: i64, unit: &str) -> String {
    format!("{} {unit}", units(i128::from(max_micros)))
}
