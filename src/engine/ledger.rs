//! The billing state machine.
//!
//! One [`Ledger`] follows one workspace through one horizon. It knows cycles, pools, lots,
//! the consumption order, purchases, plan changes, the usage alert, blocked usage and
//! statements. It does no I/O and draws no random numbers. Whatever could be invalid was
//! rejected when the scenario was loaded, so the assertions here are that contract; what
//! loading cannot bound (how much a top-up rule ends up buying) is checked where it grows:
//! every amount entering the ledger (usage, grants, purchases, charges) is added with a
//! checked sum held to the amount limits, and a run that would pass one stops with
//! [`LimitExceeded`] instead of wrapping around. Every other total is a part of one of those
//! (consumed and blocked credits of the demanded, expired of the granted or bought), so it is
//! bounded too.
//!
//! Time only moves forward. Every period is half-open: a boundary instant belongs to the
//! new period, so [`Ledger::advance`] crosses boundaries at `t` before usage at `t` is served.
//!
//! Statements follow flex periods (monthly, anchored like the subscription). Cycle starts
//! always fall on a flex-period start (both are anchored at the same instant and a cycle is a
//! whole number of months), so every fee, grant and expiry lands in exactly one statement.

use crate::model::amounts::{Credits, ExactMoney, LimitExceeded, Money, Price};
use crate::model::calendar::{add_days, add_months, Instant, Period};
use crate::model::pricing::{CapPeriod, Cohort, CohortId, LotOrder, PlanId, PricingBook};

/// Flex billing as a workspace has it switched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlexSetting {
    pub enabled: bool,
    pub cap: CapSetting,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapSetting {
    /// The current plan's default cap (it follows plan changes).
    PlanDefault,
    /// No cap at all.
    Uncapped,
    /// A fixed cap per cap period.
    Amount(Money),
}

/// The facts about a workspace that the ledger needs, already resolved against the book.
#[derive(Debug, Clone, Copy)]
pub struct Workspace {
    pub cohort: CohortId,
    pub seats: u32,
    pub plan: PlanId,
    /// The subscription's first cycle starts here.
    pub anchor: Instant,
}

/// A prepaid purchase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purchase {
    /// A bundle of the cohort's catalog, by index.
    Bundle(usize),
    /// An open amount of money, converted at the cohort's prepaid base price.
    OpenAmount(Money),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    PlanFee {
        plan: PlanId,
    },
    /// `quantity` of one purchase bought at once (a top-up buys the count it needs in one line).
    Prepaid {
        purchase: Purchase,
        quantity: u64,
    },
    Flex {
        price: Price,
    },
}

/// One charged amount on a statement. Purchases of the same item in one statement share a
/// line (its quantity, credits and money summed; `charges` counts them, `at` and `last_at`
/// are the first and the last): a top-up answering every one of 100 million usage events
/// keeps a few lines per period, not one per event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    pub at: Instant,
    pub last_at: Instant,
    /// How many charges the line sums (1 for a plan fee or a flex invoice).
    pub charges: u64,
    pub kind: LineKind,
    /// Credits the line is for: granted by the fee, bought, or consumed as flex.
    pub credits: Credits,
    /// Charged money, a whole number of minor units.
    pub money: Money,
}

/// Credits by pool over some span (a statement or the whole horizon).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolCredits {
    pub demanded: Credits,
    pub included: Credits,
    pub prepaid: Credits,
    pub flex: Credits,
    pub blocked: Credits,
    pub granted_included: Credits,
    pub expired_included: Credits,
    pub purchased_prepaid: Credits,
    pub expired_prepaid: Credits,
}

impl PoolCredits {
    pub fn consumed(&self) -> Credits {
        self.included + self.prepaid + self.flex
    }

    fn add(&mut self, other: &PoolCredits) {
        self.demanded += other.demanded;
        self.included += other.included;
        self.prepaid += other.prepaid;
        self.flex += other.flex;
        self.blocked += other.blocked;
        self.granted_included += other.granted_included;
        self.expired_included += other.expired_included;
        self.purchased_prepaid += other.purchased_prepaid;
        self.expired_prepaid += other.expired_prepaid;
    }
}

/// Statements added up, in the order they were filed.
#[derive(Debug, Clone, Copy, Default)]
struct StatementSums {
    credits: PoolCredits,
    money: MoneyByKind,
    alerts: u32,
    first_blocked_at: Option<Instant>,
}

impl StatementSums {
    fn add(&mut self, s: &Statement) {
        self.credits.add(&s.credits);
        for line in &s.lines {
            self.money.add_line(line);
        }
        self.alerts += s.alerts;
        self.first_blocked_at = self.first_blocked_at.or(s.first_blocked_at);
    }
}

/// Money by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MoneyByKind {
    pub plan_fees: Money,
    pub prepaid: Money,
    pub flex: Money,
}

impl MoneyByKind {
    pub fn cash(&self) -> Money {
        self.plan_fees + self.prepaid + self.flex
    }

    pub fn add_line(&mut self, line: &Line) {
        match line.kind {
            LineKind::PlanFee { .. } => self.plan_fees += line.money,
            LineKind::Prepaid { .. } => self.prepaid += line.money,
            LineKind::Flex { .. } => self.flex += line.money,
        }
    }
}

/// What happened in one flex period (one billing period).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// 1-based, in time order.
    pub number: u32,
    pub period: Period,
    /// The plan in force during the whole period (a plan change closes the period).
    pub plan: PlanId,
    pub lines: Vec<Line>,
    pub credits: PoolCredits,
    pub alerts: u32,
    /// When usage was first refused in this period, if it was.
    pub first_blocked_at: Option<Instant>,
}

impl Statement {
    /// A statement with nothing on it yet, opening at `at`.
    fn empty(number: u32, at: Instant, plan: PlanId) -> Statement {
        Statement {
            number,
            period: Period::new(at, at),
            plan,
            lines: Vec::new(),
            credits: PoolCredits::default(),
            alerts: 0,
            first_blocked_at: None,
        }
    }

    pub fn money(&self) -> MoneyByKind {
        let mut m = MoneyByKind::default();
        for line in &self.lines {
            m.add_line(line);
        }
        m
    }
}

/// Per-strategy results over the horizon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Totals {
    pub money: MoneyByKind,
    pub credits: PoolCredits,
    /// Included credits still unused when the horizon ends: neither expired nor valued.
    pub remaining_included: Credits,
    /// Prepaid credits still unused when the horizon ends.
    pub unused_prepaid: Credits,
    /// Cost basis of `unused_prepaid`, rounded once to the minor unit.
    pub unused_prepaid_value: Money,
    /// The unexpired share of the plan fee of the cycle running when the horizon ends: plan
    /// time already paid for (see [`Ledger::unexpired_fee_value_now`]).
    pub unexpired_fee_value: Money,
    pub alerts: u32,
    /// Prepaid units bought (a line of 3 x a bundle counts 3).
    pub purchases: u64,
    pub plan_changes: u32,
    pub first_blocked_at: Option<Instant>,
    pub final_plan: PlanId,
}

impl Totals {
    pub fn cash(&self) -> Money {
        self.money.cash()
    }

    /// Cash minus what is still owned at the horizon's end: the cost basis of prepaid credits
    /// still unused and the unexpired share of the running cycle's plan fee. Both are parts
    /// of what was charged, so the result is never negative.
    pub fn economic_cost(&self) -> Money {
        self.cash() - self.unused_prepaid_value - self.unexpired_fee_value
    }

    /// The part of these totals a Monte Carlo path keeps.
    pub fn kept(&self) -> KeptTotals {
        KeptTotals {
            cash: self.cash(),
            economic: self.economic_cost(),
            blocked: self.credits.blocked,
            prepaid_purchased: self.credits.purchased_prepaid,
            prepaid_consumed: self.credits.prepaid,
            unused_prepaid_value: self.unused_prepaid_value,
            unexpired_fee_value: self.unexpired_fee_value,
        }
    }
}

/// A replay's totals as a Monte Carlo path keeps them, from the full replay ([`Totals::kept`])
/// or the month-by-month one (`engine::monthly`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptTotals {
    pub cash: Money,
    pub economic: Money,
    pub blocked: Credits,
    pub prepaid_purchased: Credits,
    pub prepaid_consumed: Credits,
    /// What economic cost credits back at the horizon's end (see `Totals`).
    pub unused_prepaid_value: Money,
    pub unexpired_fee_value: Money,
}

/// The ledger's record of one horizon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub statements: Vec<Statement>,
    pub totals: Totals,
}

/// How one usage amount was served.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Served {
    pub included: Credits,
    pub prepaid: Credits,
    pub flex: Credits,
    pub blocked: Credits,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lot {
    sequence: u32,
    purchased_at: Instant,
    expires_at: Option<Instant>,
    credits: Credits,
    pub(crate) remaining: Credits,
    cost: Money,
}

