//! The lean floors of drawing for `creditsim bench` (README, "Performance"): the random
//! numbers a simulation's usage model draws, drawn by the plainest loop that draws them and
//! nothing else, so that `bench` can say how much the real draw adds to sampling itself.
//! Per path each seeds ChaCha8 as the simulation does (the master seed, stream = path
//! index). The samplers are the leanest this crate has (its own Poisson, see
//! `usage::poisson`; rand_distr's gamma, normal and lognormal), the ones the draw uses.
//!
//! **The lean floor** ([`model`]) draws the model's distributions: every day, the activity
//! factor (the AR(1)'s `exp`, its innovation), the regime chain's step, and each metric's
//! quantity at that day's mean (`daily x weekly x (1 + trend)^months`, tabulated once per
//! run, times the regime's factor and the activity's), with its burst starts and sizes.
//! What it leaves out is what the simulation adds to the distributions: quantising to
//! units, the exact conversion to credits, the clamps, the usage events, and spreading a
//! burst over its days (it draws the burst, and adds it on the day it starts).
//!
//! **Samplers alone** ([`samplers`]) is the stricter floor measured before: each metric's
//! quantity at its fixed `daily` mean from samplers built once per run, the burst draws,
//! the regime chain's uniform and the activity's innovation; no day means, so no activity
//! `exp` and no Poisson set up for each day's mean. It draws other distributions than the
//! model (a Poisson metric at a mean of 10 every day, by Knuth's method with 11 uniforms,
//! where the model's regimes move it to about 6 and 18), so it is reported beside the
//! floor, not as it.

use creditsim::analysis::in_pool;
use creditsim::usage::poisson::{self, Poisson};
use creditsim::usage::synthetic::{Spread, SpreadSampler, UsageModel, DAYS_PER_MONTH};
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma, LogNormal, Normal, StandardNormal, StandardUniform};
use rayon::prelude::*;

/// One metric's day quantity at a fixed mean, its sampler prebuilt.
enum Sampler {
    Fixed(f64),
    Poisson(Poisson),
    /// Gamma-Poisson: the gamma is prebuilt, the Poisson's mean is the gamma draw.
    NegativeBinomial(Gamma<f64>),
    LogNormal(LogNormal<f64>),
    Gamma(Gamma<f64>),
}

impl Sampler {
    /// `None` when the model draws nothing at this mean (as the real draw does).
    fn new(spread: Spread, mean: f64) -> Option<Sampler> {
        if mean <= 0.0 {
            return None;
        }
        let sampler = match spread {
            Spread::Fixed => Sampler::Fixed(mean),
            Spread::Poisson => Sampler::Poisson(Poisson::new(mean)?),
            Spread::NegativeBinomial { dispersion } => {
                Sampler::NegativeBinomial(Gamma::new(dispersion, mean / dispersion).ok()?)
            }
            Spread::LogNormal { sigma } => {
                Sampler::LogNormal(LogNormal::new(mean.ln() - sigma * sigma / 2.0, sigma).ok()?)
            }
            Spread::Gamma { shape } => Sampler::Gamma(Gamma::new(shape, mean / shape).ok()?),
        };
        Some(sampler)
    }

    #[inline]
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Sampler::Fixed(mean) => *mean,
            Sampler::Poisson(p) => p.sample(rng),
            Sampler::NegativeBinomial(g) => poisson::sample(g.sample(rng), rng),
            Sampler::LogNormal(l) => l.sample(rng),
            Sampler::Gamma(g) => g.sample(rng),
        }
    }
}

/// Every prebuilt sampler of a usage model.
struct Samplers {
    metrics: Vec<Option<Sampler>>,
    /// Per metric with bursts: daily starts and sizes.
    bursts: Vec<(Poisson, LogNormal<f64>)>,
    regimes: bool,
    /// The activity's stationary sd and its AR(1) innovation.
    activity: Option<(f64, Normal<f64>)>,
}

impl Samplers {
    fn new(model: &UsageModel) -> Samplers {
        Samplers {
            metrics: model
                .metrics
                .iter()
                .map(|m| Sampler::new(m.spread, m.daily))
                .collect(),
            bursts: burst_samplers(model),
            regimes: model.regimes.is_some(),
            activity: model.activity.and_then(|a| {
                let innovation = a.sigma * (1.0 - a.persistence * a.persistence).sqrt();
                Some((a.sigma, Normal::new(0.0, innovation).ok()?))
            }),
        }
    }

    /// One path's draws, summed so that none can be optimised away. Never inlined, so that
    /// an instruction count (callgrind) can tell the floor's own cost: one call a path.
    #[inline(never)]
    fn path(&self, rng: &mut ChaCha8Rng, days: u32) -> f64 {
        let mut sum = 0.0;
        if let Some((sigma, _)) = self.activity {
            sum += sigma * rng.sample::<f64, _>(StandardNormal);
        }
        for _ in 0..days {
            for sampler in self.metrics.iter().flatten() {
                sum += sampler.sample(rng);
            }
            for (starts, sizes) in &self.bursts {
                for _ in 0..starts.sample(rng) as u64 {
                    sum += sizes.sample(rng);
                }
            }
            if self.regimes {
                sum += rng.sample::<f64, _>(StandardUniform);
            }
            if let Some((_, innovation)) = &self.activity {
                sum += innovation.sample(rng);
            }
        }
        sum
    }
}

