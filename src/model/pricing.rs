//! The validated pricing book: plans, cohorts with their flex prices and prepaid catalog,
//! and the rate card. Built by `scenario` from TOML after validation; everything here is
//! already known to be consistent (ids resolve, cohorts and rate versions do not overlap).

use crate::model::amounts::{
    AmountError, CreditRatio, Credits, LimitExceeded, Money, Price, Rounding,
};
use crate::model::calendar::Instant;
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// Index of a plan in [`PricingBook::plans`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PlanId(pub usize);

/// Index of a cohort in [`PricingBook::cohorts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CohortId(pub usize);

/// Index of a metric in [`RateCard::metrics`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MetricId(pub usize);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CycleKind {
    Monthly,
    Annual,
}

impl CycleKind {
    pub fn months(self) -> u32 {
        match self {
            CycleKind::Monthly => 1,
            CycleKind::Annual => 12,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            CycleKind::Monthly => "monthly",
            CycleKind::Annual => "annual",
        }
    }
}

/// Over which period the flex cap (billing threshold) limits flex money.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapPeriod {
    /// The plan cycle: 100 USD a month on monthly plans, 1,200 USD a year on annual ones.
    Cycle,
    /// Each monthly flex period, also on annual plans.
    FlexPeriod,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub id: String,
    pub name: String,
    pub cycle: CycleKind,
    /// Charged at cycle start (annual plans: the whole year upfront).
    pub fee: Money,
    pub seat_fee: Money,
    /// Granted at cycle start (annual plans: the whole year's amount).
    pub included: Credits,
    pub included_per_seat: Credits,
    /// Default flex cap per cap period; `None` means uncapped.
    pub flex_cap: Option<Money>,
    pub cap_period: CapPeriod,
}

impl Plan {
    /// The fee for a cycle with `seats` seats, or the limit it would pass.
    pub fn fee_for(&self, seats: u32) -> Result<Money, LimitExceeded> {
        const WHAT: &str = "the plan fee for its seats";
        self.fee
            .plus(self.seat_fee.times(u64::from(seats), WHAT)?, WHAT)
    }

    /// The credits granted for a cycle with `seats` seats, or the limit they would pass.
    pub fn included_for(&self, seats: u32) -> Result<Credits, LimitExceeded> {
        const WHAT: &str = "the plan's included credits for its seats";
        self.included
            .plus(self.included_per_seat.times(u64::from(seats), WHAT)?, WHAT)
    }
}

/// A fixed-size prepaid bundle, priced once when the book is loaded.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub id: String,
    pub credits: Credits,
    /// What the bundle costs, already rounded to the minor unit.
    pub price: Money,
    pub expires_after_days: Option<u32>,
}

/// Purchases of any amount of money between `min` and `max`, converted to credits at the
/// cohort's prepaid base price.
#[derive(Debug, Clone)]
pub struct OpenAmount {
    pub min: Money,
    pub max: Money,
    pub expires_after_days: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct Cohort {
    pub id: String,
    /// Workspaces created on or after this date (inclusive); `None`: since ever.
    pub created_from: Option<NaiveDate>,
    /// Workspaces created before this date (exclusive); `None`: until forever.
    pub created_until: Option<NaiveDate>,
    pub prepaid_base_price: Price,
    /// Flex price for each plan, indexed by [`PlanId`].
    pub flex_price_by_plan: Vec<Price>,
    pub bundles: Vec<Bundle>,
    pub open_amount: Option<OpenAmount>,
}

impl Cohort {
    pub fn admits(&self, created: NaiveDate) -> bool {
        self.created_from.is_none_or(|from| created >= from)
            && self.created_until.is_none_or(|until| created < until)
    }

    pub fn flex_price(&self, plan: PlanId) -> Price {
        self.flex_price_by_plan[plan.0]
    }

    pub fn bundle(&self, id: &str) -> Option<usize> {
        self.bundles.iter().position(|b| b.id == id)
    }
}

/// How prepaid lots are ordered for consumption.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LotOrder {
    /// Earliest expiry first, never-expiring last, then oldest purchase first.
    #[default]
    ExpiryThenPurchase,
    /// Oldest purchase first, whatever the expiry.
    PurchaseOrder,
}

/// One effective-dated rate: `credits` per `per` units of the metric, in force on
/// `[from, until)`.
#[derive(Debug, Clone, PartialEq)]
pub struct RateVersion {
    pub from: Option<Instant>,
    pub until: Option<Instant>,
    pub credits: Decimal,
    pub per: Decimal,
    /// `credits / per`, prepared for converting quantities.
    pub ratio: CreditRatio,
}

impl RateVersion {
    /// `None` when `credits / per` is beyond any exact conversion (see [`CreditRatio::new`]).
    pub fn new(
        from: Option<Instant>,
        until: Option<Instant>,
        credits: Decimal,
        per: Decimal,
    ) -> Option<RateVersion> {
        Some(RateVersion {
            from,
            until,
            credits,
            per,
            ratio: CreditRatio::new(credits, per)?,
        })
    }

