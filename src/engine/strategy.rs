//! Strategies: when to buy prepaid credits, change plan or switch flex, decided from ledger
//! state. A strategy is data (built from a scenario); its decisions depend only on what the
//! ledger shows, so every strategy can replay the same usage stream.

use crate::engine::ledger::{purchase_terms, FlexSetting, Ledger, Purchase};
use crate::model::amounts::{Credits, ExactMoney, LimitExceeded, Money, Rounding, SCALE_DIGITS};
use crate::model::calendar::Instant;
use crate::model::pricing::{Cohort, PlanId, PricingBook};

/// What the purchase rules (top-up, buy on alert) read of the state they answer: the
/// ledger's, or the month-by-month replay's (`engine::monthly`), so that both decide by this
/// one code.
pub trait Holdings {
    fn book(&self) -> &PricingBook;
    /// The cohort the workspace buys from.
    fn cohort(&self) -> &Cohort;
    fn prepaid_balance(&self) -> Credits;
    fn previous_cycle_flex_credits(&self) -> Credits;
    fn included_remaining(&self) -> Credits;
    /// Usage the included credits can still serve before the usage alert fires, `None`
    /// when it cannot fire again this cycle (see `Ledger::credits_until_alert`).
    fn credits_until_alert(&self) -> Option<Credits>;

    /// Credits one `purchase` adds.
    fn credits_of(&self, purchase: Purchase) -> Result<Credits, LimitExceeded> {
        Ok(purchase_terms(self.cohort(), purchase, 1)?.0)
    }
}

impl Holdings for Ledger<'_> {
    fn book(&self) -> &PricingBook {
        Ledger::book(self)
    }

    fn cohort(&self) -> &Cohort {
        &Ledger::book(self).cohorts[self.workspace().cohort.0]
    }

    fn prepaid_balance(&self) -> Credits {
        Ledger::prepaid_balance(self)
    }

    fn previous_cycle_flex_credits(&self) -> Credits {
        Ledger::previous_cycle_flex_credits(self)
    }

    fn included_remaining(&self) -> Credits {
        Ledger::included_remaining(self)
    }

    fn credits_until_alert(&self) -> Option<Credits> {
        Ledger::credits_until_alert(self)
    }
}

/// Something a strategy does to the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `quantity` x `purchase`, bought at once in one line.
    Buy {
        purchase: Purchase,
        quantity: u64,
    },
    ChangePlan(PlanId),
    SetFlex(FlexSetting),
}

impl Action {
    /// One of `purchase`.
    pub fn buy_one(purchase: Purchase) -> Action {
        Action::Buy {
            purchase,
            quantity: 1,
        }
    }
}

/// An action at a fixed instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scheduled {
    pub at: Instant,
    pub action: Action,
}

/// Buy `purchase` whenever the prepaid balance is below `below_credits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopUp {
    pub below_credits: Credits,
    pub purchase: Purchase,
}

/// Change to `to` as soon as the current cycle's flex money exceeds `flex_spend_over`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upgrade {
    pub to: PlanId,
    pub flex_spend_over: Money,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Strategy {
    pub name: String,
    /// The plan the subscription starts on, when the strategy chooses it (else the
    /// workspace's plan).
    pub start_plan: Option<PlanId>,
    pub flex: FlexSetting,
    /// Sorted by instant; actions at one instant keep their file order.
    pub scheduled: Vec<Scheduled>,
    pub buy_at_start: Vec<Purchase>,
    pub top_up: Option<TopUp>,
    /// On the usage alert, buy the smallest bundle covering the previous cycle's flex credits.
    pub buy_on_alert: bool,
    pub upgrade: Option<Upgrade>,
}

impl Strategy {
    /// A strategy that only pays as it goes, with the book's flex default.
    pub fn pay_as_you_go(name: &str, flex: FlexSetting) -> Strategy {
        Strategy {
            name: name.to_string(),
            start_plan: None,
            flex,
            scheduled: Vec::new(),
            buy_at_start: Vec::new(),
            top_up: None,
            buy_on_alert: false,
            upgrade: None,
        }
    }