/// Where a lot stands in the order usage takes lots (the smallest first): `book.lot_order`
/// applied to when it was bought and when it expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct LotPlace(bool, Option<Instant>, Instant, u32);

impl LotPlace {
    pub(crate) fn new(
        order: LotOrder,
        purchased_at: Instant,
        expires_at: Option<Instant>,
        sequence: u32,
    ) -> LotPlace {
        match order {
            LotOrder::ExpiryThenPurchase => {
                LotPlace(expires_at.is_none(), expires_at, purchased_at, sequence)
            }
            LotOrder::PurchaseOrder => LotPlace(false, None, purchased_at, sequence),
        }
    }
}

impl Lot {
    /// `quantity` x `purchase` bought at `at` from `cohort`, the `sequence`-th lot bought.
    pub(crate) fn bought(
        cohort: &Cohort,
        (purchase, quantity): (Purchase, u64),
        at: Instant,
        sequence: u32,
    ) -> Result<Lot, LimitExceeded> {
        let (credits, cost, expires_after_days) = purchase_terms(cohort, purchase, quantity)?;
        Ok(Lot {
            sequence,
            purchased_at: at,
            expires_at: expires_after_days.map(|d| add_days(at, d)),
            credits,
            remaining: credits,
            cost,
        })
    }

    pub(crate) fn credits(&self) -> Credits {
        self.credits
    }

    pub(crate) fn cost(&self) -> Money {
        self.cost
    }

    pub(crate) fn expires_at(&self) -> Option<Instant> {
        self.expires_at
    }

    pub(crate) fn place(&self, order: LotOrder) -> LotPlace {
        LotPlace::new(order, self.purchased_at, self.expires_at, self.sequence)
    }

    /// Cost basis of what is left, exact: cost x remaining / credits.
    pub(crate) fn remaining_value(&self) -> ExactMoney {
        ExactMoney::share_of(self.cost, self.remaining, self.credits)
    }
}

/// The included credits used (micro-credits) at which the usage alert fires in a cycle
/// granting `granted`: `threshold_percent` of it, rounded up.
pub(crate) fn alert_fires_at(threshold_percent: u32, granted: Credits) -> i128 {
    let granted = granted.micros();
    // In 64 bits where the product fits (every real grant): a 128-bit division by 100 is a
    // library call, and this runs at every served event.
    let narrow = u64::try_from(granted)
        .ok()
        .and_then(|g| g.checked_mul(u64::from(threshold_percent)));
    match narrow {
        Some(product) => i128::from(product.div_ceil(100)),
        None => (i128::from(threshold_percent) * i128::from(granted) + 99) / 100,
    }
}

/// Usage the included credits can still serve, `included_used` of them used, before the
/// alert firing at `fires_at` fires: one micro-credit less than what fires it.
pub(crate) fn credits_until_alert(fires_at: i128, included_used: Credits) -> Credits {
    let room = (fires_at - i128::from(included_used.micros()) - 1).max(0);
    Credits::from_micros(room as i64) // below the grant, so within i64
}

/// Takes up to `amount` from `lots` in their order, dropping the lots it empties; returns
/// what it took. The ledger's consumption of prepaid credits, and the month-by-month
/// replay's.
#[inline]
pub(crate) fn take_from_lots(lots: &mut Vec<Lot>, amount: Credits) -> Credits {
    let mut rest = amount;
    for lot in lots.iter_mut() {
        if rest.is_zero() {
            break;
        }
        let take = rest.min(lot.remaining);
        lot.remaining -= take;
        rest -= take;
    }
    lots.retain(|l| !l.remaining.is_zero());
    amount - rest
}

/// The credits left in `lots`: the prepaid balance.
pub(crate) fn balance_of(lots: &[Lot]) -> Credits {
    lots.iter().map(|l| l.remaining).sum()
}

/// The limits on prepaid credits bought and on cash over the horizon, as the ledger and the
/// month-by-month replay name them.
pub(crate) const PURCHASED: &str = "prepaid credits bought over the horizon";
pub(crate) const CASH: &str = "cash over the horizon";

/// What `quantity` x `purchase` buys in `cohort`: credits, price, days until expiry (the
/// ledger's purchases, and the worst case loading works out for fixed purchases).
pub fn purchase_terms(
    cohort: &Cohort,
    purchase: Purchase,
    quantity: u64,
) -> Result<(Credits, Money, Option<u32>), LimitExceeded> {
    const CREDITS: &str = "credits of one purchase line";
    const PRICE: &str = "price of one purchase line";
    match purchase {
        Purchase::Bundle(i) => {
            let b = &cohort.bundles[i];
            let credits = b.credits.times(quantity, CREDITS)?;
            let price = b.price.times(quantity, PRICE)?;
            Ok((credits, price, b.expires_after_days))
        }
        Purchase::OpenAmount(money) => {
            let open = cohort
                .open_amount
                .as_ref()
                .expect("validated: open-amount purchases only where the cohort allows them");
            assert!(
                money >= open.min && money <= open.max,
                "validated purchase limits"
            );
            let credits = cohort.prepaid_base_price.credits_for(money)?;
            let credits = credits.times(quantity, CREDITS)?;
            let price = money.times(quantity, PRICE)?;
            Ok((credits, price, open.expires_after_days))
        }
    }
}

/// How much of `rest` credits flex serves at `price` under `cap` (none: all of it), `cap_used`
/// of it spent already in the cap's period.
#[inline]
pub(crate) fn flex_servable(
    rest: Credits,
    price: Price,
    cap: Option<Money>,
    cap_used: ExactMoney,
) -> Credits {
    let Some(cap) = cap else {
        return rest;
    };
    let room = ExactMoney::from_money(cap);
    if cap_used >= room {
        Credits::ZERO
    } else if cap_used + ExactMoney::of(rest, price) <= room {
        rest // the whole amount fits: no need to divide
    } else {
        rest.min((room - cap_used).credits_affordable(price))
    }
}

/// The cost basis of prepaid credits held, from each lot's exact remaining value, rounded
/// once (see [`Ledger::unused_prepaid_value_now`]).
pub(crate) fn unused_prepaid_value(
    book: &PricingBook,
    lot_values: impl Iterator<Item = ExactMoney>,
) -> Money {
    let mut value = ExactMoney::ZERO;
    for v in lot_values {
        value += v;
    }
    value
        .round_to_minor(book.minor_digits, book.rounding, "unused prepaid value")
        .expect("at most the lots' cost, which was charged")
}

/// The unexpired share at `now` of `fee`, charged for `cycle` (see
/// [`Ledger::unexpired_fee_value_now`]).
pub(crate) fn unexpired_fee_value(
    book: &PricingBook,
    fee: Money,
    cycle: Period,
    now: Instant,
) -> Money {
    debug_assert!(cycle.start <= now && now <= cycle.end);
    let nanos =
        |d: chrono::TimeDelta| i128::from(d.num_nanoseconds().expect("a cycle is at most a year"));
    // Checked first: a month-end reading of a monthly plan falls on its cycle's end.
    if now >= cycle.end {
        return Money::ZERO;
    }
    let whole = nanos(cycle.end - cycle.start);
    let part = nanos(cycle.end - now);
    fee.share_to_minor(part, whole, book.minor_digits, book.rounding)
}

/// A ledger just opened, as [`crate::engine::monthly`] continues it month by month: what was
/// charged (the first fee, purchases at start), each cycle's fee and grant, flex (on or off,
/// its price and its cap, spent afresh every month), and the lots bought, in the order usage
/// takes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OpenedMonthly {
    pub cash: Money,
    pub cycle_fee: Money,
    pub included_per_cycle: Credits,
    pub flex_enabled: bool,
    pub flex_price: Price,
    pub flex_cap: Option<Money>,
    /// The lots bought at the start, in consumption order, and how many lots were bought.
    pub lots: Vec<Lot>,
    pub lot_sequence: u32,
    /// Where purchases come from, and the credits bought so far (the lots' credits).
    pub cohort: CohortId,
    pub purchased: Credits,
}

/// Credits that entered the ledger over the horizon so far, each total checked as it grows.
#[derive(Debug, Clone, Copy, Default)]
struct Entered {
    demanded: Credits,
    granted: Credits,
    purchased: Credits,
}

