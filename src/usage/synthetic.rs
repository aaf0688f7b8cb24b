//! Synthetic usage: daily quantities per metric drawn from composable models.
//!
//! This is the only place floating point exists. A day's quantity is drawn as an `f64`,
//! quantised to the metric's unit (an integer count of units), and only then converted to
//! credits with exact integer arithmetic, the same conversion a replayed CSV gets. So the
//! ledger never sees a float, and the credits of a quantity do not depend on how it arose.
//!
//! A day's mean for a metric is
//! `daily x weekly[weekday] x (1 + trend)^(months elapsed) x regime factor x activity^weight`,
//! the quantity is drawn around that mean by the metric's distribution, and active bursts
//! add their load on top.

use crate::engine::replay::CreditUsage;
use crate::model::amounts::{Credits, Rounding, CREDITS_MAX};
use crate::model::calendar::{add_days, Instant};
use crate::model::pricing::{MetricId, RateCard};
use crate::usage::poisson::{self, Poisson};
use crate::usage::unit_rate::UnitRate;
use chrono::Datelike;
use rand::{Rng, RngExt};
use rand_distr::{Distribution as _, Gamma, LogNormal, Normal, StandardNormal};
use rust_decimal::Decimal;

/// Average days in a month (365.2425 / 12), for monthly rates and trends.
pub const DAYS_PER_MONTH: f64 = 30.436875;
/// Largest credits one metric may demand in a day; a model beyond it is clamped and the
/// clamp is counted and reported, never silent.
pub const DAILY_CREDITS_MAX: Credits = Credits::from_units(1_000_000_000);

/// How a day's quantity varies around its mean.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Spread {
    /// Exactly the mean.
    Fixed,
    /// Counts with variance = mean.
    Poisson,
    /// Over-dispersed counts (gamma-Poisson): variance = mean + mean^2 / dispersion.
    NegativeBinomial { dispersion: f64 },
    /// Mean-preserving lognormal with this log-scale standard deviation.
    LogNormal { sigma: f64 },
    /// Gamma with this shape (coefficient of variation 1/sqrt(shape)).
    Gamma { shape: f64 },
}

/// A metric's spread with everything that does not depend on the day's mean built once, so
/// that a day's draw only scales it: a gamma or lognormal variable with mean `mean` is
/// `mean` times one with mean 1 (the same distribution as building it at `mean`; the
/// product is rounded in another order, a last-bit difference). A Poisson's shape is its
/// mean, so it is the one sampler set up per draw (the negative binomial's too, its mean
/// being the gamma draw): `usage::poisson::sample`, an `exp(-mean)` for Knuth's method below
/// a mean of 12, Ahrens and Dieter's constants above it, where a draw takes constant time.
#[derive(Debug, Clone, PartialEq)]
pub enum SpreadSampler {
    /// Exactly the mean; also parameters no sampler accepts (validation rules them out).
    Fixed,
    Poisson,
    /// Gamma(dispersion, 1) and 1 / dispersion: the Poisson's mean is the gamma draw times
    /// mean / dispersion.
    NegativeBinomial {
        unit_gamma: Gamma<f64>,
        inverse: f64,
    },
    /// ln of the factor on the mean: N(-sigma^2 / 2, sigma), so the factor has mean 1.
    LogNormal {
        log_factor: Normal<f64>,
    },
    /// Gamma(shape, 1) and 1 / shape.
    Gamma {
        unit_gamma: Gamma<f64>,
        inverse: f64,
    },
}

impl SpreadSampler {
    pub fn new(spread: Spread) -> SpreadSampler {
        let built = match spread {
            Spread::Fixed => Some(SpreadSampler::Fixed),
            Spread::Poisson => Some(SpreadSampler::Poisson),
            Spread::NegativeBinomial { dispersion } => {
                Gamma::new(dispersion, 1.0)
                    .ok()
                    .map(|unit_gamma| SpreadSampler::NegativeBinomial {
                        unit_gamma,
                        inverse: 1.0 / dispersion,
                    })
            }
            Spread::LogNormal { sigma } => Normal::new(-sigma * sigma / 2.0, sigma)
                .ok()
                .map(|log_factor| SpreadSampler::LogNormal { log_factor }),
            Spread::Gamma { shape } => {
                Gamma::new(shape, 1.0)
                    .ok()
                    .map(|unit_gamma| SpreadSampler::Gamma {
                        unit_gamma,
                        inverse: 1.0 / shape,
                    })
            }
        };
        built.unwrap_or(SpreadSampler::Fixed)
    }