    /// The same rules under another pricing book: every plan and every purchase it names
    /// translated (`impact` carries a customer's behaviour over to a new book this way).
    pub fn translated(
        &self,
        plan: impl Fn(PlanId) -> PlanId,
        purchase: impl Fn(Purchase) -> Purchase,
    ) -> Strategy {
        let action = |a: Action| match a {
            Action::Buy {
                purchase: p,
                quantity,
            } => Action::Buy {
                purchase: purchase(p),
                quantity,
            },
            Action::ChangePlan(p) => Action::ChangePlan(plan(p)),
            Action::SetFlex(f) => Action::SetFlex(f),
        };
        Strategy {
            name: self.name.clone(),
            start_plan: self.start_plan.map(&plan),
            flex: self.flex,
            scheduled: (self.scheduled.iter())
                .map(|s| Scheduled {
                    at: s.at,
                    action: action(s.action),
                })
                .collect(),
            buy_at_start: self.buy_at_start.iter().map(|p| purchase(*p)).collect(),
            top_up: self.top_up.map(|t| TopUp {
                below_credits: t.below_credits,
                purchase: purchase(t.purchase),
            }),
            buy_on_alert: self.buy_on_alert,
            upgrade: self.upgrade.map(|u| Upgrade {
                to: plan(u.to),
                flex_spend_over: u.flex_spend_over,
            }),
        }
    }
    pub fn on_start(
        &self,
        ledger: &Ledger<'_>,
        out: &mut Vec<Action>,
    ) -> Result<(), LimitExceeded> {
        out.extend(self.buy_at_start.iter().map(|p| Action::buy_one(*p)));
        self.top_up_if_low(ledger, out)
    }

    /// Whether any state of the ledger can make the strategy act: [`Strategy::after_change`]
    /// and [`Strategy::on_alert`] act only through these rules (its scheduled actions and
    /// purchases at start are handed over at their instants, whatever the state).
    pub fn reacts(&self) -> bool {
        // Every field named: a new rule cannot be added without deciding here.
        let Strategy {
            name: _,
            start_plan: _,
            flex: _,
            scheduled: _,
            buy_at_start: _,
            top_up,
            buy_on_alert,
            upgrade,
        } = self;
        top_up.is_some() || upgrade.is_some() || *buy_on_alert
    }

    /// At every instant something happened (usage, a scheduled action, a cycle start), after
    /// the ledger's alerts were answered. A lot that expires between two such instants is
    /// topped up at the next one.
    pub fn after_change(
        &self,
        ledger: &Ledger<'_>,
        out: &mut Vec<Action>,
    ) -> Result<(), LimitExceeded> {
        self.top_up_if_low(ledger, out)?;
        if let Some(up) = self.upgrade {
            if ledger.plan() != up.to
                && ledger.cycle_flex_money() > ExactMoney::from_money(up.flex_spend_over)
            {
                out.push(Action::ChangePlan(up.to));
            }
        }
        Ok(())
    }

    pub fn on_alert(
        &self,
        ledger: &impl Holdings,
        out: &mut Vec<Action>,
    ) -> Result<(), LimitExceeded> {
        if !self.buy_on_alert {
            return Ok(());
        }
        let wanted = ledger.previous_cycle_flex_credits();
        if wanted.is_zero() {
            // Nothing to cover: the recommendation covers *recent overage*, and there was none.
            return Ok(());
        }
        if let Some(p) = smallest_purchase_covering(ledger, wanted)? {
            out.push(Action::buy_one(p));
        }
        Ok(())
    }