    pub fn in_force(&self, t: Instant) -> bool {
        self.from.is_none_or(|from| t >= from) && self.until.is_none_or(|until| t < until)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub name: String,
    pub unit: String,
    /// Sorted by start; validated not to overlap.
    pub versions: Vec<RateVersion>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RateCard {
    pub metrics: Vec<Metric>,
}

/// Why a metric quantity could not be turned into credits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateError {
    #[error("metric \"{metric}\" has no rate in force at {at} (its rates are in force {periods})")]
    NoRateInForce {
        metric: String,
        at: String,
        periods: String,
    },
    /// The quantity is fine on its own; the credits it converts to are past the limit.
    #[error("quantity {quantity} converts to more than {max} credits, the limit per usage event (rate of \"{metric}\": {credits} credits per {per} {unit})")]
    TooManyCredits {
        metric: String,
        quantity: Decimal,
        max: Credits,
        credits: Decimal,
        per: Decimal,
        unit: String,
    },
    #[error("{0}")]
    Amount(#[from] AmountError),
}

impl RateCard {
    pub fn metric(&self, name: &str) -> Option<MetricId> {
        self.metrics
            .iter()
            .position(|m| m.name == name)
            .map(MetricId)
    }

    pub fn metric_names(&self) -> Vec<&str> {
        self.metrics.iter().map(|m| m.name.as_str()).collect()
    }

    /// The error message for a metric the card does not know, listing the known ones.
    pub fn unknown_metric(&self, name: &str) -> String {
        let known = self.metric_names();
        format!(
            "unknown metric \"{}\" (known: {})",
            crate::model::diag::shown(name),
            if known.is_empty() {
                "none: the book has no [[rates]]".to_string()
            } else {
                known.join(", ")
            }
        )
    }

    /// Credits for `quantity` of `metric` used at `at`, rounded once to the credit resolution.
    pub fn credits(
        &self,
        metric: MetricId,
        at: Instant,
        quantity: Decimal,
        mode: Rounding,
    ) -> Result<Credits, RateError> {
        let version = self.version(metric, at)?;
        version
            .ratio
            .credits(quantity, mode)
            .map_err(|e| self.amount_error(metric, version, quantity, e))
    }

    /// The error converting `quantity` of `metric` at `version` gave, worded for the
    /// quantity: a credits limit exceeded says so, with the rate that made the credits.
    pub fn amount_error(
        &self,
        metric: MetricId,
        version: &RateVersion,
        quantity: Decimal,
        error: AmountError,
    ) -> RateError {
        match error {
            AmountError::TooLarge { .. } => {
                let m = &self.metrics[metric.0];
                RateError::TooManyCredits {
                    metric: m.name.clone(),
                    quantity,
                    max: crate::model::amounts::CREDITS_MAX,
                    credits: version.credits,
                    per: version.per,
                    unit: m.unit.clone(),
                }
            }
            other => RateError::Amount(other),
        }
    }

    /// The rate of `metric` in force at `at`.
    pub fn version(&self, metric: MetricId, at: Instant) -> Result<&RateVersion, RateError> {
        let m = &self.metrics[metric.0];
        m.versions
            .iter()
            .find(|v| v.in_force(at))
            .ok_or_else(|| RateError::NoRateInForce {
                metric: m.name.clone(),
                at: crate::model::calendar::display(at),
                periods: m
                    .versions
                    .iter()
                    .map(|v| {
                        let end = |t: Option<Instant>| t.map(crate::model::calendar::display);
                        format!(
                            "{}..{}",
                            end(v.from).unwrap_or_default(),
                            end(v.until).unwrap_or_default()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

#[derive(Debug, Clone)]
pub struct PricingBook {
    pub name: String,
    pub currency: String,
    /// Decimals of the currency's minor unit (2 for USD and EUR, 0 for JPY).
    pub minor_digits: u32,
    pub rounding: Rounding,
    pub plans: Vec<Plan>,
    pub cohorts: Vec<Cohort>,
    pub rates: RateCard,
    pub flex_enabled_default: bool,
    /// The usage alert fires once per cycle when consumed included credits reach this share.
    pub alert_threshold_percent: u32,
    pub lot_order: LotOrder,
}

impl PricingBook {
    pub fn plan(&self, id: &str) -> Option<PlanId> {
        self.plans.iter().position(|p| p.id == id).map(PlanId)
    }

    pub fn plan_ids(&self) -> Vec<&str> {
        self.plans.iter().map(|p| p.id.as_str()).collect()
    }

    /// The cohort that admits a workspace created on `created`; validation guarantees at
    /// most one.
    pub fn cohort_for(&self, created: NaiveDate) -> Option<CohortId> {
        self.cohorts
            .iter()
            .position(|c| c.admits(created))
            .map(CohortId)
    }
}