    /// One quantity around `mean`.
    #[inline(always)]
    pub fn draw<R: Rng + ?Sized>(&self, mean: f64, rng: &mut R) -> f64 {
        if mean <= 0.0 {
            return 0.0;
        }
        match self {
            SpreadSampler::Fixed => mean,
            SpreadSampler::Poisson => poisson::sample(mean, rng),
            SpreadSampler::NegativeBinomial {
                unit_gamma,
                inverse,
            } => {
                let lambda = mean * inverse * unit_gamma.sample(rng);
                if lambda <= 0.0 {
                    0.0
                } else {
                    poisson::sample(lambda, rng)
                }
            }
            SpreadSampler::LogNormal { log_factor } => mean * log_factor.sample(rng).exp(),
            SpreadSampler::Gamma {
                unit_gamma,
                inverse,
            } => mean * inverse * unit_gamma.sample(rng),
        }
    }
}

/// Compound-Poisson bursts: starts arrive at `per_month`, each adds a lognormal total of mean
/// `mean_size` (log-sd `sigma`) spread evenly over `days` days.
#[derive(Debug, Clone, PartialEq)]
pub struct Bursts {
    pub per_month: f64,
    pub mean_size: f64,
    pub sigma: f64,
    pub days: u32,
}

/// A Markov chain between named levels, stepped once a day.
#[derive(Debug, Clone, PartialEq)]
pub struct Regimes {
    pub names: Vec<String>,
    pub factors: Vec<f64>,
    /// Row i: probabilities of tomorrow's state given today's state i; rows sum to 1.
    pub transitions: Vec<Vec<f64>>,
    pub initial: usize,
}

/// A shared day-to-day activity factor: a stationary lognormal AR(1) with mean 1, so metrics
/// that load on it move together.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Activity {
    pub sigma: f64,
    pub persistence: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MetricModel {
    pub metric: MetricId,
    pub daily: f64,
    pub spread: Spread,
    /// Monday first.
    pub weekly: [f64; 7],
    /// Growth per month as a fraction (0.03 = 3% a month, compounding).
    pub trend_per_month: f64,
    /// Exponent on the shared activity factor (0: independent of it).
    pub activity_weight: f64,
    /// The model's bursts as given (the draw uses `burst_draws`, built from them once).
    pub bursts: Option<Bursts>,
    /// The quantisation step (the metric's unit): a drawn quantity is a whole number of them.
    pub unit: Decimal,
    /// `unit` as a float, to turn a drawn quantity into a count of units (the exact step is
    /// also inside `rates`); `None` for a unit of 1, the usual one, which needs no division.
    unit_f64: Option<f64>,
    /// Daily burst starts, burst sizes and each burst's length in days, built once; `None`
    /// without bursts.
    burst_draws: Option<(Poisson, LogNormal<f64>, u32)>,
    /// `spread`'s sampler, built once.
    sampler: SpreadSampler,
    rates: Vec<UnitRate>,
}