    /// How much usage the ledger can serve from now, crossing no boundary, before a rule of
    /// this strategy could act: `None` when no rule can (paying as it goes, buying at fixed
    /// instants). Usage within the budget can be served as one run (`Ledger::consume_run`)
    /// with the outcome of serving it event by event, since the strategy would answer every
    /// one of those events with nothing.
    pub fn quiet_budget(&self, ledger: &Ledger<'_>) -> Option<Credits> {
        let purchases = self.purchase_quiet_budget(ledger);
        let upgrade = self
            .upgrade
            .filter(|up| ledger.plan() != up.to && ledger.flex_enabled())
            .map(|up| {
                // Flex money grows only after included and prepaid credits; the rule acts
                // once it passes the threshold, so the flex credits it affords are quiet.
                let room = ExactMoney::from_money(up.flex_spend_over) - ledger.cycle_flex_money();
                let flex = room.credits_affordable(ledger.flex_price());
                // A huge room at a tiny price affords more than any amount: saturate.
                let quiet = i128::from(ledger.included_remaining().micros())
                    + i128::from(ledger.prepaid_balance().micros())
                    + i128::from(flex.micros());
                Credits::from_micros(i64::try_from(quiet).unwrap_or(i64::MAX))
            });
        match (purchases, upgrade) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// [`Strategy::quiet_budget`] of the purchase rules alone (top-up, buy on alert), which
    /// read only [`Holdings`]: what the month-by-month replay serves as one amount.
    pub(crate) fn purchase_quiet_budget(&self, holdings: &impl Holdings) -> Option<Credits> {
        let mut budget: Option<Credits> = None;
        let mut at_most = |c: Credits| budget = Some(budget.map_or(c, |b| b.min(c)));
        if let Some(top_up) = self.top_up {
            // Usage takes included credits first, then the lots: the balance stays at the
            // threshold or above while at most `included + balance - threshold` is used.
            let balance = holdings.prepaid_balance();
            if balance >= top_up.below_credits {
                at_most(holdings.included_remaining() + (balance - top_up.below_credits));
            } else {
                at_most(Credits::ZERO);
            }
        }
        if self.buy_on_alert {
            if let Some(c) = holdings.credits_until_alert() {
                at_most(c);
            }
        }
        budget
    }

    /// Buys, in one line, as many of the top-up purchase as bring the balance (counting
    /// purchases already decided at this instant, `out`) to the threshold. One line of n
    /// bundles is the same credits, cost and expiry as n lines, and a huge threshold over a
    /// tiny bundle costs one division instead of n purchases.
    pub(crate) fn top_up_if_low(
        &self,
        ledger: &impl Holdings,
        out: &mut Vec<Action>,
    ) -> Result<(), LimitExceeded> {
        const WHAT: &str = "the prepaid balance with this instant's purchases";
        let Some(top_up) = self.top_up else {
            return Ok(());
        };
        let mut balance = ledger.prepaid_balance();
        for action in out.iter() {
            if let Action::Buy { purchase, quantity } = *action {
                let bought = ledger.credits_of(purchase)?.times(quantity, WHAT)?;
                balance.grow(bought, WHAT)?;
            }
        }
        if balance >= top_up.below_credits {
            return Ok(());
        }
        let short = (top_up.below_credits - balance).micros();
        let each = ledger.credits_of(top_up.purchase)?.micros();
        // Both positive: the threshold is above the balance, and purchases buy something.
        let quantity = (short as u64).div_ceil(each as u64);
        out.push(Action::Buy {
            purchase: top_up.purchase,
            quantity,
        });
        Ok(())
    }
}

/// The smallest bundle of the cohort with at least `wanted` credits, else the largest one;
/// where the cohort sells open amounts instead, the smallest amount (whole minor units, within
/// the purchase limits) that buys `wanted`.
pub fn smallest_purchase_covering(
    holdings: &impl Holdings,
    wanted: Credits,
) -> Result<Option<Purchase>, LimitExceeded> {
    let (book, cohort) = (holdings.book(), holdings.cohort());
    if !cohort.bundles.is_empty() {
        let covering = cohort
            .bundles
            .iter()
            .enumerate()
            .filter(|(_, b)| b.credits >= wanted)
            .min_by_key(|(i, b)| (b.credits, *i));
        let largest = cohort
            .bundles
            .iter()
            .enumerate()
            .max_by_key(|(i, b)| (b.credits, usize::MAX - i));
        return Ok(covering.or(largest).map(|(i, _)| Purchase::Bundle(i)));
    }
    let Some(open) = cohort.open_amount.as_ref() else {
        return Ok(None);
    };
    let exact = ExactMoney::of(wanted, cohort.prepaid_base_price);
    // Round up to the minor unit so the amount really covers `wanted`; an amount past the
    // money limit is past the largest one sold too.
    let money = match exact.round_to_minor(book.minor_digits, Rounding::HalfUp, "") {
        Ok(money) if money < open.max => {
            let covers = cohort.prepaid_base_price.credits_for(money)? >= wanted;
            let minor_unit = Money::from_micros(10i64.pow(SCALE_DIGITS - book.minor_digits));
            if covers {
                money
            } else {
                money + minor_unit // both whole minor units, so still at most open.max
            }
        }
        _ => open.max,
    };
    Ok(Some(Purchase::OpenAmount(if money < open.min {
        open.min
    } else {
        money
    })))
}