pub struct Ledger<'b> {
    book: &'b PricingBook,
    workspace: Workspace,
    horizon_end: Instant,
    now: Instant,
    flex: FlexSetting,

    plan: PlanId,
    /// Cycles and flex periods are counted from this anchor (re-anchored by plan changes).
    anchor: Instant,
    cycle_number: u32,
    cycle: Period,
    /// The plan fee charged when the current cycle started (seat fees included).
    cycle_fee: Money,
    flex_period_number: u32,
    flex_period: Period,

    included_granted: Credits,
    included_used: Credits,
    alert_fired: bool,
    cap_used: ExactMoney,
    /// Flex credits of the open flex period, invoiced when it closes.
    flex_period_credits: Credits,
    cycle_flex_money: ExactMoney,
    cycle_flex_credits: Credits,
    previous_cycle_flex_credits: Credits,

    lots: Vec<Lot>,
    lot_sequence: u32,
    /// An instant no later than the next boundary (cycle end, flex-period end, lot expiry),
    /// or `None` when unknown. Cleared wherever a boundary can move earlier (a new cycle or
    /// flex period, a new lot), so `advance` and `quiet_until` can skip the boundary search
    /// between them: they run several times per usage event. (A lot used up is dropped, so
    /// the next boundary can move later than the hint: the hint stays a safe stop.)
    boundary_hint: Option<Instant>,
    /// Counts state changes a strategy could react to (see [`Ledger::version`]).
    version: u64,

    statement: Statement,
    statements: Vec<Statement>,
    /// Statements closed so far; with `keep_statements` off they are summed into `filed`
    /// instead of kept, and the open statement is reused in place, its line buffer with it.
    statements_closed: u32,
    keep_statements: bool,
    filed: StatementSums,
    /// Every line charged so far, by kind (the sum of all statements' lines); its cash is
    /// held within the money limit, so every part of it is too.
    charged: MoneyByKind,
    /// The horizon's totals of the three ways credits enter (demanded, granted, bought),
    /// held within the credit limit; every other credit total is a part of one of them.
    entered: Entered,
    purchases: u64,
    plan_changes: u32,
    /// Usage alerts fired since the replay driver last took them.
    alerts_unanswered: u32,
    /// Where every charge goes as it is made, when someone asked for the detail that the
    /// statements sum (`replay --charges`): streamed, never kept.
    charge_log: Option<ChargeLog<'b>>,
}