impl MetricModel {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        metric: MetricId,
        daily: f64,
        spread: Spread,
        weekly: [f64; 7],
        trend_per_month: f64,
        bursts: Option<Bursts>,
        activity_weight: f64,
        unit: Decimal,
        card: &RateCard,
    ) -> MetricModel {
        assert!(unit > Decimal::ZERO, "validated: the unit is positive");
        let u = unit.normalize();
        let rates = card.metrics[metric.0]
            .versions
            .iter()
            .map(|v| {
                // micro = units x u_m/10^u_s x c_m/10^c_s / (p_m/10^p_s) x 10^6
                let (c, p) = (v.credits.normalize(), v.per.normalize());
                UnitRate::new(
                    v.from,
                    v.until,
                    u.mantissa() * c.mantissa() * 10i128.pow(p.scale() + 6),
                    p.mantissa() * 10i128.pow(u.scale() + c.scale()),
                )
            })
            .collect();
        MetricModel {
            metric,
            daily,
            spread,
            weekly,
            trend_per_month,
            sampler: SpreadSampler::new(spread),
            burst_draws: bursts.as_ref().and_then(|b| {
                let starts = Poisson::new(b.per_month / DAYS_PER_MONTH)?;
                let sizes =
                    LogNormal::new(b.mean_size.ln() - b.sigma * b.sigma / 2.0, b.sigma).ok()?;
                Some((starts, sizes, b.days))
            }),
            activity_weight,
            bursts,
            unit,
            unit_f64: {
                use rust_decimal::prelude::ToPrimitive;
                Some(unit.to_f64().unwrap_or(1.0)).filter(|u| *u != 1.0)
            },
            rates,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct UsageModel {
    pub metrics: Vec<MetricModel>,
    pub regimes: Option<Regimes>,
    pub activity: Option<Activity>,
    /// A history resampled by blocks; then `metrics` is empty and nothing else applies.
    pub bootstrap: Option<Bootstrap>,
}

/// A block bootstrap of a customer's history: the projection is made of blocks of
/// `block_days` consecutive history days, each block's start drawn uniformly among the
/// history days that fit a whole block and (when blocks are whole weeks) fall on the same
/// weekday as the block they fill, so weekly patterns and within-week runs survive. Each day
/// keeps its quantity per metric, priced at the projected day's rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Bootstrap {
    pub metrics: Vec<MetricId>,
    /// Per history day (consecutive UTC dates from `first_day`), quantity per metric of `metrics`.
    pub days: Vec<Vec<Decimal>>,
    pub first_day: chrono::NaiveDate,
    pub block_days: u32,
    rates: RateCard,
    /// Per weekday (Monday 0), the block starts a block beginning that weekday draws from.
    starts: [Vec<u32>; 7],
}

impl Bootstrap {
    /// `days` must hold at least `block_days` days.
    pub fn new(
        metrics: Vec<MetricId>,
        days: Vec<Vec<Decimal>>,
        first_day: chrono::NaiveDate,
        block_days: u32,
        rates: RateCard,
    ) -> Bootstrap {
        assert!(
            block_days >= 1 && days.len() >= block_days as usize,
            "validated"
        );
        let fit = days.len() as u32 + 1 - block_days;
        let first = first_day.weekday().num_days_from_monday() as usize;
        let starts = std::array::from_fn(|weekday| {
            let same: Vec<u32> = (0..fit)
                .filter(|b| (first + *b as usize) % 7 == weekday)
                .collect();
            if block_days % 7 != 0 || same.is_empty() {
                (0..fit).collect()
            } else {
                same
            }
        });
        Bootstrap {
            metrics,
            days,
            first_day,
            block_days,
            rates,
            starts,
        }
    }

    fn draw<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        start: Instant,
        days: u32,
        rounding: Rounding,
        out: &mut Vec<CreditUsage>,
    ) -> DrawReport {
        out.clear();
        let mut report = DrawReport::default();
        let first_weekday = start.date().weekday().num_days_from_monday() as usize;
        let mut block_start = 0u32;
        for day in 0..days {
            let offset = day % self.block_days;
            if offset == 0 {
                let candidates = &self.starts[(first_weekday + day as usize) % 7];
                block_start = candidates[rng.random_range(0..candidates.len())];
            }
            let at = add_days(start, day);
            let mut total = DayCredits::default();
            for (k, q) in self.days[(block_start + offset) as usize]
                .iter()
                .enumerate()
            {
                if q.is_zero() {
                    continue;
                }
                let Ok(c) = self.rates.credits(self.metrics[k], at, *q, rounding) else {
                    continue; // validated: rates cover the horizon
                };
                // Credits of a quantity are not negative (a negative one is an error).
                total.add(u64::try_from(c.micros()).unwrap_or(0), &mut report);
            }
            total.push(at, out);
        }
        report
    }
}

/// Block length of a bootstrap of a scenario's own usage: whole weeks keep the weekly pattern.
pub const OWN_USAGE_BLOCK_DAYS: u32 = 7;

