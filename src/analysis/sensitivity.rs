//! Which assumption matters most: one parameter at a time over a low and a high change from
//! the base, every run on the same random numbers (path `k` is the same draw at every
//! setting, so a difference is the parameter's, not noise's).
//!
//! The setups compared are the case's strategies; the recommended one is the cheapest by
//! mean in the measure at the base (ties: the first listed), the runner-up the next. For each
//! parameter: the recommended setup's mean cost at the low and the high end (the tornado),
//! the gap to the runner-up there, and, where the cheapest setup at an end is another one,
//! the change at which it stops being the recommended one, found by bisection to
//! [`FLIP_RESOLUTION`] of a percent or point.
//!
//! Parameters change the inputs, never the engine: prices and fees are scaled and rounded to
//! the book's resolution, usage models are rebuilt with their means, growth or spreads moved.

use crate::analysis::montecarlo::{self, Comparison, Measure, SimConfig, SimulateError};
use crate::analysis::Case;
use crate::model::amounts::{Credits, Money, Price};
use crate::model::pricing::PricingBook;
use crate::usage::synthetic::{Activity, Bootstrap, MetricModel, Spread, UsageModel};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use std::sync::Arc;

/// Bisection stops when the bracket is this narrow (percent or percentage points).
pub const FLIP_RESOLUTION: Decimal = Decimal::from_parts(1, 0, 0, false, 2);
/// Most bisection steps per flip.
const BISECTION_STEPS_MAX: u32 = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parameter {
    /// Every flex price, in percent.
    FlexPrice,
    /// Every bundle's discount, in percentage points of the prepaid base price.
    BundleDiscount,
    /// Every plan's included credits, in percent.
    IncludedCredits,
    /// Every plan's fee and seat fee, in percent.
    PlanFees,
    /// Usage: every metric's mean (or every history day), in percent.
    Usage,
    /// Every metric's growth a month, in percentage points.
    Growth,
    /// Every spread (day-to-day and the shared activity), in percent.
    Volatility,
}

pub const PARAMETERS: [Parameter; 7] = [
    Parameter::FlexPrice,
    Parameter::BundleDiscount,
    Parameter::IncludedCredits,
    Parameter::PlanFees,
    Parameter::Usage,
    Parameter::Growth,
    Parameter::Volatility,
];

impl Parameter {
    pub fn name(self) -> &'static str {
        match self {
            Parameter::FlexPrice => "flex_price",
            Parameter::BundleDiscount => "bundle_discount",
            Parameter::IncludedCredits => "included_credits",
            Parameter::PlanFees => "plan_fees",
            Parameter::Usage => "usage",
            Parameter::Growth => "growth",
            Parameter::Volatility => "volatility",
        }
    }

    pub fn from_name(name: &str) -> Option<Parameter> {
        PARAMETERS.into_iter().find(|p| p.name() == name)
    }

    /// "%" or "pp" (percentage points).
    pub fn unit(self) -> &'static str {
        match self {
            Parameter::BundleDiscount | Parameter::Growth => "pp",
            _ => "%",
        }
    }

    /// The range swept when none is given: low and high change from the base.
    pub fn default_range(self) -> (Decimal, Decimal) {
        let d = |lo: i64, hi: i64| (Decimal::from(lo), Decimal::from(hi));
        match self {
            Parameter::FlexPrice | Parameter::IncludedCredits | Parameter::PlanFees => d(-20, 20),
            Parameter::BundleDiscount => d(-5, 5),
            Parameter::Usage => d(-30, 30),
            Parameter::Growth => d(-2, 2),
            Parameter::Volatility => d(-50, 50),
        }
    }

    /// The smallest change a range may start at: prices, fees, credits and spreads cannot
    /// fall by 100% or more.
    pub fn lowest_change(self) -> Option<Decimal> {
        match self {
            Parameter::BundleDiscount | Parameter::Growth => None,
            _ => Some(Decimal::from(-100)),
        }
    }
}

