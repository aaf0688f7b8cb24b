//! The one registry of what a result is made of: every metric's name, kind (hence unit),
//! scope, meaning and extractor. `check` fields, the replay tables, JSON and CSV, and the
//! notebooks data dictionary (`tests/notebooks_data.rs` compares them) all read it, so a
//! metric means the same thing everywhere.

use crate::engine::ledger::{Outcome, Statement};
use crate::model::amounts::{Credits, Money};
use crate::model::calendar::{display, Instant};
use crate::model::pricing::PricingBook;
use rust_decimal::Decimal;

/// What kind of value a field holds, which decides how expected and actual compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Money,
    Credits,
    /// A decimal that is not charged (a per-credit price).
    Ratio,
    Count,
    Plan,
    /// An instant, or "none".
    Instant,
}

/// Where a field can be asked: the horizon's totals, a statement, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldScope {
    Totals,
    Statement,
    Both,
}

macro_rules! fields {
    ($( $variant:ident => $name:literal, $kind:ident, $scope:ident, $doc:literal; )*) => {
        /// Every value an expectation can pin. `check` computes each from an outcome.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Field { $( #[doc = $doc] $variant, )* }

        impl Field {
            pub const ALL: &'static [Field] = &[$(Field::$variant),*];

            pub fn name(self) -> &'static str {
                match self { $(Field::$variant => $name,)* }
            }

            /// What the number means, for people: data dictionaries, `--help`, reports.
            pub fn meaning(self) -> &'static str {
                match self { $(Field::$variant => $doc,)* }
            }

            pub fn kind(self) -> FieldKind {
                match self { $(Field::$variant => FieldKind::$kind,)* }
            }

            pub fn scope(self) -> FieldScope {
                match self { $(Field::$variant => FieldScope::$scope,)* }
            }

        }
    };
}

fields! {
    Cash => "cash", Money, Both, "all money charged: plan fees + prepaid purchases + flex invoices";
    EconomicCost => "economic_cost", Money, Totals, "cash minus what is still owned at the horizon's end: unused_prepaid_value and unexpired_fee_value";
    MoneyPlanFees => "money.plan_fees", Money, Both, "plan fees (charged at cycle start)";
    MoneyPrepaid => "money.prepaid", Money, Both, "prepaid purchases";
    MoneyFlex => "money.flex", Money, Both, "flex invoices (one rounded line per flex period)";
    UnusedPrepaidValue => "unused_prepaid_value", Money, Totals, "cost basis of prepaid credits unused at the horizon's end";
    UnexpiredFeeValue => "unexpired_fee_value", Money, Totals, "unexpired share of the plan fee of the cycle running at the horizon's end, pro rata by time";
    EffectivePrice => "effective_price", Ratio, Totals, "economic cost per consumed credit (4 decimals, half up)";
    CreditsDemanded => "credits.demanded", Credits, Both, "credits the usage asked for";
    CreditsIncluded => "credits.included", Credits, Both, "consumed from included credits";
    CreditsPrepaid => "credits.prepaid", Credits, Both, "consumed from prepaid lots";
    CreditsFlex => "credits.flex", Credits, Both, "consumed as flex";
    CreditsBlocked => "credits.blocked", Credits, Both, "refused: no pool could serve them";
    CreditsGrantedIncluded => "credits.granted_included", Credits, Both, "included credits granted at cycle starts";
    CreditsExpiredIncluded => "credits.expired_included", Credits, Both, "included credits that expired at a cycle's end";
    CreditsPurchasedPrepaid => "credits.purchased_prepaid", Credits, Both, "prepaid credits bought";
    CreditsExpiredPrepaid => "credits.expired_prepaid", Credits, Both, "prepaid credits that expired unused";
    CreditsRemainingIncluded => "credits.remaining_included", Credits, Totals, "included credits left at the horizon's end (neither expired nor valued)";
    CreditsUnusedPrepaid => "credits.unused_prepaid", Credits, Totals, "prepaid credits left at the horizon's end";
    Alerts => "alerts", Count, Both, "usage alerts fired";
    Purchases => "purchases", Count, Totals, "prepaid items bought (3 bundles bought at once count 3)";
    PlanChanges => "plan_changes", Count, Totals, "plan changes made";
    FinalPlan => "final_plan", Plan, Totals, "plan in force at the horizon's end";
    FirstBlockedAt => "first_blocked_at", Instant, Both, "when usage was first refused, or \"none\"";
    Plan => "plan", Plan, Statement, "plan in force during the statement";
    Start => "start", Instant, Statement, "statement period start";
    End => "end", Instant, Statement, "statement period end (exclusive)";
}