/// Draws `paths` paths of `days` days with samplers alone (see the module) on `threads`
/// threads; the sum of every draw, or `None` for a bootstrap model (which resamples a
/// history instead of drawing distributions).
pub fn samplers(
    model: &UsageModel,
    days: u32,
    paths: u32,
    seed: u64,
    threads: usize,
) -> Option<f64> {
    let samplers = Samplers::new(model);
    each_path(model, (paths, seed, threads), |rng| {
        samplers.path(rng, days)
    })
}

/// Draws `paths` paths of the model's distributions (the lean floor, see the module) over
/// `days` days from a day whose weekday is `first_weekday` (Monday 0), on `threads`
/// threads; the sum of every draw, or `None` for a bootstrap model.
pub fn model(
    model: &UsageModel,
    first_weekday: usize,
    days: u32,
    paths: u32,
    seed: u64,
    threads: usize,
) -> Option<f64> {
    let lean = LeanModel::new(model, first_weekday, days);
    each_path(model, (paths, seed, threads), |rng| lean.path(rng, days))
}

/// The sum of `path` over every path's stream (`paths` paths from `seed`, on `threads`
/// threads); `None` for a bootstrap model, which draws no distributions.
fn each_path(
    model: &UsageModel,
    (paths, seed, threads): (u32, u64, usize),
    path: impl Fn(&mut ChaCha8Rng) -> f64 + Sync,
) -> Option<f64> {
    if model.bootstrap.is_some() {
        return None;
    }
    Some(in_pool(Some(threads), || {
        (0..u64::from(paths))
            .into_par_iter()
            .map(|k| {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                rng.set_stream(k);
                path(&mut rng)
            })
            .sum()
    }))
}

/// How a metric's mean follows the activity factor `a` (mean 1): `a^weight`, with the
/// weights that need no `exp` (0, 1 and 1/2) taken apart, as any lean loop would.
#[derive(Clone, Copy)]
enum Loading {
    Independent,
    Whole,
    Root,
    Power(f64),
}

impl Loading {
    fn new(weight: f64) -> Loading {
        match weight {
            0.0 => Loading::Independent,
            1.0 => Loading::Whole,
            0.5 => Loading::Root,
            w => Loading::Power(w),
        }
    }

    #[inline]
    fn factor(self, activity: f64, log_activity: f64) -> f64 {
        match self {
            Loading::Independent => 1.0,
            Loading::Whole => activity,
            Loading::Root => activity.sqrt(),
            Loading::Power(w) => (w * log_activity).exp(),
        }
    }
}

/// The regime chain: each state's factor and its row of tomorrow's probabilities.
struct Chain {
    factors: Vec<f64>,
    rows: Vec<Vec<f64>>,
    initial: usize,
}

/// The model's distributions, built once per run for the lean floor.
struct LeanModel {
    /// Day-major: day d's metric m is `base[d * metrics + m]`, its mean before the path's
    /// regime and activity.
    base: Vec<f64>,
    metrics: Vec<(SpreadSampler, Loading)>,
    /// Per metric with bursts: daily starts and sizes.
    bursts: Vec<(Poisson, LogNormal<f64>)>,
    chain: Option<Chain>,
    /// The activity's stationary sd, its persistence and its AR(1) innovation.
    activity: Option<(f64, f64, Normal<f64>)>,
}

impl LeanModel {
    fn new(model: &UsageModel, first_weekday: usize, days: u32) -> LeanModel {
        let mut base = Vec::with_capacity(days as usize * model.metrics.len());
        for day in 0..days as usize {
            let months = day as f64 / DAYS_PER_MONTH;
            base.extend(model.metrics.iter().map(|m| {
                let trend = (1.0 + m.trend_per_month).powf(months);
                m.daily * m.weekly[(first_weekday + day) % 7] * trend
            }));
        }
        LeanModel {
            base,
            metrics: (model.metrics.iter())
                .map(|m| {
                    (
                        SpreadSampler::new(m.spread),
                        Loading::new(m.activity_weight),
                    )
                })
                .collect(),
            bursts: burst_samplers(model),
            chain: model.regimes.as_ref().map(|r| Chain {
                factors: r.factors.clone(),
                rows: r.transitions.clone(),
                initial: r.initial,
            }),
            activity: model.activity.and_then(|a| {
                let innovation = a.sigma * (1.0 - a.persistence * a.persistence).sqrt();
                Some((a.sigma, a.persistence, Normal::new(0.0, innovation).ok()?))
            }),
        }
    }