impl UsageModel {
    /// A weekly block bootstrap of usage already in credits (a scenario's own events): the
    /// credits of each day from `start`'s date until `end` are the history, and a projection
    /// over the same days is made of whole weeks of it, each starting on the weekday it
    /// fills. So advice on a recorded quarter weighs other mixes of that quarter's weeks.
    /// Events before `start`'s date count on its first day. `None` without a whole day.
    pub fn bootstrap_of_credits(
        events: impl Iterator<Item = CreditUsage>,
        start: Instant,
        end: Instant,
    ) -> Option<UsageModel> {
        let first_day = start.date();
        let mut days = (end.date() - first_day).num_days();
        if end.time() != chrono::NaiveTime::MIN {
            days += 1;
        }
        let days = usize::try_from(days).ok().filter(|d| *d > 0)?;
        let mut micros = vec![0i128; days];
        for u in events {
            let day = (u.at.date() - first_day)
                .num_days()
                .clamp(0, days as i64 - 1);
            micros[day as usize] += i128::from(u.credits.micros());
        }
        let history = micros
            .into_iter()
            .map(|m| vec![Decimal::from_i128_with_scale(m, 6)])
            .collect();
        let one = crate::model::pricing::RateVersion::new(None, None, Decimal::ONE, Decimal::ONE)?;
        let rates = RateCard {
            metrics: vec![crate::model::pricing::Metric {
                name: "credits".into(),
                unit: "credit".into(),
                versions: vec![one],
            }],
        };
        let block_days = OWN_USAGE_BLOCK_DAYS.min(days as u32);
        let bootstrap = Bootstrap::new(vec![MetricId(0)], history, first_day, block_days, rates);
        Some(UsageModel {
            metrics: Vec::new(),
            regimes: None,
            activity: None,
            bootstrap: Some(bootstrap),
        })
    }
}

/// One simulated day's credits over every metric: each metric's credits clamped to
/// [`DAILY_CREDITS_MAX`] (the clamp counted in the report), the day to [`CREDITS_MAX`].
/// In 64 bits: a metric adds at most `DAILY_CREDITS_MAX` (10^15 micro-credits), so the sum
/// saturates only past 18,000 metrics, and saturated or not it is clamped to `CREDITS_MAX`.
#[derive(Default)]
struct DayCredits(u64);

impl DayCredits {
    const METRIC_MAX: u64 = DAILY_CREDITS_MAX.micros() as u64;

    #[inline]
    fn add(&mut self, metric_micros: u64, report: &mut DrawReport) {
        if metric_micros <= Self::METRIC_MAX {
            if let Some(sum) = self.0.checked_add(metric_micros) {
                self.0 = sum;
                return;
            }
        }
        self.add_clamped(metric_micros, report);
    }

    #[cold]
    fn add_clamped(&mut self, metric_micros: u64, report: &mut DrawReport) {
        report.clamped_days += u32::from(metric_micros > Self::METRIC_MAX);
        self.0 = self.0.saturating_add(metric_micros.min(Self::METRIC_MAX));
    }

    /// Ends the day: one event at `at` unless it used nothing.
    #[inline]
    fn push(&mut self, at: Instant, out: &mut Vec<CreditUsage>) {
        const MAX: u64 = CREDITS_MAX.micros() as u64;
        if self.0 > 0 {
            out.push(CreditUsage {
                at,
                credits: Credits::from_micros(self.0.min(MAX) as i64),
            });
        }
        self.0 = 0;
    }
}

/// What one path's draw produced besides the usage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DrawReport {
    /// Days on which a metric's credits were clamped to [`DAILY_CREDITS_MAX`].
    pub clamped_days: u32,
}

/// Mutable state of one path's draw, reused across paths to avoid allocation.
#[derive(Debug, Default)]
pub struct DrawBuffers {
    /// Remaining (days, load per day) of active bursts, per metric.
    bursts: Vec<Vec<(u32, f64)>>,
}

/// What a draw on a day and metric shares with every path, computed once per horizon.
#[derive(Debug, Clone, Copy)]
struct DayMetric<'m> {
    /// `daily x weekly[weekday] x (1 + trend)^(months elapsed)`: the day's mean before the
    /// path's regime and activity (the powers of the trend are why it is tabulated).
    base: f64,
    /// The rate's micro-credits a unit when that is a whole number (1 credit per 500,000 ms
    /// is 2), so that a day's credits are one multiplication; 0 otherwise.
    whole_micros_per_unit: u64,
    /// The metric's rate in force on the day; `None` when none is (validation rules it
    /// out).
    rate: Option<&'m UnitRate>,
}

impl DayMetric<'_> {
    /// Micro-credits for `units` on the day, `u64::MAX` past that; 0 without a rate.
    #[inline]
    fn micros(&self, units: i64, rounding: Rounding) -> u64 {
        if self.whole_micros_per_unit != 0 {
            if let Some(micros) = (units as u64).checked_mul(self.whole_micros_per_unit) {
                return micros;
            }
        }
        self.rate
            .map_or(0, |rate| rate.micros_saturating(units, rounding))
    }
}

