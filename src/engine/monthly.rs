//! The replay of a Monte Carlo path month by month, without the ledger: the fast path for
//! strategies that buy only by their purchase rules, or not at all.
//!
//! A strategy without scheduled actions and without an upgrade rule changes nothing after
//! its start but its lots: its top-up and buy-on-alert rules only buy. On a monthly plan
//! (whose cap, if flex has one, is spent afresh every month) and with no lot expiring inside
//! the horizon, every month is then the same few steps: usage goes to the included credits,
//! then to the lots in order; what is left goes to flex up to its cap (the rest is blocked),
//! invoiced (rounded once) when the month closes, and the next month's fee is charged.
//!
//! - A strategy without rules never acts, so the month's usage is served as one amount
//!   (pools only shrink inside a month, so serving its total at once gives each pool what
//!   serving its events one by one gives: the argument of `Ledger::consume_run`).
//! - A strategy with rules is served as the replay driver serves it: the longest run of
//!   events within the rules' quiet budget ([`Strategy::purchase_quiet_budget`], what they
//!   can let pass without acting) as one amount, then the event that passes it alone, each
//!   followed by the rules' answer when what they read (the prepaid balance, an alert)
//!   changed. Flex is still taken per month: the rules never read it inside the month, and
//!   the cap binds the month's flex on the same exact money either way.
//!
//! What a Monte Carlo path needs (the cash and economic cost at every month end and the
//! horizon's totals) then follows without a ledger step, a statement or a boundary crossing.
//!
//! Exactness rests on sharing, not on copying: the start is the ledger's own (its first fee,
//! its purchases and their lots, in consumption order); the rules decide by their own code
//! (through [`Holdings`]); a purchase is the ledger's [`Lot::bought`], placed in the lots by
//! the ledger's order ([`Lot::place`]); the alert fires where the ledger's does
//! ([`alert_fires_at`]); and the values held use the ledger's own functions
//! ([`unused_prepaid_value`], [`unexpired_fee_value`]). Every sum the ledger checks against
//! a limit is checked here too, and any that passes one, a lot bought that would expire
//! inside the horizon, or rules that do not settle, make [`Monthly::run`] answer `None`: the
//! caller then replays the path in full, which stops with the ledger's own error or prices
//! what this path does not. `tests/monthly_replay.rs` holds the two ways equal (against
//! `simulate_in_full`).

use crate::engine::ledger::{
    alert_fires_at, balance_of, credits_until_alert, flex_servable, take_from_lots,
    unexpired_fee_value, unused_prepaid_value, KeptTotals, Lot, OpenedMonthly, Purchase, Workspace,
    CASH, PURCHASED,
};
use crate::engine::reading::PrefixedEvents;
use crate::engine::replay::opened;
use crate::engine::strategy::{Action, Holdings, Strategy};
use crate::model::amounts::{Credits, ExactMoney, LimitExceeded, Money, CREDITS_MAX};
use crate::model::calendar::{add_months, month_ends, Instant, Period};
use crate::model::pricing::{Cohort, PricingBook};

/// How many rounds of purchases one event may trigger before the path is left to the full
/// replay (which names rules that never settle); the rules settle in one.
const ROUNDS_MAX: u32 = 64;

/// A strategy's start, ready to be continued month by month on any path.
#[derive(Debug, Clone)]
pub struct Monthly<'b> {
    book: &'b PricingBook,
    strategy: &'b Strategy,
    opened: OpenedMonthly,
    /// The included credits used at which the usage alert fires each month, when the plan
    /// grants any.
    alert_at_micros: Option<i128>,
    /// Months in the horizon (the last one may be cut short by its end).
    months: usize,
    /// The cycle running at the horizon's end (the last month's), for its unexpired fee.
    last_cycle: Period,
    horizon_end: Instant,
}

/// What [`Monthly::run`] reuses from path to path.
#[derive(Debug, Default)]
pub struct MonthlyBuffers {
    lots: Vec<Lot>,
    actions: Vec<Action>,
}

impl<'b> Monthly<'b> {
    /// `strategy`'s start on `workspace`, when every month of the horizon is the same (the
    /// months are [`month_ends`] of the anchor and `horizon_end`, as the ledger's flex
    /// periods). `None` when the strategy can do more than buy after its start, the months
    /// differ, or the start itself stops (the full replay says why).
    pub fn prepare(
        book: &'b PricingBook,
        workspace: Workspace,
        horizon_end: Instant,
        strategy: &'b Strategy,
    ) -> Option<Monthly<'b>> {
        if strategy.upgrade.is_some() || !strategy.scheduled.is_empty() {
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
        let granted = opened.included_per_cycle;
        Some(Monthly {
            book,
            strategy,
            alert_at_micros: (!granted.is_zero())
                .then(|| alert_fires_at(book.alert_threshold_percent, granted)),
            opened,
            months,
            last_cycle: Period::new(add_months(anchor, last - 1), add_months(anchor, last)),
            horizon_end,
        })
    }

