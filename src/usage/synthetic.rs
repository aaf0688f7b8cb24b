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
use crate::model::amounts::{div_round, Credits, Rounding, CREDITS_MAX};
use crate::model::calendar::{add_days, Instant};
use crate::model::pricing::{MetricId, RateCard};
use chrono::Datelike;
use rand::{Rng, RngExt};
use rand_distr::{Distribution as _, Gamma, LogNormal, Normal, Poisson, StandardNormal};
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

impl Spread {
    fn draw<R: Rng + ?Sized>(self, mean: f64, rng: &mut R) -> f64 {
        if mean <= 0.0 {
            return 0.0;
        }
        match self {
            Spread::Fixed => mean,
            Spread::Poisson => Poisson::new(mean).map_or(mean, |d| d.sample(rng)),
            Spread::NegativeBinomial { dispersion } => {
                let lambda =
                    Gamma::new(dispersion, mean / dispersion).map_or(mean, |d| d.sample(rng));
                if lambda <= 0.0 {
                    0.0
                } else {
                    Poisson::new(lambda).map_or(lambda, |d| d.sample(rng))
                }
            }
            Spread::LogNormal { sigma } => LogNormal::new(mean.ln() - sigma * sigma / 2.0, sigma)
                .map_or(mean, |d| d.sample(rng)),
            Spread::Gamma { shape } => {
                Gamma::new(shape, mean / shape).map_or(mean, |d| d.sample(rng))
            }
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

/// Credits per unit of a metric as an exact ratio, per rate version.
#[derive(Debug, Clone, PartialEq)]
struct UnitRate {
    from: Option<Instant>,
    until: Option<Instant>,
    /// credits (micro) = round(units x numerator / denominator)
    numerator: i128,
    denominator: i128,
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
    /// `unit` as a float, to turn a drawn quantity into a count of units; the exact step is
    /// also inside `rates`.
    unit_f64: f64,
    /// Daily burst starts, burst sizes and each burst's length in days, built once; `None`
    /// without bursts.
    burst_draws: Option<(Poisson<f64>, LogNormal<f64>, u32)>,
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
                UnitRate {
                    from: v.from,
                    until: v.until,
                    numerator: u.mantissa() * c.mantissa() * 10i128.pow(p.scale() + 6),
                    denominator: p.mantissa() * 10i128.pow(u.scale() + c.scale()),
                }
            })
            .collect();
        MetricModel {
            metric,
            daily,
            spread,
            weekly,
            trend_per_month,
            burst_draws: bursts.as_ref().and_then(|b| {
                let starts = Poisson::new(b.per_month / DAYS_PER_MONTH).ok()?;
                let sizes =
                    LogNormal::new(b.mean_size.ln() - b.sigma * b.sigma / 2.0, b.sigma).ok()?;
                Some((starts, sizes, b.days))
            }),
            activity_weight,
            bursts,
            unit,
            unit_f64: {
                use rust_decimal::prelude::ToPrimitive;
                unit.to_f64().unwrap_or(1.0)
            },
            rates,
        }
    }

    /// Credits for `units` at `at`, or `None` when no rate is in force then.
    fn credits(&self, units: i64, at: Instant, rounding: Rounding) -> Option<i128> {
        let rate = self
            .rates
            .iter()
            .find(|r| r.from.is_none_or(|f| at >= f) && r.until.is_none_or(|u| at < u))?;
        Some(div_round(
            i128::from(units) * rate.numerator,
            rate.denominator,
            rounding,
        ))
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
                total.add(i128::from(c.micros()), &mut report);
            }
            total.push(at, out);
        }
        report
    }
}

/// One simulated day's credits over every metric: each metric's credits clamped to
/// [`DAILY_CREDITS_MAX`] (the clamp counted in the report), the day to [`CREDITS_MAX`].
#[derive(Default)]
struct DayCredits(i128);

impl DayCredits {
    fn add(&mut self, metric_micros: i128, report: &mut DrawReport) {
        let max = i128::from(DAILY_CREDITS_MAX.micros());
        if metric_micros > max {
            report.clamped_days += 1;
        }
        self.0 += metric_micros.min(max);
    }