/// A usage model laid out over one horizon: every path's draw from `start` for `days` days
/// shares each day's instant, and per day and metric its mean before the path's own factors
/// and the rate in force, so they are computed here once instead of on every draw. Its size
/// is days x metrics, whatever the number of paths.
#[derive(Debug)]
pub struct Horizon<'m> {
    model: &'m UsageModel,
    start: Instant,
    days: u32,
    /// Each day's start.
    at: Vec<Instant>,
    /// Day-major: day d's metric m is `cells[d * metrics + m]`.
    cells: Vec<DayMetric<'m>>,
}

impl UsageModel {
    /// The model laid out over `days` days from `start` (midnight-aligned by the caller), for
    /// drawing any number of paths over them.
    pub fn horizon(&self, start: Instant, days: u32) -> Horizon<'_> {
        let at: Vec<Instant> = (0..days).map(|d| add_days(start, d)).collect();
        let first_weekday = start.date().weekday().num_days_from_monday() as usize;
        let mut cells = Vec::new();
        if self.bootstrap.is_none() {
            cells.reserve(at.len() * self.metrics.len());
            for (day, &day_start) in at.iter().enumerate() {
                let weekday = (first_weekday + day) % 7;
                let months = day as f64 / DAYS_PER_MONTH;
                cells.extend(self.metrics.iter().map(|m| {
                    let trend = if m.trend_per_month == 0.0 {
                        1.0
                    } else {
                        (1.0 + m.trend_per_month).powf(months)
                    };
                    let rate = m.rates.iter().find(|r| r.in_force(day_start));
                    DayMetric {
                        base: m.daily * m.weekly[weekday] * trend,
                        whole_micros_per_unit: rate
                            .and_then(UnitRate::whole_micros_per_unit)
                            .unwrap_or(0),
                        rate,
                    }
                }));
            }
        }
        Horizon {
            model: self,
            start,
            days,
            at,
            cells,
        }
    }

    /// Draws one path: see [`Horizon::draw`]. To draw many paths over one horizon, lay it out
    /// once with [`UsageModel::horizon`].
    pub fn draw<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        start: Instant,
        days: u32,
        rounding: Rounding,
        buffers: &mut DrawBuffers,
        out: &mut Vec<CreditUsage>,
    ) -> DrawReport {
        self.horizon(start, days).draw(rng, rounding, buffers, out)
    }
}

impl Horizon<'_> {
    /// Draws one path: one usage event per day (the credits of every metric), in time order,
    /// skipping days without usage.
    pub fn draw<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        rounding: Rounding,
        buffers: &mut DrawBuffers,
        out: &mut Vec<CreditUsage>,
    ) -> DrawReport {
        let model = self.model;
        if let Some(b) = &model.bootstrap {
            return b.draw(rng, self.start, self.days, rounding, out);
        }
        out.clear();
        let mut report = DrawReport::default();
        // One event per day: the day's credits over every metric. Time of day is not
        // modelled, so separate events at the same instant would only make results depend
        // on the order the metrics are listed in (a top-up between them, say).
        let mut total = DayCredits::default();
        self.walk_cells(rng, buffers, |day, drawn| match drawn {
            // No rate: validation rules it out (rates cover the horizon).
            Some((_, cell, units)) => total.add(cell.micros(units, rounding), &mut report),
            None => total.push(self.at[day], out),
        });
        debug_assert!(out.iter().all(|u| u.credits <= CREDITS_MAX));
        report
    }

    /// Draws one path's quantities: `each(day_start, Some((metric, units)))` for every metric
    /// with a positive quantity on a day, then `each(day_start, None)` when the day is
    /// complete. The random numbers are the same whatever `each` does, so a trace written
    /// from path k (`trace generate`) is the usage `simulate` replays on path k.
    pub fn walk<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        buffers: &mut DrawBuffers,
        mut each: impl FnMut(Instant, Option<(usize, i64)>),
    ) {
        self.walk_cells(rng, buffers, |day, drawn| {
            each(self.at[day], drawn.map(|(m, _, units)| (m, units)));
        });
    }

    /// [`Horizon::walk`] by day index (`each(day, ...)`).
    #[inline]
    fn walk_cells<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        buffers: &mut DrawBuffers,
        mut each: impl FnMut(usize, Option<(usize, &DayMetric<'_>, i64)>),
    ) {
        let model = self.model;
        buffers.bursts.resize_with(model.metrics.len(), Vec::new);
        for b in &mut buffers.bursts {
            b.clear();
        }
        let mut path = PathState::start(model, rng);
        let metrics = model.metrics.len();
        for day in 0..self.days as usize {
            let factors = path.day_factors(model);
            let cells = &self.cells[day * metrics..(day + 1) * metrics];
            for (m, (metric, cell)) in model.metrics.iter().zip(cells).enumerate() {
                let bursts = &mut buffers.bursts[m];
                if let Some(units) = metric.draw_units(cell.base, &factors, bursts, rng) {
                    each(day, Some((m, cell, units)));
                }
            }
            each(day, None);
            path.step(model, rng);
        }
    }
}

