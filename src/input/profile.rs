//! Customer profiles: a short TOML a salesperson can write ("about 2,500 minutes a month,
//! could be 1,500-4,200") read into a [`Scenario`], so `simulate` and `advise` run on it
//! unchanged.
//!
//! ```toml
//! [profile]
//! customer = "Acme Vision"
//! pricing_book = "../pricing/credits-book.toml"   # relative to the profile file
//! created = 2026-04-01          # workspace creation = horizon start
//! seats = 1                     # optional, default 1
//! plan = "core-monthly"         # the plan they are looking at
//! months = 12                   # optional, default 12
//! growth_percent_per_month = 2  # optional, default 0 (compounding)
//! paths = 2000                  # optional, default 2000
//! seed = 1                      # optional, default 1
//!
//! [[usage]]
//! metric = "gpu_training_minutes"   # a metric of the book's rate card
//! per_month = "2500"                # "about": the median monthly quantity, in the metric's unit
//! low = "1500"                      # "could be low-high": P10 and P90 of a month's total
//! high = "4200"
//! ```
//!
//! The scenario: the workspace created on `created` on `plan`, the horizon `months` from
//! `created`, one strategy "pay as you go on PLAN" (flex on or off as the book sets it by
//! default, and uncapped: a prospect has no spending threshold yet, and would raise the
//! default one to what their usage needs), and a `[simulation]` of `paths` paths.
//!
//! How the range is read. A metric's month is `level x per_month`, where `level` is
//! lognormal with median 1 and log-sd `sigma`, so the month's total has median `per_month`
//! and P10/P90 `per_month x exp(-/+ 1.2816 sigma)`. `sigma` is `ln(high/low) / (2 x 1.2816)`
//! when `per_month` is within 10% of the geometric mean of `low` and `high` (then P10 and P90
//! land within a few percent of `low` and `high`); otherwise the median is `per_month` and the
//! spread comes from the wider side, `max(ln(high/per_month), ln(per_month/low)) / 1.2816`,
//! so the narrower side is read wider than stated (never narrower). The reading says which.
//!
//! How it is drawn, with the usage model's own pieces (nothing new in `usage::synthetic`): the
//! level is the shared activity factor, a lognormal AR(1) with mean 1, log-sd `sigma_max` (the
//! largest metric's `sigma`) and persistence 0.999 a day (a half-life near two years: a
//! path's level hardly moves within a month, and each month's marginal is exactly the
//! stationary lognormal). A metric loads on it with weight `sigma / sigma_max` (log-sd
//! `sigma`), and its `daily` is `per_month / 30.436875 x exp(weight x sigma_max^2 / 2)`, which
//! undoes the factor's mean-1 shift so the median is `per_month`. Days are `fixed` (no noise
//! beyond the level), quantised to a unit fine enough not to bias small quantities, and
//! `growth_percent_per_month` is the model's trend. All metrics share one level: a busy month
//! is busy for every metric of the profile.

use super::raw::{
    CapValue, RawBootstrap, RawHorizon, RawScenario, RawScenarioHeader, RawSimulation, RawStrategy,
    RawUsage, RawWorkspace,
};
use super::scenario::{Scenario, HORIZON_MONTHS_MAX};
use super::simulation::SimulationSpec;
use super::values::{count, seed, Count, Dec, TomlDate, TomlInstant, Whole};
use crate::analysis::montecarlo::PATHS_MAX;
use crate::analysis::quote::UsageLevels;
use crate::model::amounts::Money;
use crate::model::calendar::midnight;
use crate::model::diag::{InputError, Source};
use crate::model::pricing::PricingBook;
use crate::model::text::grouped;
use crate::usage::synthetic::{Activity, MetricModel, Spread, UsageModel, DAYS_PER_MONTH};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::path::Path;
use toml::Spanned;