    /// Ends the day: one event at `at` unless it used nothing.
    fn push(&mut self, at: Instant, out: &mut Vec<CreditUsage>) {
        if self.0 > 0 {
            out.push(CreditUsage {
                at,
                credits: Credits::from_micros(self.0.min(i128::from(CREDITS_MAX.micros())) as i64),
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

impl UsageModel {
    /// Draws one path: one usage event per day (the credits of every metric) from `start` for `days` days, in time
    /// order, skipping zero quantities. `start` is midnight-aligned by the caller.
    pub fn draw<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        start: Instant,
        days: u32,
        rounding: Rounding,
        buffers: &mut DrawBuffers,
        out: &mut Vec<CreditUsage>,
    ) -> DrawReport {
        if let Some(b) = &self.bootstrap {
            return b.draw(rng, start, days, rounding, out);
        }
        out.clear();
        let mut report = DrawReport::default();
        // One event per day: the day's credits over every metric. Time of day is not
        // modelled, so separate events at the same instant would only make results depend
        // on the order the metrics are listed in (a top-up between them, say).
        let mut total = DayCredits::default();
        self.walk(rng, start, days, buffers, |at, drawn| match drawn {
            Some((m, units)) => {
                let Some(micros) = self.metrics[m].credits(units, at, rounding) else {
                    return; // validated: rates cover the horizon
                };
                debug_assert!(micros >= 0, "positive units at a non-negative rate");
                total.add(micros, &mut report);
            }
            None => total.push(at, out),
        });
        debug_assert!(out.iter().all(|u| u.credits <= CREDITS_MAX));
        report
    }

    /// Draws one path's quantities: `each(day_start, Some((metric, units)))` for every metric
    /// with a positive quantity on a day, then `each(day_start, None)` when the day is complete. The
    /// random numbers are the same whatever `each` does, so a trace written from path k
    /// (`trace generate`) is the usage `simulate` replays on path k.
    pub fn walk<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        start: Instant,
        days: u32,
        buffers: &mut DrawBuffers,
        mut each: impl FnMut(Instant, Option<(usize, i64)>),
    ) {
        buffers.bursts.resize_with(self.metrics.len(), Vec::new);
        for b in &mut buffers.bursts {
            b.clear();
        }
        let mut path = PathState::start(self, rng);
        let first_weekday = start.date().weekday().num_days_from_monday() as usize;
        for day in 0..days {
            let at = add_days(start, day);
            let factors = path.day_factors(self, (first_weekday + day as usize) % 7, day);
            for (m, model) in self.metrics.iter().enumerate() {
                if let Some(units) = model.draw_units(&factors, &mut buffers.bursts[m], rng) {
                    each(at, Some((m, units)));
                }
            }
            each(at, None);
            path.step(self, rng);
        }
    }
}

/// What one day's means share across metrics.
struct DayFactors {
    /// Monday 0.
    weekday: usize,
    /// Months since the path's start.
    months: f64,
    regime: f64,
    /// The shared activity factor (mean 1).
    activity: f64,
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
    fn day_factors(&self, model: &UsageModel, weekday: usize, day: u32) -> DayFactors {
        DayFactors {
            weekday,
            months: f64::from(day) / DAYS_PER_MONTH,
            regime: match (&model.regimes, self.regime) {
                (Some(r), Some(s)) => r.factors[s],
                _ => 1.0,
            },
            activity: match model.activity {
                Some(a) => (self.activity_x - a.sigma * a.sigma / 2.0).exp(),
                None => 1.0,
            },
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
    #[inline]
    fn draw_units<R: Rng + ?Sized>(
        &self,
        day: &DayFactors,
        bursts: &mut Vec<(u32, f64)>,
        rng: &mut R,
    ) -> Option<i64> {
        let trend = if self.trend_per_month == 0.0 {
            1.0
        } else {
            (1.0 + self.trend_per_month).powf(day.months)
        };
        // Weights 0 and 1 are the common cases; powf is a tenth of a draw's time.
        let activity_factor = if self.activity_weight == 1.0 {
            day.activity
        } else if self.activity_weight == 0.0 {
            1.0
        } else {
            day.activity.powf(self.activity_weight)
        };
        let mean = self.daily * self.weekly[day.weekday] * trend * day.regime * activity_factor;
        let mut quantity = self.spread.draw(mean, rng);
        if let Some((starts, sizes, days)) = &self.burst_draws {
            for _ in 0..(starts.sample(rng) as u64) {
                let size = sizes.sample(rng);
                bursts.push((*days, size / f64::from(*days)));
            }
            for burst in bursts.iter_mut() {
                quantity += burst.1;
                burst.0 -= 1;
            }
            bursts.retain(|b| b.0 > 0);
        }
        let units_f = (quantity / self.unit_f64).round();
        // NaN (a degenerate draw) and non-positive quantities are no usage.
        if units_f.is_nan() || units_f <= 0.0 {
            return None;
        }
        Some(units_f as i64) // saturates above i64::MAX
    }
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