/// What one path's day shares across metrics (the rest of the mean is the horizon's).
struct DayFactors {
    regime: f64,
    /// The shared activity factor (mean 1).
    activity: f64,
    /// Its logarithm, for metrics with a weight on it other than 0 or 1.
    log_activity: f64,
}

/// What a path carries from one day to the next: its regime and its activity AR(1).
struct PathState {
    regime: Option<usize>,
    activity_x: f64,
    /// Innovation of the activity AR(1), built once per path.
    activity_noise: Option<Normal<f64>>,
}

impl PathState {
    fn start<R: Rng + ?Sized>(model: &UsageModel, rng: &mut R) -> PathState {
        PathState {
            regime: model.regimes.as_ref().map(|r| r.initial),
            // Stationary start of the activity AR(1): x ~ N(0, sigma^2).
            activity_x: model
                .activity
                .map(|a| a.sigma * rng.sample::<f64, _>(StandardNormal))
                .unwrap_or(0.0),
            activity_noise: model.activity.and_then(|a| {
                Normal::new(0.0, a.sigma * (1.0 - a.persistence * a.persistence).sqrt()).ok()
            }),
        }
    }

    #[inline]
    fn day_factors(&self, model: &UsageModel) -> DayFactors {
        let log_activity = match model.activity {
            Some(a) => self.activity_x - a.sigma * a.sigma / 2.0,
            None => 0.0,
        };
        DayFactors {
            regime: match (&model.regimes, self.regime) {
                (Some(r), Some(s)) => r.factors[s],
                _ => 1.0,
            },
            activity: log_activity.exp(),
            log_activity,
        }
    }

    /// Moves to the next day: the regime chain steps, then the activity AR(1).
    #[inline]
    fn step<R: Rng + ?Sized>(&mut self, model: &UsageModel, rng: &mut R) {
        if let (Some(r), Some(s)) = (&model.regimes, self.regime.as_mut()) {
            let u: f64 = rng.sample(rand_distr::StandardUniform);
            let mut acc = 0.0;
            let row = &r.transitions[*s];
            let mut next = row.len() - 1;
            for (j, p) in row.iter().enumerate() {
                acc += p;
                if u < acc {
                    next = j;
                    break;
                }
            }
            *s = next;
        }
        if let Some(a) = model.activity {
            let noise = self.activity_noise.as_ref().map_or(0.0, |d| d.sample(rng));
            self.activity_x = a.persistence * self.activity_x + noise;
        }
    }
}

impl MetricModel {
    /// The metric's quantity on a day in whole units, its active `bursts` included (and
    /// advanced by a day); `None` for no usage.
    #[inline(always)]
    fn draw_units<R: Rng + ?Sized>(
        &self,
        base: f64,
        day: &DayFactors,
        bursts: &mut Vec<(u32, f64)>,
        rng: &mut R,
    ) -> Option<i64> {
        // Weights 0, 1 and 1/2 are the common cases; otherwise activity^weight as one exp of
        // the logarithm the path already has (a powf costs about twice that).
        let activity_factor = if self.activity_weight == 1.0 {
            day.activity
        } else if self.activity_weight == 0.0 {
            1.0
        } else if self.activity_weight == 0.5 {
            day.activity.sqrt()
        } else {
            (self.activity_weight * day.log_activity).exp()
        };
        let mean = base * day.regime * activity_factor;
        let mut quantity = self.sampler.draw(mean, rng);
        if let Some((starts, sizes, days)) = &self.burst_draws {
            for _ in 0..(starts.sample(rng) as u64) {
                let size = sizes.sample(rng);
                bursts.push((*days, size / f64::from(*days)));
            }
            if !bursts.is_empty() {
                for burst in bursts.iter_mut() {
                    quantity += burst.1;
                    burst.0 -= 1;
                }
                bursts.retain(|b| b.0 > 0);
            }
        }
        round_units(match self.unit_f64 {
            Some(unit) => quantity / unit,
            None => quantity,
        })
    }
}