/// Whether `low..high` is a range this parameter can be swept over: around the base (low at
/// or below 0, high at or above it, not both 0), and never a fall of 100% or more of a
/// price, fee, credit or spread.
pub fn check_range(p: Parameter, low: Decimal, high: Decimal) -> Result<(), String> {
    if low > Decimal::ZERO || high < Decimal::ZERO || low == high {
        return Err("the range must go from a change at or below 0 to one at or above 0".into());
    }
    if p.lowest_change().is_some_and(|min| low <= min) {
        return Err(format!(
            "{} cannot fall by 100{} or more",
            p.name(),
            p.unit()
        ));
    }
    Ok(())
}

/// The inputs with one parameter changed by `change` (percent or points).
pub fn apply(
    case: &Case,
    model: &UsageModel,
    p: Parameter,
    change: Decimal,
) -> Result<(Case, UsageModel), String> {
    let factor = Decimal::ONE + change / Decimal::from(100);
    let book = changed_book(&case.book, p, change)?.unwrap_or_else(|| (*case.book).clone());
    let mut model = model.clone();
    match p {
        Parameter::FlexPrice
        | Parameter::BundleDiscount
        | Parameter::IncludedCredits
        | Parameter::PlanFees => {}
        Parameter::Usage => model = scale_usage(&model, factor, &book),
        Parameter::Growth => {
            for m in &mut model.metrics {
                m.trend_per_month += change.to_f64().unwrap_or(0.0) / 100.0;
            }
        }
        Parameter::Volatility => model = scale_spreads(&model, factor, &book),
    }
    let case = Case {
        book: Arc::new(book),
        ..case.clone()
    };
    Ok((case, model))
}

/// The book with one of its parameters changed by `change`; `None` for a parameter of usage.
pub fn changed_book(
    book: &PricingBook,
    p: Parameter,
    change: Decimal,
) -> Result<Option<PricingBook>, String> {
    let factor = Decimal::ONE + change / Decimal::from(100);
    let mut book = book.clone();
    match p {
        Parameter::FlexPrice => scale_flex(&mut book, factor)?,
        Parameter::BundleDiscount => move_discounts(&mut book, change)?,
        Parameter::IncludedCredits => scale_included(&mut book, factor)?,
        Parameter::PlanFees => scale_fees(&mut book, factor)?,
        Parameter::Usage | Parameter::Growth | Parameter::Volatility => return Ok(None),
    }
    Ok(Some(book))
}

fn scaled_price(p: Price, factor: Decimal) -> Result<Price, String> {
    Price::from_decimal((p.to_decimal() * factor).round_dp(6)).map_err(|e| e.to_string())
}