/// Receives every charge as the ledger makes it: a fee, one purchase (before it joins its
/// statement's line for the item) or a flex invoice.
pub type ChargeLog<'b> = &'b mut (dyn FnMut(&Line) + 'b);

impl<'b> Ledger<'b> {
    /// Opens the subscription at `workspace.anchor`: the first cycle starts, its fee is
    /// charged and its included credits granted.
    pub fn open(
        book: &'b PricingBook,
        workspace: Workspace,
        horizon_end: Instant,
        flex: FlexSetting,
    ) -> Result<Ledger<'b>, LimitExceeded> {
        assert!(
            workspace.anchor < horizon_end,
            "the subscription starts inside the horizon"
        );
        let anchor = workspace.anchor;
        let empty = Period::new(anchor, anchor);
        let mut ledger = Ledger {
            book,
            workspace,
            horizon_end,
            now: anchor,
            flex,
            plan: workspace.plan,
            anchor,
            cycle_number: 0,
            cycle: empty,
            cycle_fee: Money::ZERO,
            flex_period_number: 0,
            flex_period: empty,
            included_granted: Credits::ZERO,
            included_used: Credits::ZERO,
            alert_fired: false,
            cap_used: ExactMoney::ZERO,
            flex_period_credits: Credits::ZERO,
            cycle_flex_money: ExactMoney::ZERO,
            cycle_flex_credits: Credits::ZERO,
            previous_cycle_flex_credits: Credits::ZERO,
            lots: Vec::new(),
            boundary_hint: None,
            version: 0,
            lot_sequence: 0,
            statement: Statement::empty(0, anchor, workspace.plan),
            statements: Vec::new(),
            statements_closed: 0,
            keep_statements: true,
            filed: StatementSums::default(),
            charged: MoneyByKind::default(),
            entered: Entered::default(),
            purchases: 0,
            plan_changes: 0,
            alerts_unanswered: 0,
            charge_log: None,
        };
        ledger.start_subscription(anchor, workspace.plan)?;
        Ok(ledger)
    }

    /// Keeps no statements, only their sums: the outcome's totals are the same and its
    /// statements empty. For callers that read totals alone (every Monte Carlo path, once
    /// per strategy), which then allocate nothing per billing period.
    pub fn totals_only(&mut self) {
        for closed in std::mem::take(&mut self.statements) {
            self.filed.add(&closed);
        }
        self.keep_statements = false;
    }

    /// Sends every later charge to `log` as well. The first cycle's fee was charged when the
    /// ledger opened, so it goes to `log` now.
    pub fn log_charges(&mut self, log: ChargeLog<'b>) {
        for line in &self.statement.lines {
            log(line);
        }
        self.charge_log = Some(log);
    }

    // ---- read access for strategies and reports ----

    pub fn book(&self) -> &'b PricingBook {
        self.book
    }

    pub fn workspace(&self) -> &Workspace {
        &self.workspace
    }

    pub fn plan(&self) -> PlanId {
        self.plan
    }

    pub fn prepaid_balance(&self) -> Credits {
        balance_of(&self.lots)
    }

    pub fn included_remaining(&self) -> Credits {
        self.included_granted - self.included_used
    }

    /// Exact flex money accrued in the current plan cycle.
    pub fn cycle_flex_money(&self) -> ExactMoney {
        self.cycle_flex_money
    }

    /// Flex credits consumed in the cycle before the current one (0 in the first cycle).
    pub fn previous_cycle_flex_credits(&self) -> Credits {
        self.previous_cycle_flex_credits
    }

    /// The flex price of the current plan.
    pub fn flex_price(&self) -> Price {
        self.book.cohorts[self.workspace.cohort.0].flex_price(self.plan)
    }

    /// Money charged so far, plus the open flex period's usage at its invoice price: what the
    /// workspace would owe if the horizon ended now.
    pub fn cash_so_far(&self) -> Result<Money, LimitExceeded> {
        const WHAT: &str = "cash so far";
        let open_flex = self.flex_money(self.flex_period_credits)?;
        self.charged.cash().plus(open_flex, WHAT)
    }

    /// The invoice amount of `credits` of flex at the plan's flex price, rounded once.
    fn flex_money(&self, credits: Credits) -> Result<Money, LimitExceeded> {
        ExactMoney::of(credits, self.flex_price()).round_to_minor(
            self.book.minor_digits,
            self.book.rounding,
            "a flex invoice",
        )
    }

    /// Puts a charged line on the open statement, or adds a purchase to the statement's line
    /// for the same item; the only way money is charged. Cash over the horizon stays within
    /// the money limit, so every part of it does (a merged line's money and credits too: its
    /// credits are part of those bought).
    fn charge(&mut self, line: Line) -> Result<(), LimitExceeded> {
        self.charged.cash().plus(line.money, CASH)?;
        self.charged.add_line(&line);
        if let Some(log) = self.charge_log.as_mut() {
            log(&line);
        }
        let LineKind::Prepaid { purchase, quantity } = line.kind else {
            self.statement.lines.push(line);
            return Ok(());
        };
        let same_item = |l: &&mut Line| matches!(l.kind, LineKind::Prepaid { purchase: p, .. } if p == purchase);
        match self.statement.lines.iter_mut().find(same_item) {
            None => self.statement.lines.push(line),
            Some(merged) => {
                if let LineKind::Prepaid { quantity: sum, .. } = &mut merged.kind {
                    *sum += quantity; // at most the micro-credits bought: within the limit
                }
                merged.credits += line.credits;
                merged.money += line.money;
                merged.last_at = line.at;
                merged.charges += 1;
            }
        }
        Ok(())
    }

    /// Cost basis of the prepaid credits held now, rounded once. It is at most what the
    /// lots cost, which was charged within the money limit.
    pub fn unused_prepaid_value_now(&self) -> Money {
        if self.lots.is_empty() {
            return Money::ZERO; // most month ends of most strategies
        }
        unused_prepaid_value(self.book, self.lots.iter().map(Lot::remaining_value))
    }

    /// The unexpired share of the plan fee of the cycle running now, pro rata by time over
    /// that cycle: `fee x (cycle end - now) / (cycle end - cycle start)`, exact, rounded once
    /// to the minor unit by the book's rounding (as the unused prepaid value is, and apart
    /// from it, so that economic cost is cash minus the two values a report shows).
    ///
    /// This is how an accountant carries a subscription paid in advance: a prepaid expense,
    /// amortised straight-line over the service period it buys, whose unamortised part is
    /// still an asset at a period's end. So:
    /// - By time, not by use: the fee buys the plan for the cycle (its included credits, its
    ///   cap, its flex price), whatever is consumed. Included credits left are therefore not
    ///   valued on top (that would count the same fee twice).
    /// - Only the cycle running now. A cycle cut short by a plan change bought time that was
    ///   given up: there is no proration and no refund, so its fee is spent in full, and that
    ///   loss is part of the cost of changing mid-cycle.
    /// - The fee actually charged for the cycle, seat fees included.
    /// - The cycle's own length: a monthly cycle in February is 28 days, in March 31.
    /// - Nothing when the cycle ends exactly now: a horizon ending on a renewal has used all
    ///   the time it paid for (the renewal itself is not charged in it).
    ///
    /// Time is counted in nanoseconds, so the share is exact for any instant; for instants on
    /// whole seconds it equals the share counted in seconds.
    pub fn unexpired_fee_value_now(&self) -> Money {
        unexpired_fee_value(self.book, self.cycle_fee, self.cycle, self.now)
    }

    /// This ledger, just opened, as [`crate::engine::monthly`] can continue it: `None` unless
    /// every month is the same (a monthly plan, so that the cap's period, a cycle or a flex
    /// period, is the month) and no lot expires inside the horizon (an expiry falls
    /// mid-month; one at its end expires in [`Ledger::finish`]).
    pub(crate) fn opened_monthly(&self) -> Option<OpenedMonthly> {
        debug_assert!(
            self.entered.demanded.is_zero() && self.statements_closed == 0,
            "just opened"
        );
        let monthly = self.book.plans[self.plan.0].cycle.months() == 1;
        let kept = |l: &Lot| l.expires_at.is_none_or(|e| e > self.horizon_end);
        if !monthly || !self.lots.iter().all(kept) {
            return None;
        }
        Some(OpenedMonthly {
            cash: self.charged.cash(),
            cycle_fee: self.cycle_fee,
            included_per_cycle: self.included_granted,
            flex_enabled: self.flex.enabled,
            flex_price: self.flex_price(),
            flex_cap: self.cap_money(),
            lots: self.lots.clone(),
            lot_sequence: self.lot_sequence,
            cohort: self.workspace.cohort,
            purchased: self.entered.purchased,
        })
    }

    /// What economic cost credits back if the horizon ended now: the unused prepaid value
    /// and the unexpired fee value, each rounded once. Both are parts of what was charged,
    /// so their sum is within the money limit.
    pub fn value_held_now(&self) -> Money {
        self.unused_prepaid_value_now() + self.unexpired_fee_value_now()
    }

    /// Changes whenever the state changes (usage, a boundary crossed, a purchase, a plan or
    /// flex change); every alert is raised by such a change. Strategies decide from state
    /// alone, so while the version stands still they have nothing new to say.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Usage alerts fired since the last call, handed to the replay driver.
    pub fn take_alerts(&mut self) -> u32 {
        std::mem::take(&mut self.alerts_unanswered)
    }

    // ---- time ----

    /// Moves time to `t`, crossing every boundary before `t` (and at `t` when
    /// `inclusive`). Boundaries at or after the horizon's end are left to [`Ledger::finish`].
    #[inline(always)]
    pub fn advance(&mut self, t: Instant, inclusive: bool) -> Result<(), LimitExceeded> {
        assert!(t >= self.now, "time only moves forward");
        assert!(t < self.horizon_end, "events happen inside the horizon");
        // Nothing to cross before the hint, nor at it unless `inclusive` (an observation at a
        // month end stops just before the boundary there).
        if self
            .boundary_hint
            .is_some_and(|hint| t < hint || (t == hint && !inclusive))
        {
            self.now = t;
            return Ok(());
        }
        self.advance_across(t, inclusive)
    }

    /// [`Ledger::advance`] where a boundary may fall before `t`: out of line, so that the
    /// common case above (several times per usage event) is a comparison where it is called.
    #[inline(never)]
    fn advance_across(&mut self, t: Instant, inclusive: bool) -> Result<(), LimitExceeded> {
        let next = self.cross_boundaries(t, inclusive)?;
        self.now = t;
        self.boundary_hint = Some(next);
        Ok(())
    }

    /// Crosses every boundary inside the horizon before `t` (and at `t` when `inclusive`);
    /// returns the first boundary left ahead.
    fn cross_boundaries(&mut self, t: Instant, inclusive: bool) -> Result<Instant, LimitExceeded> {
        loop {
            let boundary = self.next_boundary();
            let due = boundary < t || (inclusive && boundary == t);
            if !due || boundary >= self.horizon_end {
                return Ok(boundary);
            }
            self.cross_boundary(boundary)?;
        }
    }

    fn next_boundary(&self) -> Instant {
        let mut next = self.cycle.end.min(self.flex_period.end);
        for lot in &self.lots {
            if let Some(e) = lot.expires_at {
                next = next.min(e);
            }
        }
        next
    }

    fn cross_boundary(&mut self, b: Instant) -> Result<(), LimitExceeded> {
        self.version += 1;
        self.now = b;
        self.expire_lots(b);
        let cycle_ends = self.cycle.end == b;
        let flex_period_ends = self.flex_period.end == b;
        // Cycles start on flex-period starts, so a cycle never ends inside a flex period.
        assert!(
            !cycle_ends || flex_period_ends,
            "cycle and flex boundaries are aligned"
        );
        if cycle_ends {
            self.end_cycle(b);
        }
        if flex_period_ends {
            self.close_flex_period(b)?;
            if self.plan_cap_period() == CapPeriod::FlexPeriod {
                self.cap_used = ExactMoney::ZERO;
            }
            let number = self.flex_period_number + 1;
            self.open_flex_period(number);
        }
        if cycle_ends {
            let number = self.cycle_number + 1;
            self.start_cycle(number)?;
        }
        Ok(())
    }

    fn plan_cap_period(&self) -> CapPeriod {
        self.book.plans[self.plan.0].cap_period
    }

    fn start_subscription(&mut self, at: Instant, plan: PlanId) -> Result<(), LimitExceeded> {
        self.plan = plan;
        self.anchor = at;
        self.open_flex_period(0);
        self.start_cycle(0)
    }

    fn start_cycle(&mut self, number: u32) -> Result<(), LimitExceeded> {
        let plan = &self.book.plans[self.plan.0];
        let months = plan.cycle.months();
        self.cycle_number = number;
        self.boundary_hint = None;
        // A cycle starts with a flex period (same anchor, whole months), and a monthly cycle
        // is that period: month arithmetic only where it says something new.
        let end = match months {
            1 => self.flex_period.end,
            _ => add_months(self.anchor, (number + 1) * months),
        };
        self.cycle = Period::new(self.flex_period.start, end);
        debug_assert_eq!(self.cycle.start, add_months(self.anchor, number * months));
        debug_assert_eq!(
            self.cycle.end,
            add_months(self.anchor, (number + 1) * months)
        );
        let seats = self.workspace.seats;
        let granted = plan.included_for(seats)?;
        let fee = plan.fee_for(seats)?;
        self.entered
            .granted
            .grow(granted, "included credits granted over the horizon")?;
        self.included_granted = granted;
        self.included_used = Credits::ZERO;
        self.alert_fired = false;
        self.cap_used = ExactMoney::ZERO;
        self.cycle_flex_money = ExactMoney::ZERO;
        self.cycle_flex_credits = Credits::ZERO;
        self.statement.credits.granted_included += granted;
        self.cycle_fee = fee;
        self.charge(Line {
            at: self.cycle.start,
            last_at: self.cycle.start,
            charges: 1,
            kind: LineKind::PlanFee { plan: self.plan },
            credits: granted,
            money: fee,
        })
    }

    /// Included credits left at a cycle's end expire with it.
    fn end_cycle(&mut self, at: Instant) {
        debug_assert!(at <= self.cycle.end);
        self.statement.credits.expired_included += self.included_remaining();
        self.included_granted = Credits::ZERO;
        self.included_used = Credits::ZERO;
        self.previous_cycle_flex_credits = self.cycle_flex_credits;
    }

    fn open_flex_period(&mut self, number: u32) {
        self.flex_period_number = number;
        self.boundary_hint = None;
        // Period `number` starts where period `number - 1` ended (the same anchor: a plan
        // change re-anchors at number 0).
        let start = match number {
            0 => self.anchor,
            _ => self.flex_period.end,
        };
        self.flex_period = Period::new(start, add_months(self.anchor, number + 1));
        debug_assert_eq!(start, add_months(self.anchor, number));
        // Reset field by field rather than replaced: a statement is a few hundred bytes,
        // and this runs at every month end of every Monte Carlo replay.
        let s = &mut self.statement;
        s.number = self.statements_closed + 1;
        s.period = Period::new(start, start);
        s.plan = self.plan;
        s.lines.clear();
        s.credits = PoolCredits::default();
        s.alerts = 0;
        s.first_blocked_at = None;
    }

    /// Invoices the open flex period at `at` (rounded once) and files its statement.
    fn close_flex_period(&mut self, at: Instant) -> Result<(), LimitExceeded> {
        if !self.flex_period_credits.is_zero() {
            let money = self.flex_money(self.flex_period_credits)?;
            self.charge(Line {
                at,
                last_at: at,
                charges: 1,
                kind: LineKind::Flex {
                    price: self.flex_price(),
                },
                credits: self.flex_period_credits,
                money,
            })?;
        }
        self.flex_period_credits = Credits::ZERO;
        self.statement.period = Period::new(self.statement.period.start, at);
        self.statements_closed += 1;
        // Totals only: the statement is summed and stays, to be reset when the next period
        // opens (nothing reads it before), its line buffer reused.
        if self.keep_statements {
            let closed = std::mem::replace(&mut self.statement, Statement::empty(0, at, self.plan));
            self.statements.push(closed);
        } else {
            self.filed.add(&self.statement);
        }
        Ok(())
    }

    fn expire_lots(&mut self, at: Instant) {
        if self.lots.is_empty() {
            return; // most boundaries of most strategies
        }
        let mut expired = Credits::ZERO;
        self.lots.retain(|lot| {
            let gone = lot.expires_at.is_some_and(|e| e <= at);
            if gone {
                expired += lot.remaining;
            }
            !gone
        });
        self.statement.credits.expired_prepaid += expired;
    }

    // ---- actions ----

    /// Changes plan at `t`: the current cycle ends at `t` (its unused included credits
    /// expire), the open flex period is invoiced, and a new cycle anchored at `t` starts with
    /// the new plan's fee and included credits. No proration.
    pub fn change_plan(&mut self, t: Instant, plan: PlanId) -> Result<(), LimitExceeded> {
        self.advance(t, false)?;
        self.version += 1;
        self.expire_lots(t);
        self.end_cycle(t);
        self.close_flex_period(t)?;
        self.plan_changes += 1;
        self.start_subscription(t, plan)
    }

    pub fn set_flex(&mut self, t: Instant, flex: FlexSetting) -> Result<(), LimitExceeded> {
        self.advance(t, true)?;
        self.version += 1;
        self.flex = flex;
        Ok(())
    }

    /// Buys `quantity` x `purchase` at `t`, as one lot and one line. Purchases are
    /// non-refundable.
    pub fn purchase(
        &mut self,
        t: Instant,
        purchase: Purchase,
        quantity: u64,
    ) -> Result<(), LimitExceeded> {
        assert!(quantity > 0, "a purchase buys something");
        self.advance(t, true)?;
        self.version += 1;
        let cohort = &self.book.cohorts[self.workspace.cohort.0];
        let lot = Lot::bought(cohort, (purchase, quantity), t, self.lot_sequence + 1)?;
        let (credits, cost) = (lot.credits, lot.cost);
        self.entered.purchased.grow(credits, PURCHASED)?;
        self.charge(Line {
            at: t,
            last_at: t,
            charges: 1,
            kind: LineKind::Prepaid { purchase, quantity },
            credits,
            money: cost,
        })?;
        self.lot_sequence += 1;
        self.lots.push(lot);
        self.boundary_hint = None;
        self.sort_lots();
        self.purchases += quantity;
        self.statement.credits.purchased_prepaid += credits;
        Ok(())
    }

    fn sort_lots(&mut self) {
        let order = self.book.lot_order;
        self.lots.sort_by_key(|l| l.place(order));
    }

    fn cap_money(&self) -> Option<Money> {
        match self.flex.cap {
            CapSetting::PlanDefault => self.book.plans[self.plan.0].flex_cap,
            CapSetting::Uncapped => None,
            CapSetting::Amount(m) => Some(m),
        }
    }

    /// Serves `amount` credits demanded at `t`: included, then prepaid lots, then flex up to
    /// the cap; what nothing can serve is blocked.
    pub fn consume(&mut self, t: Instant, amount: Credits) -> Result<Served, LimitExceeded> {
        self.serve(t, amount, |_| t)
    }

    /// Serves a run of usage events as one: `total` credits demanded, the last at `last_at`,
    /// with no boundary before `last_at` (see [`Ledger::quiet_until`]). Pools only shrink
    /// inside such a run, so serving the total in the consumption order gives each pool what
    /// serving the events one by one gives, and the cap binds on the same exact money;
    /// `first_refused(served)` names the instant of the first event that the `served` credits
    /// do not cover, for the statement's first blocked instant.
    pub fn consume_run(
        &mut self,
        last_at: Instant,
        total: Credits,
        first_refused: impl FnOnce(Credits) -> Instant,
    ) -> Result<Served, LimitExceeded> {
        debug_assert!(last_at < self.quiet_until());
        self.serve(last_at, total, first_refused)
    }

    fn serve(
        &mut self,
        t: Instant,
        amount: Credits,
        first_refused: impl FnOnce(Credits) -> Instant,
    ) -> Result<Served, LimitExceeded> {
        self.advance(t, true)?;
        self.entered
            .demanded
            .grow(amount, "credits demanded over the horizon")?;
        self.version += 1;
        let mut served = Served::default();
        let mut rest = amount;
        self.statement.credits.demanded += amount;

        let from_included = rest.min(self.included_remaining());
        self.included_used += from_included;
        rest -= from_included;
        served.included = from_included;
        self.check_alert();

        served.prepaid = take_from_lots(&mut self.lots, rest);
        rest -= served.prepaid;

        if !rest.is_zero() && self.flex.enabled {
            let price = self.flex_price();
            let take = flex_servable(rest, price, self.cap_money(), self.cap_used);
            let money = ExactMoney::of(take, price);
            self.cap_used += money;
            self.cycle_flex_money += money;
            self.cycle_flex_credits += take;
            self.flex_period_credits += take;
            rest -= take;
            served.flex = take;
        }

        served.blocked = rest;
        let s = &mut self.statement.credits;
        s.included += served.included;
        s.prepaid += served.prepaid;
        s.flex += served.flex;
        s.blocked += served.blocked;
        if !served.blocked.is_zero() && self.statement.first_blocked_at.is_none() {
            self.statement.first_blocked_at = Some(first_refused(amount - served.blocked));
        }
        Ok(served)
    }

    /// Until when nothing but usage can happen: the first cycle or flex period boundary,
    /// lot expiry or the horizon's end, or an instant before it (see `boundary_hint`).
    pub fn quiet_until(&self) -> Instant {
        // The hint, when known, is no later than the next boundary: a quiet run that stops
        // there early is only split in two (the next step crosses nothing and searches again).
        let next = self.boundary_hint.unwrap_or_else(|| self.next_boundary());
        debug_assert!(next <= self.next_boundary());
        next.min(self.horizon_end)
    }

    /// Usage the included credits can still serve before the usage alert fires (one
    /// micro-credit less than what fires it), or `None` when it cannot fire again this cycle.
    pub fn credits_until_alert(&self) -> Option<Credits> {
        let fires_at = self.alert_fires_at()?;
        Some(credits_until_alert(fires_at, self.included_used))
    }

    /// The included credits used (micro-credits) at which the usage alert fires this cycle:
    /// the threshold's share of the grant, rounded up; `None` once it fired or with nothing
    /// granted.
    fn alert_fires_at(&self) -> Option<i128> {
        if self.alert_fired || self.included_granted.is_zero() {
            return None;
        }
        Some(alert_fires_at(
            self.book.alert_threshold_percent,
            self.included_granted,
        ))
    }

    /// Whether flex serves usage now (it may still be capped).
    pub fn flex_enabled(&self) -> bool {
        self.flex.enabled
    }

    fn check_alert(&mut self) {
        let Some(fires_at) = self.alert_fires_at() else {
            return;
        };
        if i128::from(self.included_used.micros()) >= fires_at {
            self.alert_fired = true;
            self.statement.alerts += 1;
            self.alerts_unanswered += 1;
        }
    }

    /// Closes the horizon: expires lots due by its end, invoices the open flex period (its
    /// usage happened inside the horizon, so it is charged), and totals everything. A renewal
    /// falling exactly on the horizon's end is not charged; included credits left are
    /// reported as remaining, neither expired nor valued.
    pub fn finish(mut self) -> Result<Outcome, LimitExceeded> {
        let end = self.horizon_end;
        self.cross_boundaries(end, false)?;
        self.now = end;
        self.expire_lots(end);
        self.close_flex_period(end)?;

        let mut sums = self.filed;
        for s in &self.statements {
            sums.add(s);
        }
        let StatementSums {
            credits,
            money,
            alerts,
            first_blocked_at,
        } = sums;
        // Money charged = the sum of the statements' lines.
        assert_eq!(money, self.charged);
        let unused_prepaid: Credits = self.prepaid_balance();
        let unused_prepaid_value = self.unused_prepaid_value_now();
        let unexpired_fee_value = self.unexpired_fee_value_now();
        let totals = Totals {
            money,
            credits,
            remaining_included: self.included_remaining(),
            unused_prepaid,
            unused_prepaid_value,
            unexpired_fee_value,
            alerts,
            purchases: self.purchases,
            plan_changes: self.plan_changes,
            first_blocked_at,
            final_plan: self.plan,
        };
        // Conservation: every credit granted or bought is consumed, expired or remaining;
        // every credit demanded is served or blocked.
        assert_eq!(
            credits.granted_included,
            credits.included + credits.expired_included + totals.remaining_included
        );
        assert_eq!(
            credits.purchased_prepaid,
            credits.prepaid + credits.expired_prepaid + unused_prepaid
        );
        assert_eq!(credits.demanded, credits.consumed() + credits.blocked);
        assert_eq!(credits.demanded, self.entered.demanded);
        assert_eq!(credits.granted_included, self.entered.granted);
        assert_eq!(credits.purchased_prepaid, self.entered.purchased);
        Ok(Outcome {
            statements: self.statements,
            totals,
        })
    }
}