    /// Continues the start over one path, whose events `usage` reads with the month ends
    /// ([`month_ends`]) as its marks, writing the cash and economic cost at each month end
    /// (micro-units, the last at the horizon's end) into `monthly_cash` and
    /// `monthly_economic`. `None` when a sum passes its limit, a lot bought would expire
    /// inside the horizon or the rules do not settle (see the module's note).
    pub fn run(
        &self,
        usage: &PrefixedEvents<'_>,
        buffers: &mut MonthlyBuffers,
        (monthly_cash, monthly_economic): (&mut [i64], &mut [i64]),
    ) -> Option<KeptTotals> {
        let months = self.months;
        let (totals, month_ends) = (usage.running_totals_micros(), usage.events_before_marks());
        assert!(months == month_ends.len() && months == monthly_cash.len());
        assert_eq!(months, monthly_economic.len());
        let total_micros = *totals
            .last()
            .expect("a running total before the first event");
        if total_micros > i128::from(CREDITS_MAX.micros()) {
            return None; // "credits demanded over the horizon"
        }
        let o = &self.opened;
        let mut path = PathState::start(self, &mut buffers.lots);
        let mut first_event = 0;
        for (k, &month_end) in month_ends.iter().enumerate() {
            if self.strategy.reacts() {
                path.serve_month(usage, first_event..month_end, &mut buffers.actions)?;
            } else {
                // Within the path's total, itself within the credit limit.
                let month = totals[month_end] - totals[first_event];
                path.serve(Credits::from_micros(i64::try_from(month).ok()?));
            }
            first_event = month_end;
            path.close_month()?;
            if k + 1 == months {
                break; // the horizon's end: its totals below
            }
            // The month end, read just before the boundary: flex invoiced (the ledger's cash so
            // far), no fee left unexpired (the cycle ends now), the lots as they stand.
            monthly_cash[k] = path.cash.micros();
            monthly_economic[k] = (path.cash - path.unused_value()).micros();
            path.cash = path.cash.plus(o.cycle_fee, CASH).ok()?;
        }
        let unused_prepaid_value = path.unused_value();
        let unexpired_fee_value =
            unexpired_fee_value(self.book, o.cycle_fee, self.last_cycle, self.horizon_end);
        let cash = path.cash;
        let economic = cash - unused_prepaid_value - unexpired_fee_value;
        monthly_cash[months - 1] = cash.micros();
        monthly_economic[months - 1] = economic.micros();
        Some(KeptTotals {
            cash,
            economic,
            blocked: path.blocked,
            prepaid_purchased: path.purchased,
            prepaid_consumed: path.prepaid_consumed,
            unused_prepaid_value,
            unexpired_fee_value,
        })
    }
}

/// One path's state between two events, as the ledger would hold it.
struct PathState<'m, 'b> {
    monthly: &'m Monthly<'b>,
    /// The lots with credits left, in consumption order.
    lots: &'m mut Vec<Lot>,
    lot_sequence: u32,
    purchased: Credits,
    cash: Money,
    included_used: Credits,
    /// The usage alert fired this month; alerts not yet answered.
    alert_fired: bool,
    alerts: u32,
    /// Whether the lots changed since the rules last answered with nothing.
    unanswered: bool,
    /// Credits past the included credits and the lots this month, for flex.
    month_rest: Credits,
    previous_month_flex: Credits,
    prepaid_consumed: Credits,
    blocked: Credits,
}

impl<'m, 'b> PathState<'m, 'b> {
    fn start(monthly: &'m Monthly<'b>, lots: &'m mut Vec<Lot>) -> PathState<'m, 'b> {
        let o = &monthly.opened;
        lots.clear();
        lots.extend(o.lots.iter().cloned());
        PathState {
            monthly,
            lots,
            lot_sequence: o.lot_sequence,
            purchased: o.purchased,
            cash: o.cash,
            included_used: Credits::ZERO,
            alert_fired: false,
            alerts: 0,
            unanswered: false,
            month_rest: Credits::ZERO,
            previous_month_flex: Credits::ZERO,
            prepaid_consumed: Credits::ZERO,
            blocked: Credits::ZERO,
        }
    }

    /// Serves `amount` from the included credits, then the lots in order (the ledger's
    /// `serve` up to flex), and fires the alert where the ledger would.
    #[inline]
    fn serve(&mut self, amount: Credits) {
        let granted = self.monthly.opened.included_per_cycle;
        let from_included = amount.min(granted - self.included_used);
        self.included_used += from_included;
        let mut rest = amount - from_included;
        if let Some(fires_at) = self.monthly.alert_at_micros {
            if !self.alert_fired && i128::from(self.included_used.micros()) >= fires_at {
                self.alert_fired = true;
                self.alerts += 1;
            }
        }
        if !rest.is_zero() && !self.lots.is_empty() {
            let prepaid = take_from_lots(self.lots, rest);
            rest -= prepaid;
            self.prepaid_consumed += prepaid;
            self.unanswered = true;
        }
        self.month_rest += rest;
    }