/// The standard normal's 90th percentile: P10 and P90 are `median x exp(-/+ Z90 sigma)`.
pub const Z90: f64 = 1.281_551_565_544_600_5;
/// The level's persistence a day (see the module doc).
pub const LEVEL_PERSISTENCE: f64 = 0.999;
pub const MONTHS_DEFAULT: u32 = 12;
pub const PATHS_DEFAULT: u32 = 2000;
pub const SEED_DEFAULT: u64 = super::simulation::SEED_DEFAULT;
/// `per_month` this close (as a ratio) to the geometric mean of `low` and `high` reads the
/// range as symmetric in logs.
const NEAR_GEOMETRIC_MEAN: f64 = 0.10;
const USAGE_MAX: usize = 64;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    profile: Spanned<RawProfileHeader>,
    #[serde(default)]
    usage: Vec<Spanned<RawUsageRange>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfileHeader {
    customer: Spanned<String>,
    pricing_book: Spanned<String>,
    created: Spanned<TomlDate>,
    seats: Option<Count>,
    plan: Spanned<String>,
    months: Option<Count>,
    growth_percent_per_month: Option<Spanned<f64>>,
    paths: Option<Count>,
    seed: Option<Count>,
    /// The customer's own usage history (CSV or Parquet trace), projected by resampling
    /// whole weeks of it: instead of `[[usage]]` ranges.
    usage_trace: Option<Spanned<String>>,
    /// The currency the customer is quoted in: must be the pricing book's.
    currency: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUsageRange {
    metric: Spanned<String>,
    per_month: Spanned<Dec>,
    low: Spanned<Dec>,
    high: Spanned<Dec>,
}

/// A profile read: the scenario it becomes, and how its usage was read.
#[derive(Debug, Clone)]
pub struct Profile {
    pub customer: String,
    pub scenario: Scenario,
    pub usage: Vec<UsageReading>,
    /// In plain words, one sentence per metric: how the stated range was read.
    pub reading: String,
    /// The stated low, per_month and high of every metric together, in credits a month at
    /// the rates in force on `created`.
    pub levels: UsageLevels,
    /// Compounding growth of usage a month, in percent (0 when the profile says none).
    pub growth_percent_per_month: f64,
}

/// One metric's stated range and the lognormal it was read as.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageReading {
    pub metric: String,
    pub unit: String,
    pub per_month: Decimal,
    pub low: Decimal,
    pub high: Decimal,
    /// Log-sd of the month's total.
    pub sigma: f64,
    /// Whether `per_month` was far from the geometric mean of `low` and `high`, so the spread
    /// came from the wider side.
    pub asymmetric: bool,
    /// The model's own P10 and P90 of a month's total (before growth).
    pub p10: f64,
    pub p90: f64,
}

/// Reads a profile file (and the pricing book it names) into a scenario.
pub fn load(path: &Path) -> Result<Profile, InputError> {
    load_source(Source::read(path)?)
}

/// Reads a profile from its text (a file's, or one a command line wrote: its `path` is
/// what errors name, and paths in it are relative to that path's folder).
pub fn load_source(source: Source) -> Result<Profile, InputError> {
    let raw: RawProfile = super::scenario::parse_toml(&source)?;
    let header = raw.profile.get_ref();
    let customer = header.customer.get_ref().trim().to_string();
    if customer.is_empty() {
        return Err(source.error(header.customer.span(), "customer is empty"));
    }
    // Checked here for the profile's own wording; the scenario loader checks it again.
    months(&source, header)?;
    let growth = growth(&source, header)?;
    let paths = paths(&source, header)?;
    check_usage_source(&source, &raw)?;
    let mut scenario =
        super::scenario::from_raw(source.clone(), scenario_of(&raw.profile, &customer))?;
    if let Some(input) = scenario.inputs.first_mut() {
        input.role = "profile".to_string();
    }
    check_currency(&source, header, &scenario)?;
    if header.usage_trace.is_some() {
        return Ok(from_trace(customer, scenario));
    }
    let usage = readings(&source, &scenario, &raw.usage)?;
    let levels = levels(&source, &scenario, &usage)?;
    let model = usage_model(&scenario.case.book, &usage, growth);
    scenario.simulation = Some(SimulationSpec {
        model,
        paths,
        seed: (header.seed.as_ref().map(|s| seed(&source, s)).transpose()?).unwrap_or(SEED_DEFAULT),
        baseline: 0,
        tie_within: Money::ZERO,
        expectations: Vec::new(),
    });
    let reading = usage
        .iter()
        .map(UsageReading::sentence)
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Profile {
        customer,
        scenario,
        usage,
        reading,
        levels,
        growth_percent_per_month: growth * 100.0,
    })
}

/// Usage comes from `[[usage]]` ranges or from `usage_trace`, one of the two; growth is a
/// range's (a history is projected as it is).
fn check_usage_source(source: &Source, raw: &RawProfile) -> Result<(), InputError> {
    let h = raw.profile.get_ref();
    match (&h.usage_trace, raw.usage.first()) {
        (Some(_), Some(u)) => {
            Err(source.error(u.span(), "give [[usage]] ranges or a usage_trace, not both"))
        }
        (Some(t), None) if h.growth_percent_per_month.is_some() => Err(source.error(
            t.span(),
            "growth_percent_per_month shapes [[usage]] ranges; a usage_trace is projected as \
             it is (remove one)",
        )),
        _ => Ok(()),
    }
}