    /// One path's draws, summed so that none can be optimised away. Never inlined, so that
    /// an instruction count (callgrind) can tell the floor's own cost: one call a path.
    #[inline(never)]
    fn path(&self, rng: &mut ChaCha8Rng, days: u32) -> f64 {
        let mut sum = 0.0;
        let mut state = self.chain.as_ref().map_or(0, |c| c.initial);
        let mut x = match self.activity {
            Some((sigma, _, _)) => sigma * rng.sample::<f64, _>(StandardNormal),
            None => 0.0,
        };
        let width = self.metrics.len();
        for day in self.base.chunks_exact(width.max(1)).take(days as usize) {
            let (activity, log_activity) = match self.activity {
                Some((sigma, _, _)) => {
                    let log = x - sigma * sigma / 2.0;
                    (log.exp(), log)
                }
                None => (1.0, 0.0),
            };
            let regime = self.chain.as_ref().map_or(1.0, |c| c.factors[state]);
            for ((sampler, loading), base) in self.metrics.iter().zip(day) {
                let mean = base * regime * loading.factor(activity, log_activity);
                sum += sampler.draw(mean, rng);
            }
            for (starts, sizes) in &self.bursts {
                for _ in 0..starts.sample(rng) as u64 {
                    sum += sizes.sample(rng);
                }
            }
            if let Some(chain) = &self.chain {
                let u: f64 = rng.sample(StandardUniform);
                let row = &chain.rows[state];
                let mut acc = 0.0;
                state = row.len() - 1;
                for (j, p) in row.iter().enumerate() {
                    acc += p;
                    if u < acc {
                        state = j;
                        break;
                    }
                }
            }
            if let Some((_, persistence, innovation)) = &self.activity {
                x = persistence * x + innovation.sample(rng);
            }
        }
        sum
    }
}

/// Per metric with bursts: its daily burst starts and their sizes.
fn burst_samplers(model: &UsageModel) -> Vec<(Poisson, LogNormal<f64>)> {
    (model.metrics.iter())
        .filter_map(|m| {
            let b = m.bursts.as_ref()?;
            let starts = Poisson::new(b.per_month / DAYS_PER_MONTH)?;
            let mu = b.mean_size.ln() - b.sigma * b.sigma / 2.0;
            Some((starts, LogNormal::new(mu, b.sigma).ok()?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;
    use creditsim::input::scenario::load;
    use creditsim::usage::synthetic::DrawBuffers;
    use rust_decimal::prelude::ToPrimitive;
    use std::path::Path;

    /// Mean and standard error of the mean.
    fn mean_and_error(xs: &[f64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let variance = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, (variance / n).sqrt())
    }

    #[test]
    fn the_lean_floor_draws_the_models_distributions() {
        // The floor must draw what the simulation draws, not something cheaper: over the
        // reference workload's paths, its mean quantity a path (every metric's quantity
        // summed over the year) must be the draw's, within sampling error. The two use the
        // streams differently, so the paths are independent samples; 4 standard errors.
        // What the floor leaves out moves the mean by far less: rounding to whole units
        // (half a unit a day on quantities of about 600,000) and a burst that starts in the
        // last two days (the draw cuts it at the horizon's end).
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let scenario = load(&root.join("scenarios/bench/reference.toml")).unwrap();
        let (case, spec) = (&scenario.case, scenario.simulation.as_ref().unwrap());
        let (model, days) = (&spec.model, case.days());
        let weekday = case
            .workspace
            .anchor
            .date()
            .weekday()
            .num_days_from_monday();
        let lean = LeanModel::new(model, weekday as usize, days);
        let horizon = model.horizon(case.workspace.anchor, days);
        let unit: Vec<f64> = model
            .metrics
            .iter()
            .map(|m| m.unit.to_f64().unwrap())
            .collect();
        let mut buffers = DrawBuffers::default();
        let (mut floor, mut draw) = (Vec::new(), Vec::new());
        for path in 0..600 {
            let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
            rng.set_stream(path);
            floor.push(lean.path(&mut rng, days));
            let mut rng = ChaCha8Rng::seed_from_u64(spec.seed + 1);
            rng.set_stream(path);
            let mut sum = 0.0;
            horizon.walk(&mut rng, &mut buffers, |_, drawn| {
                if let Some((m, units)) = drawn {
                    sum += units as f64 * unit[m];
                }
            });
            draw.push(sum);
        }
        let ((f, fe), (d, de)) = (mean_and_error(&floor), mean_and_error(&draw));
        let z = (f - d) / (fe * fe + de * de).sqrt();
        assert!(
            z.abs() < 4.0,
            "floor {f:.0} +- {fe:.0}, draw {d:.0} +- {de:.0}"
        );
        // And the test can tell: without the activity factor's mean-1 correction (its
        // exp(-sigma^2 / 2)) the floor's quantities are exp(0.3^2 / 2) = 1.046 times the
        // model's on the two metrics that load on it fully (ms, which dominate the sum, and
        // images), some 6 standard errors here (checked: it fails).
        assert!(de / d < 0.01, "a standard error of {de:.0} on {d:.0}");
    }
}