    /// Serves the month's `events` (indices into `usage.events`) for a strategy with rules,
    /// as the replay driver serves them: the longest run of events within the rules' quiet
    /// budget as one amount (the rules would answer each of them with nothing), then the
    /// event that passes it alone, each followed by the rules' answer.
    fn serve_month(
        &mut self,
        usage: &PrefixedEvents<'_>,
        events: std::ops::Range<usize>,
        actions: &mut Vec<Action>,
    ) -> Option<()> {
        let totals = usage.running_totals_micros();
        let mut next = events.start;
        while next < events.end {
            let budget = (self.monthly.strategy.purchase_quiet_budget(self))
                .map_or(i128::MAX, |b| i128::from(b.micros()));
            let start = totals[next];
            // Events next..next + quiet fit in the budget together.
            let quiet = totals[next + 1..=events.end].partition_point(|t| t - start <= budget);
            if quiet > 0 {
                let last = next + quiet - 1;
                // At most the path's total, itself within the credit limit.
                let run = i64::try_from(totals[last + 1] - start).ok()?;
                self.serve(Credits::from_micros(run));
                self.answer(usage.events()[last].at, actions)?;
                next = last + 1;
            }
            if let Some(event) = usage.events()[..events.end].get(next) {
                self.serve(event.credits);
                self.answer(event.at, actions)?;
                next += 1;
            }
        }
        Some(())
    }

    /// Lets the rules answer the state after an event at `at`, as the replay driver does:
    /// the alerts first, then the balance; what they buy is bought, and they answer again
    /// until they buy nothing. Skipped while nothing they read changed (they decide from
    /// state alone).
    #[inline]
    fn answer(&mut self, at: Instant, actions: &mut Vec<Action>) -> Option<()> {
        if self.alerts == 0 && !self.unanswered {
            return Some(());
        }
        let strategy = self.monthly.strategy;
        actions.clear();
        for _ in 0..std::mem::take(&mut self.alerts) {
            strategy.on_alert(self, actions).ok()?;
        }
        strategy.top_up_if_low(self, actions).ok()?;
        let mut rounds = 0;
        while !actions.is_empty() {
            for action in actions.drain(..) {
                let Action::Buy { purchase, quantity } = action else {
                    return None; // the rules only buy
                };
                self.buy((purchase, quantity), at).ok()??;
            }
            strategy.top_up_if_low(self, actions).ok()?;
            rounds += 1;
            if rounds > ROUNDS_MAX {
                return None;
            }
        }
        self.unanswered = false;
        Some(())
    }

    /// The ledger's purchase at `at`: its lot, in the ledger's order, and its charge.
    /// `Ok(None)` when the lot would expire inside the horizon.
    fn buy(&mut self, bought: (Purchase, u64), at: Instant) -> Result<Option<()>, LimitExceeded> {
        let lot = Lot::bought(self.cohort(), bought, at, self.lot_sequence + 1)?;
        if lot
            .expires_at()
            .is_some_and(|e| e <= self.monthly.horizon_end)
        {
            return Ok(None);
        }
        self.lot_sequence += 1;
        self.purchased.grow(lot.credits(), PURCHASED)?;
        self.cash = self.cash.plus(lot.cost(), CASH)?;
        let order = self.monthly.book.lot_order;
        let place = lot.place(order);
        let at = self.lots.partition_point(|l| l.place(order) < place);
        self.lots.insert(at, lot);
        Ok(Some(()))
    }

    /// Invoices the month's flex (up to the cap, the rest blocked) and starts the next
    /// month's grant and alert.
    fn close_month(&mut self) -> Option<()> {
        let (book, o) = (self.monthly.book, &self.monthly.opened);
        let rest = std::mem::take(&mut self.month_rest);
        // The cap's spend starts afresh with the month.
        let served = if o.flex_enabled {
            flex_servable(rest, o.flex_price, o.flex_cap, ExactMoney::ZERO)
        } else {
            Credits::ZERO
        };
        self.blocked += rest - served;
        let flex = ExactMoney::of(served, o.flex_price)
            .round_to_minor(book.minor_digits, book.rounding, "a flex invoice")
            .ok()?;
        self.cash = self.cash.plus(flex, CASH).ok()?;
        self.previous_month_flex = served;
        self.included_used = Credits::ZERO;
        self.alert_fired = false;
        Some(())
    }

    fn unused_value(&self) -> Money {
        if self.lots.is_empty() {
            return Money::ZERO;
        }
        unused_prepaid_value(
            self.monthly.book,
            self.lots.iter().map(Lot::remaining_value),
        )
    }
}

impl Holdings for PathState<'_, '_> {
    fn book(&self) -> &PricingBook {
        self.monthly.book
    }

    fn cohort(&self) -> &Cohort {
        &self.monthly.book.cohorts[self.monthly.opened.cohort.0]
    }

    fn prepaid_balance(&self) -> Credits {
        balance_of(self.lots)
    }

    fn previous_cycle_flex_credits(&self) -> Credits {
        self.previous_month_flex
    }

    fn included_remaining(&self) -> Credits {
        self.monthly.opened.included_per_cycle - self.included_used
    }

    fn credits_until_alert(&self) -> Option<Credits> {
        let fires_at = self.monthly.alert_at_micros.filter(|_| !self.alert_fired)?;
        Some(credits_until_alert(fires_at, self.included_used))
    }
}