#[cfg(test)]
mod tests {
    //! One test per billing rule, each number worked out by hand in the comment beside it.
    use super::*;
    use crate::model::amounts::Rounding;
    use crate::model::calendar::midnight;
    use crate::model::pricing::{Bundle, CapPeriod, Cohort, CohortId, CycleKind, Plan, RateCard};
    use chrono::NaiveDate;

    fn day(y: i32, m: u32, d: u32) -> Instant {
        midnight(NaiveDate::from_ymd_opt(y, m, d).unwrap())
    }

    fn credits(units: i64) -> Credits {
        Credits::from_units(units)
    }

    fn money(units: i64) -> Money {
        Money::from_units(units)
    }

    fn plan(id: &str, cycle: CycleKind, fee: i64, included: i64, cap: Option<i64>) -> Plan {
        Plan {
            id: id.into(),
            name: id.into(),
            cycle,
            fee: money(fee),
            seat_fee: Money::ZERO,
            included: credits(included),
            included_per_seat: Credits::ZERO,
            flex_cap: cap.map(money),
            cap_period: CapPeriod::Cycle,
        }
    }

    /// Plans: 0 "monthly" 10.00 with 10 included; 1 "annual" 100.00 with 120 included and a
    /// 50.00 cap; 2 "big" 30.00 with 40 included. Flex 2.00 per credit. Bundles: 0 "b10" 10
    /// credits for 15.00 (never expires), 1 "b5x" 5 credits for 5.00 expiring after 10 days.
    fn book() -> PricingBook {
        PricingBook {
            name: "test".into(),
            currency: "USD".into(),
            minor_digits: 2,
            rounding: Rounding::HalfUp,
            plans: vec![
                plan("monthly", CycleKind::Monthly, 10, 10, None),
                plan("annual", CycleKind::Annual, 100, 120, Some(50)),
                plan("big", CycleKind::Monthly, 30, 40, None),
            ],
            cohorts: vec![Cohort {
                id: "all".into(),
                created_from: None,
                created_until: None,
                prepaid_base_price: Price::from_units(2),
                flex_price_by_plan: vec![Price::from_units(2); 3],
                bundles: vec![
                    Bundle {
                        id: "b10".into(),
                        credits: credits(10),
                        price: money(15),
                        expires_after_days: None,
                    },
                    Bundle {
                        id: "b5x".into(),
                        credits: credits(5),
                        price: money(5),
                        expires_after_days: Some(10),
                    },
                ],
                open_amount: None,
            }],
            rates: RateCard::default(),
            flex_enabled_default: true,
            alert_threshold_percent: 80,
            lot_order: LotOrder::ExpiryThenPurchase,
        }
    }