fn check_currency(
    source: &Source,
    h: &RawProfileHeader,
    scenario: &Scenario,
) -> Result<(), InputError> {
    let book = &scenario.case.book.currency;
    match &h.currency {
        Some(c) if c.get_ref().trim() != book => Err(source.error(
            c.span(),
            format!(
                "currency {:?}: the pricing book prices in {book}; quote in the book's currency",
                c.get_ref()
            ),
        )),
        _ => Ok(()),
    }
}

/// Pilot paths the range of a history's projection is read from.
const TRACE_RANGE_PATHS: u32 = 1000;

/// A profile on the customer's own history: the scenario's `[simulation]` resamples it (the
/// scenario loader read it), and the range is the projection's: P10, P50 and P90 over paths
/// of the average month's credits.
fn from_trace(customer: String, scenario: Scenario) -> Profile {
    let spec = scenario
        .simulation
        .as_ref()
        .expect("a usage_trace profile simulates");
    let config = crate::analysis::montecarlo::SimConfig {
        paths: spec.paths.min(TRACE_RANGE_PATHS),
        seed: spec.seed,
        threads: None,
    };
    let months = i64::from(crate::analysis::breakeven::months(&scenario.case).max(1));
    let mut monthly: Vec<i64> =
        crate::analysis::montecarlo::demands(&scenario.case, &spec.model, config)
            .iter()
            .map(|d| d.micros() / months)
            .collect();
    monthly.sort_unstable();
    let at = |q: u32| crate::analysis::montecarlo::percentile(&monthly, q);
    let levels = UsageLevels {
        low_micros: at(10),
        expected_micros: at(50),
        high_micros: at(90),
    };
    let credits = |l: i64| grouped(Decimal::new(l, 6).round_dp(2).normalize());
    let reading = format!(
        "Projected from the customer's own usage history, resampled a week at a time: about {} \
         credits a month on average over the horizon; 1 projection in 10 below {} and 1 in 10 \
         above {}.",
        credits(levels.expected_micros),
        credits(levels.low_micros),
        credits(levels.high_micros)
    );
    Profile {
        customer,
        scenario,
        usage: Vec::new(),
        reading,
        levels,
        growth_percent_per_month: 0.0,
    }
}

/// The readings' low, per_month and high summed over the metrics, each converted to credits
/// at the rate in force at the workspace's start (a range's ends are every metric's end
/// together: the profile's metrics share one level).
fn levels(
    source: &Source,
    scenario: &Scenario,
    usage: &[UsageReading],
) -> Result<UsageLevels, InputError> {
    let book = &scenario.case.book;
    let at = scenario.case.workspace.anchor;
    let sum = |pick: fn(&UsageReading) -> Decimal| -> Result<i64, InputError> {
        let mut total: i128 = 0;
        for u in usage {
            let metric = book.rates.metric(&u.metric).expect("validated");
            let credits = (book.rates.credits(metric, at, pick(u), book.rounding))
                .map_err(|e| InputError::whole_file(&source.path, format!("{}: {e}", u.metric)))?;
            total += i128::from(credits.micros());
        }
        i64::try_from(total).map_err(|_| {
            InputError::whole_file(&source.path, "the usage a month is past the credit limit")
        })
    };
    Ok(UsageLevels {
        low_micros: sum(|u| u.low)?,
        expected_micros: sum(|u| u.per_month)?,
        high_micros: sum(|u| u.high)?,
    })
}

/// The profile as a raw scenario whose spans are the profile's, so the scenario loader's
/// errors (an unknown plan, no cohort for `created`) point into the profile.
fn scenario_of(profile: &Spanned<RawProfileHeader>, customer: &str) -> RawScenario {
    let h = profile.get_ref();
    let created = h.created.get_ref().0;
    let start = Spanned::new(h.created.span(), TomlInstant(midnight(created)));
    let months = h
        .months
        .clone()
        .unwrap_or_else(|| Spanned::new(profile.span(), Whole::Number(i128::from(MONTHS_DEFAULT))));
    RawScenario {
        scenario: RawScenarioHeader {
            name: Some(customer.to_string()),
            description: Some(format!("customer profile of {customer}")),
            pricing_book: Some(h.pricing_book.clone()),
        },
        pricing: None,
        workspace: RawWorkspace {
            created: h.created.clone(),
            plan: h.plan.clone(),
            seats: h.seats.clone(),
            anchor: None,
        },
        horizon: Spanned::new(
            profile.span(),
            RawHorizon {
                start,
                end: None,
                months: Some(months),
            },
        ),
        usage: RawUsage::default(),
        strategy: vec![RawStrategy {
            name: Spanned::new(
                h.plan.span(),
                format!("pay as you go on {}", h.plan.get_ref()),
            ),
            start_plan: None,
            flex: None,
            // A prospect's spending threshold is whatever their usage needs.
            flex_cap: Some(Spanned::new(h.plan.span(), CapValue::None)),
            buy_at_start: Vec::new(),
            schedule: Vec::new(),
            top_up: None,
            buy_on_alert: false,
            upgrade: None,
        }],
        simulation: h
            .usage_trace
            .as_ref()
            .map(|trace| simulation_of_trace(h, trace)),
        expect_stat: Vec::new(),
        expect_breakeven: Vec::new(),
        expect_advice: Vec::new(),
        sensitivity: None,
        expect: None,
    }
}