impl Field {
    pub fn by_name(name: &str) -> Option<Field> {
        Field::ALL.iter().copied().find(|f| f.name() == name)
    }

    pub fn allowed_in(self, statement: bool) -> bool {
        match self.scope() {
            FieldScope::Both => true,
            FieldScope::Totals => !statement,
            FieldScope::Statement => statement,
        }
    }

    /// The unit the value is in, for a book in `currency`.
    pub fn unit(self, currency: &str) -> String {
        match self.kind() {
            FieldKind::Money => currency.to_string(),
            FieldKind::Credits => "credits".to_string(),
            FieldKind::Ratio => format!("{currency} per credit"),
            FieldKind::Count => String::new(),
            FieldKind::Plan => String::new(),
            FieldKind::Instant => "UTC".to_string(),
        }
    }
}

/// Decimals of the effective price per credit.
pub const EFFECTIVE_PRICE_DIGITS: u32 = 4;

/// A field's computed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actual {
    Money(Money),
    Credits(Credits),
    Ratio(Option<Decimal>),
    Count(u64),
    Text(String),
    Instant(Option<Instant>),
}

impl Actual {
    /// As a person reads it: money with the currency's minor digits.
    pub fn render(&self, book: &PricingBook) -> String {
        match self {
            Actual::Money(m) => m.to_decimal_minor(book.minor_digits).to_string(),
            Actual::Credits(c) => c.to_decimal().to_string(),
            Actual::Ratio(Some(d)) => d.to_string(),
            Actual::Ratio(None) => "n/a".to_string(),
            Actual::Count(n) => n.to_string(),
            Actual::Text(t) => t.clone(),
            Actual::Instant(Some(t)) => display(*t),
            Actual::Instant(None) => "none".to_string(),
        }
    }
}

/// The value of `field` for a whole outcome (`statement` None) or one statement.
pub fn actual(
    field: Field,
    book: &PricingBook,
    outcome: &Outcome,
    statement: Option<&Statement>,
) -> Actual {
    let t = &outcome.totals;
    let (money, credits, alerts, first_blocked) = match statement {
        Some(s) => (s.money(), s.credits, s.alerts, s.first_blocked_at),
        None => (t.money, t.credits, t.alerts, t.first_blocked_at),
    };
    let plan_name = |p: crate::model::pricing::PlanId| book.plans[p.0].id.clone();
    match field {
        Field::Cash => Actual::Money(money.cash()),
        Field::EconomicCost => Actual::Money(t.economic_cost()),
        Field::MoneyPlanFees => Actual::Money(money.plan_fees),
        Field::MoneyPrepaid => Actual::Money(money.prepaid),
        Field::MoneyFlex => Actual::Money(money.flex),
        Field::UnusedPrepaidValue => Actual::Money(t.unused_prepaid_value),
        Field::UnexpiredFeeValue => Actual::Money(t.unexpired_fee_value),
        Field::EffectivePrice => Actual::Ratio(
            t.economic_cost()
                .per_credit(t.credits.consumed(), EFFECTIVE_PRICE_DIGITS),
        ),
        Field::CreditsDemanded => Actual::Credits(credits.demanded),
        Field::CreditsIncluded => Actual::Credits(credits.included),
        Field::CreditsPrepaid => Actual::Credits(credits.prepaid),
        Field::CreditsFlex => Actual::Credits(credits.flex),
        Field::CreditsBlocked => Actual::Credits(credits.blocked),
        Field::CreditsGrantedIncluded => Actual::Credits(credits.granted_included),
        Field::CreditsExpiredIncluded => Actual::Credits(credits.expired_included),
        Field::CreditsPurchasedPrepaid => Actual::Credits(credits.purchased_prepaid),
        Field::CreditsExpiredPrepaid => Actual::Credits(credits.expired_prepaid),
        Field::CreditsRemainingIncluded => Actual::Credits(t.remaining_included),
        Field::CreditsUnusedPrepaid => Actual::Credits(t.unused_prepaid),
        Field::Alerts => Actual::Count(u64::from(alerts)),
        Field::Purchases => Actual::Count(t.purchases),
        Field::PlanChanges => Actual::Count(u64::from(t.plan_changes)),
        Field::FinalPlan => Actual::Text(plan_name(t.final_plan)),
        Field::FirstBlockedAt => Actual::Instant(first_blocked),
        Field::Plan => Actual::Text(statement.map(|s| plan_name(s.plan)).unwrap_or_default()),
        Field::Start => Actual::Instant(statement.map(|s| s.period.start)),
        Field::End => Actual::Instant(statement.map(|s| s.period.end)),
    }
}