    const FLEX_ON: FlexSetting = FlexSetting {
        enabled: true,
        cap: CapSetting::PlanDefault,
    };

    fn open(book: &PricingBook, plan: usize, anchor: Instant, end: Instant) -> Ledger<'_> {
        let ws = Workspace {
            cohort: CohortId(0),
            seats: 1,
            plan: PlanId(plan),
            anchor,
        };
        Ledger::open(book, ws, end, FLEX_ON).unwrap()
    }

    #[test]
    fn consumption_order_is_included_then_prepaid_then_flex() {
        let b = book();
        let mut l = open(&b, 0, day(2026, 1, 1), day(2026, 2, 1));
        l.purchase(day(2026, 1, 1), Purchase::Bundle(0), 1).unwrap();
        // 25 credits: 10 included, 10 prepaid, 5 flex.
        let s = l.consume(day(2026, 1, 5), credits(25)).unwrap();
        assert_eq!(
            (s.included, s.prepaid, s.flex, s.blocked),
            (credits(10), credits(10), credits(5), Credits::ZERO)
        );
        let o = l.finish().unwrap();
        // fee 10.00 + bundle 15.00 + flex 5 x 2.00 = 35.00
        assert_eq!(o.totals.cash(), money(35));
    }

    #[test]
    fn included_credits_reset_monthly_and_expire() {
        let b = book();
        let mut l = open(&b, 0, day(2026, 1, 1), day(2026, 3, 1));
        l.consume(day(2026, 1, 5), credits(4)).unwrap();
        l.consume(day(2026, 2, 5), credits(12)).unwrap();
        let o = l.finish().unwrap();
        // January: 4 used, 6 expire. February: 10 included + 2 flex (4.00), nothing left.
        assert_eq!(o.statements[0].credits.expired_included, credits(6));
        assert_eq!(o.statements[1].credits.included, credits(10));
        assert_eq!(o.statements[1].money().flex, money(4));
        assert_eq!(o.totals.money.plan_fees, money(20));
        assert_eq!(o.totals.remaining_included, Credits::ZERO);
    }

    #[test]
    fn annual_plan_grants_the_year_upfront_and_caps_flex_per_year() {
        let b = book();
        let mut l = open(&b, 1, day(2026, 1, 1), day(2027, 2, 1));
        // 130 credits in January: 120 included, 10 flex = 20.00 of the 50.00 yearly cap.
        l.consume(day(2026, 1, 10), credits(130)).unwrap();
        // 20 more in March: 15 fit under the cap (30.00 of room / 2.00), 5 blocked.
        let s = l.consume(day(2026, 3, 10), credits(20)).unwrap();
        assert_eq!((s.flex, s.blocked), (credits(15), credits(5)));
        // Next year: new grant and fee, cap room again.
        let s = l.consume(day(2027, 1, 10), credits(1)).unwrap();
        assert_eq!(s.included, credits(1));
        let o = l.finish().unwrap();
        // Fees 2 x 100.00; flex 20.00 (Jan) + 30.00 (Mar).
        assert_eq!(o.totals.money.plan_fees, money(200));
        assert_eq!(o.totals.money.flex, money(50));
        assert_eq!(o.totals.first_blocked_at, Some(day(2026, 3, 10)));
        // 13 monthly statements; the year's unused included (none) and 119 left in 2027.
        assert_eq!(o.statements.len(), 13);
        assert_eq!(o.totals.remaining_included, credits(119));
    }

    #[test]
    fn plan_change_resets_the_cycle_and_invoices_flex() {
        let b = book();
        let mut l = open(&b, 0, day(2026, 1, 1), day(2026, 3, 1));
        l.consume(day(2026, 1, 5), credits(12)).unwrap(); // 10 included + 2 flex
        l.change_plan(day(2026, 1, 20), PlanId(2)).unwrap();
        l.consume(day(2026, 2, 5), credits(5)).unwrap();
        let o = l.finish().unwrap();
        // Statement 1: [01-01, 01-20) fee 10.00 + flex 4.00. Statement 2: [01-20, 02-20) fee 30.00.
        assert_eq!(
            o.statements[0].period,
            Period::new(day(2026, 1, 1), day(2026, 1, 20))
        );
        assert_eq!(o.statements[0].money().cash(), money(14));
        assert_eq!(
            o.statements[1].period,
            Period::new(day(2026, 1, 20), day(2026, 2, 20))
        );
        // 02-20 renewal of "big": fees 10 + 30 + 30 = 70.
        assert_eq!(o.totals.money.plan_fees, money(70));
        // The 40 credits of cycle 2 minus 5 used expire at 02-20; cycle 3's 40 remain.
        assert_eq!(o.statements[1].credits.expired_included, credits(35));
        assert_eq!(o.totals.remaining_included, credits(40));
    }

    #[test]
    fn anchor_on_the_31st_clamps_then_returns() {
        let b = book();
        let l = open(&b, 0, day(2026, 1, 31), day(2026, 5, 1));
        let o = l.finish().unwrap();
        let starts: Vec<_> = o.statements.iter().map(|s| s.period.start).collect();
        assert_eq!(
            starts,
            vec![
                day(2026, 1, 31),
                day(2026, 2, 28),
                day(2026, 3, 31),
                day(2026, 4, 30)
            ]
        );
        // Four cycles start inside the horizon: 4 x 10.00.
        assert_eq!(o.totals.money.plan_fees, money(40));
    }

    #[test]
    fn expiring_lots_are_used_first_and_expire() {
        let b = book();
        let mut l = open(&b, 0, day(2026, 1, 1), day(2026, 2, 1));
        l.purchase(day(2026, 1, 1), Purchase::Bundle(0), 1).unwrap(); // never expires
        l.purchase(day(2026, 1, 2), Purchase::Bundle(1), 1).unwrap(); // expires 01-12
                                                                      // 13 credits: 10 included, then 3 from the expiring lot (bought later, expires first).
        l.consume(day(2026, 1, 3), credits(13)).unwrap();
        assert_eq!(l.prepaid_balance(), credits(12));
        let o = l.finish().unwrap();
        // The expiring lot's 2 left expire on 01-12; the 10 of b10 stay, valued at 15.00.
        assert_eq!(o.totals.credits.expired_prepaid, credits(2));
        assert_eq!(o.totals.unused_prepaid, credits(10));
        assert_eq!(o.totals.unused_prepaid_value, money(15));
        // cash 10 + 15 + 5 = 30.00; economic 30 - 15 = 15.00.
        assert_eq!(o.totals.economic_cost(), money(15));
    }

    #[test]
    fn flex_is_rounded_once_per_invoice_line() {
        let b = book();
        let mut l = open(&b, 0, day(2026, 1, 1), day(2026, 2, 1));
        l.consume(day(2026, 1, 2), credits(10)).unwrap();
        // Three times 0.0025 credits at 2.00 = 0.005 each (0.01 each if rounded per event);
        // once per line: 0.0075 x 2.00 = 0.015 -> 0.02.
        for d in 3..6 {
            l.consume(day(2026, 1, d), Credits::from_micros(2_500))
                .unwrap();
        }
        let o = l.finish().unwrap();
        assert_eq!(o.totals.money.flex, Money::from_micros(20_000));
    }

    #[test]
    fn disabled_flex_blocks_and_records_when() {
        let b = book();
        let ws = Workspace {
            cohort: CohortId(0),
            seats: 1,
            plan: PlanId(0),
            anchor: day(2026, 1, 1),
        };
        let off = FlexSetting {
            enabled: false,
            cap: CapSetting::PlanDefault,
        };
        let mut l = Ledger::open(&b, ws, day(2026, 2, 1), off).unwrap();
        let s = l.consume(day(2026, 1, 9), credits(14)).unwrap();
        assert_eq!(s.blocked, credits(4));
        let o = l.finish().unwrap();
        assert_eq!(o.totals.money.flex, Money::ZERO);
        assert_eq!(o.totals.first_blocked_at, Some(day(2026, 1, 9)));
        assert_eq!(o.totals.credits.demanded, credits(14));
    }

    #[test]
    fn alert_fires_once_per_cycle_at_the_threshold() {
        let b = book();
        let mut l = open(&b, 0, day(2026, 1, 1), day(2026, 3, 1));
        l.consume(day(2026, 1, 2), credits(7)).unwrap(); // 70%: no alert
        l.consume(day(2026, 1, 3), credits(1)).unwrap(); // exactly 80%: alert
        l.consume(day(2026, 1, 4), credits(5)).unwrap(); // beyond: no second alert
        l.consume(day(2026, 2, 2), credits(9)).unwrap(); // new cycle, 90%: alert
        let o = l.finish().unwrap();
        assert_eq!(o.statements[0].alerts, 1);
        assert_eq!(o.statements[1].alerts, 1);
    }

    #[test]
    fn usage_at_a_boundary_belongs_to_the_new_period_and_the_end_renewal_is_not_charged() {
        let b = book();
        let mut l = open(&b, 0, day(2026, 1, 1), day(2026, 3, 1));
        l.consume(day(2026, 2, 1), credits(3)).unwrap();
        let o = l.finish().unwrap();
        assert_eq!(o.statements[0].credits.demanded, Credits::ZERO);
        assert_eq!(o.statements[1].credits.demanded, credits(3));
        // Renewals on 02-01 only: the one on 03-01 is the horizon's end.
        assert_eq!(o.totals.money.plan_fees, money(20));
    }

    #[test]
    fn cap_binds_on_exact_money_and_serves_the_straddling_amount_up_to_it() {
        let mut b = book();
        b.plans[0].flex_cap = Some(money(5));
        b.cohorts[0].flex_price_by_plan[0] = Price::from_units(3);
        let mut l = open(&b, 0, day(2026, 1, 1), day(2026, 2, 1));
        // After 10 included: 5.00 of room at 3.00 = 1.666666 credits; 0.333334 blocked.
        let s = l.consume(day(2026, 1, 2), credits(12)).unwrap();
        assert_eq!(s.flex, Credits::from_micros(1_666_666));
        assert_eq!(s.blocked, Credits::from_micros(333_334));
        let o = l.finish().unwrap();
        // 1.666666 x 3.00 = 4.999998 -> 5.00.
        assert_eq!(o.totals.money.flex, money(5));
    }

    // ---- fair accounting: the unexpired share of the running cycle's fee ----
    // Shares are worked out in seconds (every instant here is a midnight; the ledger counts
    // nanoseconds, which gives the same ratio), rounded once to cents, half up.

    #[test]
    fn an_annual_plan_bought_a_month_before_the_end_credits_the_eleven_months_left() {
        let b = book();
        let mut l = open(&b, 0, day(2026, 1, 1), day(2027, 1, 1));
        // Monthly renewals on 01-01 .. 11-01 (11 x 10.00); the change on 12-01 replaces the
        // 12-01 renewal and charges the annual 100.00 for [2026-12-01, 2027-12-01).
        l.change_plan(day(2026, 12, 1), PlanId(1)).unwrap();
        let o = l.finish().unwrap();
        assert_eq!(o.totals.cash(), money(210));
        // 11 of the 12 months are left, by time: the cycle is 365 days (no 29 February in
        // it) = 31,536,000 s; from 2027-01-01 to 2027-12-01 is 334 days = 28,857,600 s.
        // 100.00 x 28,857,600 / 31,536,000 = 91.50684... -> 91.51 (11/12 by months would
        // be 91.67; months are not of equal length).
        assert_eq!(o.totals.unexpired_fee_value, Money::from_micros(91_510_000));
        // 210.00 - 91.51 = 118.49.
        assert_eq!(o.totals.economic_cost(), Money::from_micros(118_490_000));
    }

    #[test]
    fn a_monthly_fee_two_days_before_the_end_credits_the_days_left_seat_fees_included() {
        let mut b = book();
        b.plans[0].seat_fee = Money::from_micros(2_500_000); // 2.50 a seat
        let ws = Workspace {
            cohort: CohortId(0),
            seats: 3,
            plan: PlanId(0),
            anchor: day(2026, 1, 1),
        };
        let l = Ledger::open(&b, ws, day(2026, 3, 3), FLEX_ON).unwrap();
        let o = l.finish().unwrap();
        // Fee per cycle 10.00 + 3 x 2.50 = 17.50, charged 01-01, 02-01 and 03-01: 52.50.
        assert_eq!(o.totals.cash(), Money::from_micros(52_500_000));
        // March's cycle is 31 days = 2,678,400 s; 03-03 to 04-01 is 29 days = 2,505,600 s.
        // 17.50 x 2,505,600 / 2,678,400 = 16.370967... -> 16.37; 52.50 - 16.37 = 36.13.
        assert_eq!(o.totals.unexpired_fee_value, Money::from_micros(16_370_000));
        assert_eq!(o.totals.economic_cost(), Money::from_micros(36_130_000));
    }

    #[test]
    fn a_fee_forfeited_by_a_plan_change_is_not_credited() {
        let b = book();
        let mut l = open(&b, 0, day(2026, 1, 1), day(2026, 2, 1));
        // "monthly" 10.00 for [01-01, 02-01), cut at 01-20 by the change to "big" 30.00 for
        // [01-20, 02-20). No proration: the 12 days given up of the first fee are lost.
        l.change_plan(day(2026, 1, 20), PlanId(2)).unwrap();
        let o = l.finish().unwrap();
        assert_eq!(o.totals.cash(), money(40));
        // Only the running cycle: 31 days = 2,678,400 s, 02-01 to 02-20 is 19 days =
        // 1,641,600 s. 30.00 x 1,641,600 / 2,678,400 = 18.387096... -> 18.39.
        assert_eq!(o.totals.unexpired_fee_value, Money::from_micros(18_390_000));
        // 40.00 - 18.39 = 21.61 (crediting the forfeited fee too would take 10.00 x 12/31 =
        // 3.87 more).
        assert_eq!(o.totals.economic_cost(), Money::from_micros(21_610_000));
    }

    #[test]
    fn a_horizon_ending_on_a_cycle_boundary_credits_nothing() {
        let b = book();
        // Monthly: the cycle [02-01, 03-01) ends with the horizon; the 03-01 renewal is not
        // charged. Annual: the year ends with the horizon; the 2027 renewal is not charged.
        for (plan, end, fees) in [(0, day(2026, 3, 1), 20), (1, day(2027, 1, 1), 100)] {
            let o = open(&b, plan, day(2026, 1, 1), end).finish().unwrap();
            assert_eq!(o.totals.money.plan_fees, money(fees));
            assert_eq!(o.totals.unexpired_fee_value, Money::ZERO);
            assert_eq!(o.totals.economic_cost(), money(fees));
        }
    }

    #[test]
    fn the_unexpired_fee_is_rounded_once_by_the_books_rounding() {
        // A 0.10 fee, February 2026 (28 days), 7 days left: 0.10 x 604,800 / 2,419,200 =
        // 0.025 exactly, a tie: 0.03 half up, 0.02 half even.
        let mut b = book();
        b.plans[0].fee = Money::from_micros(100_000);
        for (rounding, cents) in [(Rounding::HalfUp, 3), (Rounding::HalfEven, 2)] {
            b.rounding = rounding;
            let o = open(&b, 0, day(2026, 2, 1), day(2026, 2, 22))
                .finish()
                .unwrap();
            assert_eq!(
                o.totals.unexpired_fee_value,
                Money::from_micros(cents * 10_000)
            );
        }
    }

    #[test]
    fn the_unexpired_fee_now_follows_time_inside_the_cycle() {
        // What a Monte Carlo month end reads: the annual 100.00 from 2026-01-01, seen just
        // before 04-01: 275 of 365 days left. 100.00 x 275 / 365 = 75.342... -> 75.34. Just
        // before a monthly renewal the cycle is used up: nothing.
        let b = book();
        let mut l = open(&b, 1, day(2026, 1, 1), day(2027, 1, 1));
        l.advance(day(2026, 4, 1), false).unwrap();
        assert_eq!(l.unexpired_fee_value_now(), Money::from_micros(75_340_000));
        assert_eq!(l.value_held_now(), Money::from_micros(75_340_000));
        let mut l = open(&b, 0, day(2026, 1, 1), day(2027, 1, 1));
        l.advance(day(2026, 4, 1), false).unwrap();
        assert_eq!(l.unexpired_fee_value_now(), Money::ZERO);
    }

    // ---- the second line: amounts past the limits stop the ledger with an error ----
    // These books are built directly, past what loading accepts (a scenario like them is
    // rejected by `analysis::worst_case`), to reach the ledger's own checks.

    #[test]
    fn a_fee_that_takes_cash_past_the_money_limit_is_an_error_not_a_wrap() {
        let mut b = book();
        b.plans[0].fee = Money::MAX; // 10^12: one cycle fits, the renewal does not
        let mut l = open(&b, 0, day(2026, 1, 1), day(2026, 3, 1));
        let e = l.advance(day(2026, 2, 1), true).unwrap_err();
        assert_eq!(e.what, "cash over the horizon");
        assert_eq!(e.limit, Money::MAX.to_decimal());
    }

    #[test]
    fn seats_times_a_seat_fee_past_the_limit_is_an_error_when_the_cycle_starts() {
        let mut b = book();
        b.plans[0].seat_fee = money(1_000_000_000); // 10^9 x 10^5 seats = 10^14
        let ws = Workspace {
            cohort: CohortId(0),
            seats: 100_000,
            plan: PlanId(0),
            anchor: day(2026, 1, 1),
        };
        let e = Ledger::open(&b, ws, day(2026, 2, 1), FLEX_ON)
            .err()
            .unwrap();
        assert_eq!(e.what, "the plan fee for its seats");
    }

    #[test]
    fn usage_past_the_credit_limit_is_an_error() {
        let b = book();
        let mut l = open(&b, 0, day(2026, 1, 1), day(2026, 2, 1));
        // (10^12 - 10) flex credits at 2.00 are invoiced when the period closes: ~2 x 10^12.
        l.consume(day(2026, 1, 2), Credits::MAX).unwrap();
        assert_eq!(l.finish().unwrap_err().what, "a flex invoice");
        let mut l = open(&b, 0, day(2026, 1, 1), day(2026, 2, 1));
        l.set_flex(
            day(2026, 1, 1),
            FlexSetting {
                enabled: false,
                cap: CapSetting::PlanDefault,
            },
        )
        .unwrap();
        l.consume(day(2026, 1, 2), Credits::MAX).unwrap(); // blocked, but within the limit
        let e = l
            .consume(day(2026, 1, 3), Credits::from_micros(1))
            .unwrap_err();
        assert_eq!(e.what, "credits demanded over the horizon");
    }

    #[test]
    fn a_purchase_line_past_the_limits_is_an_error() {
        let b = book();
        let mut l = open(&b, 0, day(2026, 1, 1), day(2026, 2, 1));
        // b10: 10 credits for 15.00. 10^11 of them = 10^12 credits (at the limit) for
        // 1.5 x 10^12 (past it).
        let e = l
            .purchase(day(2026, 1, 1), Purchase::Bundle(0), 100_000_000_000)
            .unwrap_err();
        assert_eq!(e.what, "price of one purchase line");
        let e = l
            .purchase(day(2026, 1, 1), Purchase::Bundle(0), 100_000_000_001)
            .unwrap_err();
        assert_eq!(e.what, "credits of one purchase line");
        // Two lines that fit one by one: 6 x 10^10 bundles = 6 x 10^11 credits for 9 x 10^11.
        l.purchase(day(2026, 1, 1), Purchase::Bundle(0), 60_000_000_000)
            .unwrap();
        let e = l
            .purchase(day(2026, 1, 1), Purchase::Bundle(1), 1)
            .and_then(|()| l.purchase(day(2026, 1, 1), Purchase::Bundle(0), 60_000_000_000))
            .unwrap_err();
        assert_eq!(e.what, "prepaid credits bought over the horizon");
    }

    /// Totals only: the same totals as the statements sum to, nothing kept, and statement
    /// numbers that still count every period (a plan change, purchases, expiry, a flex
    /// invoice and a cap in between). The totals themselves are pinned by the other tests.
    #[test]
    fn totals_only_gives_the_statements_totals_and_keeps_none() {
        let b = book();
        let run = |totals_only: bool| {
            let mut l = open(&b, 0, day(2026, 1, 1), day(2026, 5, 1));
            if totals_only {
                l.totals_only();
            }
            l.consume(day(2026, 1, 5), credits(14)).unwrap();
            l.purchase(day(2026, 1, 6), Purchase::Bundle(1), 2).unwrap();
            l.consume(day(2026, 2, 3), credits(30)).unwrap();
            l.change_plan(day(2026, 2, 10), PlanId(2)).unwrap();
            l.purchase(day(2026, 3, 1), Purchase::Bundle(0), 1).unwrap();
            l.consume(day(2026, 3, 20), credits(25)).unwrap();
            let open_number = l.statement.number;
            (l.finish().unwrap(), open_number)
        };
        let ((kept, kept_number), (summed, summed_number)) = (run(false), run(true));
        assert_eq!(summed.totals, kept.totals);
        assert!(summed.statements.is_empty());
        assert!(kept.statements.len() >= 4, "January, the cut February, ...");
        assert_eq!(summed_number, kept_number);
    }

    #[test]
    fn purchases_of_one_item_share_a_line_per_statement() {
        // b10: 10 credits for 15.00; b5x: 5 for 5.00. January: b10 on the 2nd, 3rd (2 of
        // them) and 20th, b5x on the 4th; February: b10 on the 1st.
        let b = book();
        let mut l = open(&b, 0, day(2026, 1, 1), day(2026, 3, 1));
        l.purchase(day(2026, 1, 2), Purchase::Bundle(0), 1).unwrap();
        l.purchase(day(2026, 1, 3), Purchase::Bundle(0), 2).unwrap();
        l.purchase(day(2026, 1, 4), Purchase::Bundle(1), 1).unwrap();
        l.purchase(day(2026, 1, 20), Purchase::Bundle(0), 1)
            .unwrap();
        l.purchase(day(2026, 2, 1), Purchase::Bundle(0), 1).unwrap();
        let o = l.finish().unwrap();
        let january = &o.statements[0].lines;
        assert_eq!(january.len(), 3, "the fee, b10 (3 charges), b5x");
        let b10 = january[1];
        assert_eq!(
            (b10.at, b10.last_at, b10.charges),
            (day(2026, 1, 2), day(2026, 1, 20), 3)
        );
        assert_eq!(
            b10.kind,
            LineKind::Prepaid {
                purchase: Purchase::Bundle(0),
                quantity: 4 // 1 + 2 + 1
            }
        );
        assert_eq!((b10.credits, b10.money), (credits(40), money(60))); // 4 x 10, 4 x 15.00
        assert_eq!(january[2].money, money(5));
        let february = &o.statements[1].lines;
        assert_eq!(february.len(), 2, "the renewal and a new b10 line");
        assert_eq!(o.totals.purchases, 6); // 4 + 1 + 1 bundles
        assert_eq!(o.totals.money.prepaid, money(80)); // 60 + 5 + 15
    }
}