/// The `[simulation]` that resamples the customer's history a week at a time.
fn simulation_of_trace(h: &RawProfileHeader, trace: &Spanned<String>) -> RawSimulation {
    RawSimulation {
        paths: Some((h.paths.clone()).unwrap_or_else(|| {
            Spanned::new(trace.span(), Whole::Number(i128::from(PATHS_DEFAULT)))
        })),
        seed: h.seed.clone(),
        baseline: None,
        tie_within: None,
        activity: None,
        regimes: None,
        model: Vec::new(),
        bootstrap: Some(Spanned::new(
            trace.span(),
            RawBootstrap {
                trace: trace.clone(),
                block_days: None,
                workspace: None,
                timestamp: None,
                metric: None,
                quantity: None,
                timestamp_format: None,
                timezone: None,
            },
        )),
    }
}

fn months(source: &Source, h: &RawProfileHeader) -> Result<u32, InputError> {
    match &h.months {
        Some(m) => count(source, "months", m, 1..=HORIZON_MONTHS_MAX),
        None => Ok(MONTHS_DEFAULT),
    }
}

/// `growth_percent_per_month` as a fraction.
fn growth(source: &Source, h: &RawProfileHeader) -> Result<f64, InputError> {
    let Some(g) = &h.growth_percent_per_month else {
        return Ok(0.0);
    };
    let x = *g.get_ref();
    if !x.is_finite() || x <= -100.0 || x > 1000.0 {
        return Err(source.error(
            g.span(),
            "growth_percent_per_month must be above -100 and at most 1000",
        ));
    }
    Ok(x / 100.0)
}

fn paths(source: &Source, h: &RawProfileHeader) -> Result<u32, InputError> {
    match &h.paths {
        Some(p) => count(source, "paths", p, 1..=PATHS_MAX),
        None => Ok(PATHS_DEFAULT),
    }
}

fn readings(
    source: &Source,
    scenario: &Scenario,
    usage: &[Spanned<RawUsageRange>],
) -> Result<Vec<UsageReading>, InputError> {
    if usage.is_empty() {
        return Err(InputError::whole_file(
            &source.path,
            "the profile has no [[usage]]: say how much of which metric the customer uses, or \
             give their history as usage_trace",
        ));
    }
    if usage.len() > USAGE_MAX {
        return Err(InputError::whole_file(
            &source.path,
            format!("more than {USAGE_MAX} [[usage]] blocks"),
        ));
    }
    let mut out: Vec<UsageReading> = Vec::new();
    for u in usage {
        let reading = reading(source, scenario, u.get_ref())?;
        if out.iter().any(|r| r.metric == reading.metric) {
            return Err(source.error(
                u.get_ref().metric.span(),
                format!("metric \"{}\" has two [[usage]] blocks", reading.metric),
            ));
        }
        out.push(reading);
    }
    Ok(out)
}

