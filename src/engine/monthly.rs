//! The replay of a strategy that cannot react, month by month: the fast path of a Monte
//! Carlo path.
//!
//! A strategy without rules and without scheduled actions does nothing after its start. On a
//! monthly plan (whose cap, if flex has one, is spent afresh every month) and with no lot
//! expiring inside the horizon, every month is then the same few steps: the month's usage
//! goes to the included credits, then to the lots in order, then to flex up to its cap (the
//! rest is blocked), invoiced (rounded once) when the month closes, and the next month's fee
//! is charged. Pools only shrink inside a month, so serving its total at once gives each pool
//! what serving its events one by one gives, and the cap binds on the same exact money (the
//! argument of `Ledger::consume_run`). What a Monte Carlo path needs (the cash and economic
//! cost at every month end and the horizon's totals) then follows from the month totals
//! alone, without a ledger step, a statement or a boundary crossing per month.
//!
//! Exactness rests on sharing, not on copying: the start is the ledger's own (its first fee,
//! its purchases and their lots, in consumption order), and the values held use the ledger's
//! own functions ([`unused_prepaid_value`], [`unexpired_fee_value`]). Every sum the ledger
//! checks against a limit is checked here too, and any that passes one makes [`Monthly::run`]
//! answer `None`: the caller then replays the path in full, which stops with the ledger's own
//! error. `tests/monthly_replay.rs` holds the two ways equal (against `simulate_in_full`).

use crate::engine::ledger::{
    flex_servable, unexpired_fee_value, unused_prepaid_value, KeptTotals, OpenedMonthly, Workspace,
};
use crate::engine::replay::opened;
use crate::engine::strategy::Strategy;
use crate::model::amounts::{Credits, ExactMoney, Money, CREDITS_MAX};
use crate::model::calendar::{add_months, month_ends, Instant, Period};
use crate::model::pricing::PricingBook;

/// A strategy's start, ready to be continued month by month on any path.
#[derive(Debug, Clone)]
pub struct Monthly<'b> {
    book: &'b PricingBook,
    opened: OpenedMonthly,
    /// Months in the horizon (the last one may be cut short by its end).
    months: usize,
    /// The cycle running at the horizon's end (the last month's), for its unexpired fee.
    last_cycle: Period,
    horizon_end: Instant,
}

impl<'b> Monthly<'b> {
    /// `strategy`'s start on `workspace`, when every month of the horizon is the same (the
    /// months are [`month_ends`] of the anchor and `horizon_end`, as the ledger's flex
    /// periods). `None` when the strategy can act after its start, the months differ, or the
    /// start itself stops (the full replay says why).
    pub fn prepare(
        book: &'b PricingBook,
        workspace: Workspace,
        horizon_end: Instant,
        strategy: &Strategy,
    ) -> Option<Monthly<'b>> {
        if strategy.reacts() || !strategy.scheduled.is_empty() {
            return None;
        }
        let anchor = workspace.anchor;
        let months = month_ends(anchor, horizon_end).len();
        let last = u32::try_from(months).ok()?;
        let opened = opened(book, workspace, horizon_end, strategy)
            .ok()?
            .opened_monthly()?;
        // Every cycle grants the same: the ledger would stop once the grants pass the limit.
        opened
            .included_per_cycle
            .times(u64::from(last), "included credits granted over the horizon")
            .ok()?;
        Some(Monthly {
            book,
            opened,
            months,
            last_cycle: Period::new(add_months(anchor, last - 1), add_months(anchor, last)),
            horizon_end,
        })
    }

    /// Continues the start over one path whose usage in month `k` is `month_usage_micros[k]`,
    /// writing the cash and economic cost at each month end (micro-units, the last at the
    /// horizon's end) into `monthly_cash` and `monthly_economic`. `remaining` is a buffer
    /// reused from path to path. `None` when a sum passes its limit (see the module's note).
    pub fn run(
        &self,
        month_usage_micros: &[i128],
        remaining: &mut Vec<Credits>,
        (monthly_cash, monthly_economic): (&mut [i64], &mut [i64]),
    ) -> Option<KeptTotals> {
        const CASH: &str = "cash over the horizon";
        let months = self.months;
        assert!(months == month_usage_micros.len() && months == monthly_cash.len());
        assert_eq!(months, monthly_economic.len());
        let total_micros: i128 = month_usage_micros.iter().sum();
        if total_micros > i128::from(CREDITS_MAX.micros()) {
            return None; // "credits demanded over the horizon"
        }
        let o = &self.opened;
        remaining.clear();
        remaining.extend(o.lots.iter().map(|&(credits, _)| credits));
        let (mut cash, mut prepaid_consumed, mut blocked) = (o.cash, Credits::ZERO, Credits::ZERO);
        for (k, &usage_micros) in month_usage_micros.iter().enumerate() {
            // Within the path's total, itself within the credit limit.
            let usage = Credits::from_micros(i64::try_from(usage_micros).ok()?);
            let mut rest = usage - usage.min(o.included_per_cycle);
            for lot in remaining.iter_mut() {
                let take = rest.min(*lot);
                *lot -= take;
                rest -= take;
                prepaid_consumed += take;
            }
            // The cap's spend starts afresh with the month; serving the month's flex at once
            // binds it on the same exact money as serving it event by event (the argument of
            // `Ledger::consume_run`).
            let served = if o.flex_enabled {
                flex_servable(rest, o.flex_price, o.flex_cap, ExactMoney::ZERO)
            } else {
                Credits::ZERO
            };
            blocked += rest - served;
            let flex = ExactMoney::of(served, o.flex_price)
                .round_to_minor(self.book.minor_digits, self.book.rounding, "a flex invoice")
                .ok()?;
            cash = cash.plus(flex, CASH).ok()?;
            if k + 1 == months {
                break; // the horizon's end: its totals below
            }
            // The month end, read just before the boundary: flex invoiced (the ledger's cash so
            // far), no fee left unexpired (the cycle ends now), the lots as they stand.
            monthly_cash[k] = cash.micros();
            monthly_economic[k] = (cash - self.unused_value(remaining)).micros();
            cash = cash.plus(o.cycle_fee, CASH).ok()?;
        }
        let unused_prepaid_value = self.unused_value(remaining);
        let unexpired_fee_value =
            unexpired_fee_value(self.book, o.cycle_fee, self.last_cycle, self.horizon_end);
        let economic = cash - unused_prepaid_value - unexpired_fee_value;
        monthly_cash[months - 1] = cash.micros();
        monthly_economic[months - 1] = economic.micros();
        Some(KeptTotals {
            cash,
            economic,
            blocked,
            prepaid_purchased: o.lots.iter().map(|&(credits, _)| credits).sum(),
            prepaid_consumed,
            unused_prepaid_value,
            unexpired_fee_value,
        })
    }

    fn unused_value(&self, remaining: &[Credits]) -> Money {
        if remaining.is_empty() {
            return Money::ZERO;
        }
        let lots = self.opened.lots.iter().zip(remaining);
        let values =
            lots.map(|(&(credits, cost), &left)| ExactMoney::share_of(cost, left, credits));
        unused_prepaid_value(self.book, values)
    }
}