fn scaled_money(m: Money, factor: Decimal, digits: u32) -> Result<Money, String> {
    let d = (m.to_decimal() * factor)
        .round_dp_with_strategy(digits, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    Money::from_decimal(d).map_err(|e| e.to_string())
}

fn scale_flex(book: &mut PricingBook, factor: Decimal) -> Result<(), String> {
    for cohort in &mut book.cohorts {
        for price in &mut cohort.flex_price_by_plan {
            *price = scaled_price(*price, factor)?;
        }
    }
    Ok(())
}

/// A bundle's discount up by `points`: its price falls by `credits x base price x points /
/// 100`, rounded to the minor unit; a price that would reach zero is an error.
fn move_discounts(book: &mut PricingBook, points: Decimal) -> Result<(), String> {
    let digits = book.minor_digits;
    for cohort in &mut book.cohorts {
        let base = cohort.prepaid_base_price.to_decimal();
        for bundle in &mut cohort.bundles {
            let cut = bundle.credits.to_decimal() * base * points / Decimal::from(100);
            let price = (bundle.price.to_decimal() - cut).round_dp_with_strategy(
                digits,
                rust_decimal::RoundingStrategy::MidpointAwayFromZero,
            );
            if price <= Decimal::ZERO {
                return Err(format!(
                    "bundle {} of cohort {} would cost nothing {points} points further off",
                    bundle.id, cohort.id
                ));
            }
            bundle.price = Money::from_decimal(price).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

fn scale_included(book: &mut PricingBook, factor: Decimal) -> Result<(), String> {
    let credits = |c: Credits| {
        Credits::from_decimal((c.to_decimal() * factor).round_dp(6)).map_err(|e| e.to_string())
    };
    for plan in &mut book.plans {
        plan.included = credits(plan.included)?;
        plan.included_per_seat = credits(plan.included_per_seat)?;
    }
    Ok(())
}

fn scale_fees(book: &mut PricingBook, factor: Decimal) -> Result<(), String> {
    let digits = book.minor_digits;
    for plan in &mut book.plans {
        plan.fee = scaled_money(plan.fee, factor, digits)?;
        plan.seat_fee = scaled_money(plan.seat_fee, factor, digits)?;
    }
    Ok(())
}

/// Every metric's mean times `factor`; a history's every day times it.
fn scale_usage(model: &UsageModel, factor: Decimal, book: &PricingBook) -> UsageModel {
    let f = factor.to_f64().unwrap_or(1.0);
    let mut out = model.clone();
    for m in &mut out.metrics {
        m.daily *= f;
    }
    if let Some(b) = &model.bootstrap {
        let days = (b.days.iter())
            .map(|day| day.iter().map(|q| (q * factor).round_dp(6)).collect())
            .collect();
        out.bootstrap = Some(Bootstrap::new(
            b.metrics.clone(),
            days,
            b.first_day,
            b.block_days,
            book.rates.clone(),
        ));
    }
    out
}

/// Every spread widened by `factor`: a lognormal's sigma and the activity's times it, a
/// gamma's shape and a negative binomial's dispersion over its square (so the coefficient of
/// variation is times it); fixed and Poisson days have no spread to widen.
fn scale_spreads(model: &UsageModel, factor: Decimal, book: &PricingBook) -> UsageModel {
    let f = factor.to_f64().unwrap_or(1.0).max(f64::MIN_POSITIVE);
    let mut out = model.clone();
    out.activity = model.activity.map(|a| Activity {
        sigma: a.sigma * f,
        ..a
    });
    out.metrics = (model.metrics.iter())
        .map(|m| {
            let spread = match m.spread {
                Spread::LogNormal { sigma } => Spread::LogNormal { sigma: sigma * f },
                Spread::Gamma { shape } => Spread::Gamma {
                    shape: shape / (f * f),
                },
                Spread::NegativeBinomial { dispersion } => Spread::NegativeBinomial {
                    dispersion: dispersion / (f * f),
                },
                s => s,
            };
            MetricModel::new(
                m.metric,
                m.daily,
                spread,
                m.weekly,
                m.trend_per_month,
                m.bursts.clone(),
                m.activity_weight,
                m.unit,
                &book.rates,
            )
        })
        .collect();
    out
}

/// Every setup's mean cost at one setting, and the cheapest.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub change: Decimal,
    pub means: Vec<Decimal>,
    pub cheapest: usize,
}

/// Where the recommendation changes on one side of the base.
#[derive(Debug, Clone, PartialEq)]
pub struct Flip {
    /// The first change (within [`FLIP_RESOLUTION`]) at which another setup is cheapest.
    pub change: Decimal,
    pub to: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParameterResult {
    pub parameter: Parameter,
    pub low: Point,
    pub high: Point,
    /// Toward the low end, then toward the high end.
    pub flips: Vec<Flip>,
}

#[derive(Debug, Clone)]
pub struct Sensitivity {
    pub measure: Measure,
    pub base: Point,
    pub recommended: usize,
    /// The next cheapest at the base (the recommended one when there is one setup).
    pub runner_up: usize,
    pub parameters: Vec<ParameterResult>,
}

#[derive(Debug)]
pub enum SensitivityError {
    /// The change cannot be made (a price at zero).
    Setting {
        parameter: Parameter,
        change: Decimal,
        message: String,
    },
    Path {
        parameter: Option<Parameter>,
        error: SimulateError,
    },
}

impl std::fmt::Display for SensitivityError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SensitivityError::Setting {
                parameter,
                change,
                message,
            } => write!(
                f,
                "{} at {change}{}: {message}",
                parameter.name(),
                parameter.unit()
            ),
            SensitivityError::Path {
                parameter: Some(p),
                error,
            } => {
                write!(f, "{} changed: {error}", p.name())
            }
            SensitivityError::Path {
                parameter: None,
                error,
            } => write!(f, "{error}"),
        }
    }
}

/// The mean cost of every strategy in `m` (exact sums, rounded to 4 places by `summarise`).
fn point(
    case: &Case,
    model: &UsageModel,
    sim: SimConfig,
    m: Measure,
    change: Decimal,
) -> Result<Point, SimulateError> {
    let paths = montecarlo::simulate(case, model, sim, &|_| {})?;
    let summary = montecarlo::summarise(case, sim, Comparison::exact(0), &paths);
    let means: Vec<Decimal> = summary
        .strategies
        .iter()
        .map(|s| s.measure(m).cost.mean)
        .collect();
    let cheapest = (0..means.len())
        .min_by(|a, b| means[*a].cmp(&means[*b]).then(a.cmp(b)))
        .expect("a case has a strategy");
    Ok(Point {
        change,
        means,
        cheapest,
    })
}

/// Each parameter of `ranges` (low and high change) swept on `case` and `model`.
pub fn sensitivity(
    case: &Case,
    model: &UsageModel,
    sim: SimConfig,
    m: Measure,
    ranges: &[(Parameter, Decimal, Decimal)],
) -> Result<Sensitivity, SensitivityError> {
    let base =
        point(case, model, sim, m, Decimal::ZERO).map_err(|error| SensitivityError::Path {
            parameter: None,
            error,
        })?;
    let recommended = base.cheapest;
    let runner_up = (0..base.means.len())
        .filter(|&i| i != recommended)
        .min_by(|a, b| base.means[*a].cmp(&base.means[*b]).then(a.cmp(b)))
        .unwrap_or(recommended);
    let mut parameters = Vec::new();
    for &(p, low, high) in ranges {
        let at = |change: Decimal| -> Result<Point, SensitivityError> {
            let (c, model) =
                apply(case, model, p, change).map_err(|message| SensitivityError::Setting {
                    parameter: p,
                    change,
                    message,
                })?;
            point(&c, &model, sim, m, change).map_err(|error| SensitivityError::Path {
                parameter: Some(p),
                error,
            })
        };
        let (lo, hi) = (at(low)?, at(high)?);
        let mut flips = Vec::new();
        for end in [&lo, &hi] {
            if end.cheapest != recommended {
                flips.push(bisect(&at, recommended, end)?);
            }
        }
        parameters.push(ParameterResult {
            parameter: p,
            low: lo,
            high: hi,
            flips,
        });
    }
    Ok(Sensitivity {
        measure: m,
        base,
        recommended,
        runner_up,
        parameters,
    })
}

/// The change nearest the base (within [`FLIP_RESOLUTION`]) where `recommended` stops being
/// the cheapest, between the base (where it is) and `end` (where it is not).
fn bisect(
    at: &dyn Fn(Decimal) -> Result<Point, SensitivityError>,
    recommended: usize,
    end: &Point,
) -> Result<Flip, SensitivityError> {
    let (mut inside, mut outside) = (Decimal::ZERO, end.change);
    let mut to = end.cheapest;
    for _ in 0..BISECTION_STEPS_MAX {
        if (outside - inside).abs() <= FLIP_RESOLUTION {
            break;
        }
        let mid = ((inside + outside) / Decimal::TWO).round_dp(4);
        let p = at(mid)?;
        if p.cheapest == recommended {
            inside = mid;
        } else {
            outside = mid;
            to = p.cheapest;
        }
    }
    Ok(Flip {
        change: outside,
        to,
    })
}