/// `units` rounded half away from zero to a positive whole number, `None` for none (NaN, a
/// degenerate draw, and anything under a half); saturates at `i64::MAX`. The same as
/// `f64::round` and a cast, written out because `round` is a call into libm on x86-64
/// without SSE4.1, three times a simulated day.
#[inline]
fn round_units(units: f64) -> Option<i64> {
    // Negated so that NaN fails it too: one comparison for both cases.
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    if !(units >= 0.5) {
        return None;
    }
    // Below 2^52 a half is a whole number of the spacing of `units` and of `units + 0.5`
    // (or the sum is exact in the binade below), so the sum is exact and its integer part
    // is the rounded value; the usual case, one addition and a cast.
    if units < 4_503_599_627_370_496.0 {
        return Some((units + 0.5) as i64);
    }
    // From 2^52 up every value is whole; the cast saturates at i64::MAX past 2^63.
    Some(units as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::pricing::{Metric, RateVersion};
    use chrono::NaiveDate;
    use rand::SeedableRng;

    /// One metric at 1 credit per unit, always in force.
    fn card() -> RateCard {
        RateCard {
            metrics: vec![Metric {
                name: "m".into(),
                unit: "u".into(),
                versions: vec![RateVersion::new(None, None, Decimal::ONE, Decimal::ONE).unwrap()],
            }],
        }
    }

    #[test]
    fn round_units_is_round_then_a_cast() {
        let reference = |x: f64| {
            let r = x.round();
            (!r.is_nan() && r > 0.0).then_some(r as i64)
        };
        let mut values = vec![
            0.0,
            -0.0,
            -1.0,
            0.49999999999999994,
            0.5,
            1.5,
            2.5,
            4_503_599_627_370_495.5,
            4_503_599_627_370_496.0,
            9_007_199_254_740_993.0,
            9.223_372_036_854_775e18,
            9.223_372_036_854_776e18,
            1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::MIN_POSITIVE,
        ];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for _ in 0..100_000 {
            let scale = 10f64.powi(rng.random_range(-3..20));
            let x: f64 = rng.random::<f64>() * scale;
            // Halves and their neighbours, where rounding decides.
            let half = x.floor() + 0.5;
            values.extend([x, half, half.next_up(), half.next_down()]);
        }
        for x in values {
            assert_eq!(round_units(x), reference(x), "{x:e}");
        }
    }

    #[test]
    fn day_credits_clamp_each_metric_and_then_the_day() {
        // A metric adds at most 10^9 credits (10^15 micro-credits) a day, counted when it is
        // cut; the day's sum is cut to the credit limit, 10^12 credits (10^18 micro), even
        // when the 64-bit sum saturates (20,000 metrics at the metric limit: 2 x 10^19).
        let metric_max = 1_000_000_000_000_000u64;
        let mut report = DrawReport::default();
        let mut day = DayCredits::default();
        day.add(metric_max, &mut report);
        day.add(metric_max + 1, &mut report);
        day.add(u64::MAX, &mut report);
        day.add(7, &mut report);
        assert_eq!(report.clamped_days, 2);
        assert_eq!(day.0, 3 * metric_max + 7);
        let mut out = Vec::new();
        day.push(midnight_2026(), &mut out);
        assert_eq!(
            out[0].credits,
            Credits::from_micros(3 * metric_max as i64 + 7)
        );
        for metrics in [1_500, 20_000] {
            let mut day = DayCredits::default();
            for _ in 0..metrics {
                day.add(metric_max, &mut report);
            }
            let mut out = Vec::new();
            day.push(midnight_2026(), &mut out);
            assert_eq!(out[0].credits, CREDITS_MAX, "{metrics} metrics");
        }
        assert_eq!(report.clamped_days, 2, "at the limit is not over it");
    }

    fn midnight_2026() -> Instant {
        crate::model::calendar::midnight(NaiveDate::from_ymd_opt(2026, 1, 5).unwrap())
    }

    #[test]
    fn a_metric_over_the_daily_limit_is_cut_and_counted() {
        // Metric 0 draws exactly 2 x 10^9 units a day at 1 credit a unit: 2 x 10^9 credits,
        // cut to the daily limit of 10^9 and counted; metric 1 draws 5 units, 5 credits. So
        // each of 3 days is one event of 1,000,000,005 credits, and 3 metric-days are
        // clamped.
        let two = RateCard {
            metrics: vec![card().metrics[0].clone(), card().metrics[0].clone()],
        };
        let fixed = |m: usize, daily: f64| {
            MetricModel::new(
                MetricId(m),
                daily,
                Spread::Fixed,
                [1.0; 7],
                0.0,
                None,
                0.0,
                Decimal::ONE,
                &two,
            )
        };
        let model = UsageModel {
            metrics: vec![fixed(0, 2e9), fixed(1, 5.0)],
            regimes: None,
            activity: None,
            bootstrap: None,
        };
        let mut out = Vec::new();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let start = midnight_2026();
        let report = model.draw(
            &mut rng,
            start,
            3,
            Rounding::HalfUp,
            &mut DrawBuffers::default(),
            &mut out,
        );
        assert_eq!(report.clamped_days, 3);
        let expected: Vec<CreditUsage> = (0..3)
            .map(|d| CreditUsage {
                at: add_days(start, d),
                credits: Credits::from_units(1_000_000_005),
            })
            .collect();
        assert_eq!(out, expected);
    }

    #[test]
    fn weekly_blocks_keep_weekdays_and_whole_history_weeks() {
        // Two history weeks from Monday 2026-01-05: day quantity = weekday number (Mon 1 ..
        // Sun 7) in week one, ten times that in week two. A projection from a Monday in
        // blocks of 7 must give, every day, its weekday's number times 1 or 10, the same
        // factor for a whole block (a block is one history week).
        let monday = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
        let days: Vec<Vec<Decimal>> = (0..14)
            .map(|d| vec![Decimal::from((d % 7 + 1) * if d < 7 { 1 } else { 10 })])
            .collect();
        let b = Bootstrap::new(vec![MetricId(0)], days, monday, 7, card());
        let model = UsageModel {
            metrics: Vec::new(),
            regimes: None,
            activity: None,
            bootstrap: Some(b),
        };
        let start = crate::model::calendar::midnight(NaiveDate::from_ymd_opt(2026, 4, 6).unwrap());
        let mut seen = [false; 2];
        for seed in 0..20 {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let mut out = Vec::new();
            model.draw(
                &mut rng,
                start,
                28,
                Rounding::HalfUp,
                &mut DrawBuffers::default(),
                &mut out,
            );
            assert_eq!(out.len(), 28);
            for (d, u) in out.iter().enumerate() {
                assert_eq!(u.at, add_days(start, d as u32));
                let weekday = (d % 7 + 1) as i64;
                let week_factor = out[d - d % 7].credits.micros() / 1_000_000;
                assert!(week_factor == 1 || week_factor == 10);
                seen[usize::from(week_factor == 10)] = true;
                assert_eq!(
                    u.credits,
                    Credits::from_units(weekday * week_factor),
                    "day {d}"
                );
            }
        }
        assert_eq!(seen, [true, true], "both history weeks are drawn");
    }

    #[test]
    fn blocks_not_in_whole_weeks_start_anywhere_a_block_fits() {
        // 10 history days, blocks of 4: starts 0..=6 (7 of them), whatever the weekday.
        let first = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
        let days = (0..10).map(|d| vec![Decimal::from(d + 1)]).collect();
        let b = Bootstrap::new(vec![MetricId(0)], days, first, 4, card());
        for weekday in 0..7 {
            assert_eq!(b.starts[weekday], (0..7).collect::<Vec<u32>>());
        }
        // Whole weeks but a history shorter than two weeks: Mondays only at 0.
        let days = (0..10).map(|d| vec![Decimal::from(d + 1)]).collect();
        let b = Bootstrap::new(vec![MetricId(0)], days, first, 7, card());
        assert_eq!(b.starts[0], vec![0]);
        assert_eq!(b.starts[3], vec![3]);
        // No Friday start fits (Friday is day 4 and day 11 > 10 - 7): any start instead.
        assert_eq!(b.starts[4], vec![0, 1, 2, 3]);
    }
}