/// One `[[usage]]`: a metric with a rate over the whole horizon, `0 < low <= per_month <=
/// high`, read as in the module doc.
fn reading(
    source: &Source,
    scenario: &Scenario,
    u: &RawUsageRange,
) -> Result<UsageReading, InputError> {
    let book = &scenario.case.book;
    let name = u.metric.get_ref();
    let metric = (book.rates.metric(name))
        .ok_or_else(|| source.error(u.metric.span(), book.rates.unknown_metric(name)))?;
    let (start, end) = (scenario.case.horizon.start, scenario.case.horizon.end);
    if let Some(day) = super::simulation::first_day_without_rate(book, metric, start, end) {
        return Err(source.error(
            u.metric.span(),
            format!(
                "metric \"{name}\" has no rate in force on {} (inside the horizon)",
                crate::model::calendar::display(day)
            ),
        ));
    }
    let positive = |v: &Spanned<Dec>, key: &str| {
        let d = v.get_ref().0;
        match d.to_f64() {
            Some(x) if d > Decimal::ZERO && x.is_finite() => Ok((d, x)),
            _ => Err(source.error(v.span(), format!("{key} must be more than 0"))),
        }
    };
    let (per_month, mid) = positive(&u.per_month, "per_month")?;
    let (low, lo) = positive(&u.low, "low")?;
    let (high, hi) = positive(&u.high, "high")?;
    if low > high {
        return Err(source.error(
            u.low.span(),
            format!("low ({low}) is above high ({high}): the range is low to high"),
        ));
    }
    if per_month < low || per_month > high {
        return Err(source.error(
            u.per_month.span(),
            format!("per_month ({per_month}) is outside the range low-high ({low}-{high})"),
        ));
    }
    let geometric = (lo * hi).sqrt();
    let asymmetric = (mid / geometric - 1.0).abs() > NEAR_GEOMETRIC_MEAN;
    let sigma = if asymmetric {
        (hi / mid).ln().max((mid / lo).ln()) / Z90
    } else {
        (hi / lo).ln() / (2.0 * Z90)
    };
    Ok(UsageReading {
        metric: name.clone(),
        unit: book.rates.metrics[metric.0].unit.clone(),
        per_month,
        low,
        high,
        sigma,
        asymmetric,
        p10: mid * (-Z90 * sigma).exp(),
        p90: mid * (Z90 * sigma).exp(),
    })
}

impl UsageReading {
    /// How the range was read, in plain words.
    pub fn sentence(&self) -> String {
        let unit = match self.unit.as_str() {
            "" => String::new(),
            u => format!(" {u}s"),
        };
        let n = |d: Decimal| grouped(d.normalize());
        let mut s = format!(
            "{}: about {}{unit} a month; 1 month in 10 below {} and 1 in 10 above {}",
            self.metric,
            n(self.per_month),
            n(self.low),
            n(self.high)
        );
        if self.asymmetric {
            let read = |x: f64| grouped(significant(x, 3));
            s.push_str(&format!(
                " (the range is lopsided around {}: read with the wider side, as {} to {})",
                n(self.per_month),
                read(self.p10),
                read(self.p90)
            ));
        }
        s.push('.');
        s
    }
}

/// The usage model of the readings: see the module doc.
fn usage_model(book: &PricingBook, usage: &[UsageReading], growth: f64) -> UsageModel {
    let sigma_max = usage.iter().map(|u| u.sigma).fold(0.0, f64::max);
    let metrics = usage
        .iter()
        .map(|u| {
            let metric = book.rates.metric(&u.metric).expect("validated");
            let weight = if sigma_max > 0.0 {
                u.sigma / sigma_max
            } else {
                0.0
            };
            let mid = u.per_month.to_f64().unwrap_or(0.0);
            let daily = mid / DAYS_PER_MONTH * (weight * sigma_max * sigma_max / 2.0).exp();
            MetricModel::new(
                metric,
                daily,
                Spread::Fixed,
                [1.0; 7],
                growth,
                None,
                weight,
                draw_unit(mid / DAYS_PER_MONTH),
                &book.rates,
            )
        })
        .collect();
    UsageModel {
        metrics,
        regimes: None,
        activity: (sigma_max > 0.0).then_some(Activity {
            sigma: sigma_max,
            persistence: LEVEL_PERSISTENCE,
        }),
        bootstrap: None,
    }
}

/// A power of ten at most 1 and about a thousandth of a median day, so rounding a day to it
/// does not bias small quantities (1.3 GPU-hours a day, say).
fn draw_unit(daily: f64) -> Decimal {
    let exponent = (daily / 1000.0).log10().floor();
    let digits = if exponent.is_finite() {
        (-exponent).clamp(0.0, 6.0) as u32
    } else {
        6
    };
    Decimal::new(1, digits)
}

/// `x` rounded to `digits` significant digits, for words.
fn significant(x: f64, digits: i32) -> Decimal {
    if !(x.is_finite() && x > 0.0) {
        return Decimal::ZERO;
    }
    let places = digits - 1 - x.log10().floor() as i32;
    let step = 10f64.powi(places);
    let rounded = (x * step).round() / step;
    Decimal::from_f64_retain(rounded)
        .map(|d| d.round_dp(places.max(0) as u32))
        .unwrap_or_default()
}
