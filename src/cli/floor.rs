//! The lean floor of drawing for `creditsim bench` (README, "Performance"): the random
//! numbers a simulation's usage model draws, drawn by the plainest loop that draws them and
//! nothing else, so that `bench` can say how much the real draw adds to sampling itself.
//!
//! Per path it seeds ChaCha8 as the simulation does (the master seed, stream = path index)
//! and draws, for every day: each metric's quantity from its distribution at the metric's
//! `daily` mean, the metric's burst starts and their sizes, the regime chain's uniform and
//! the activity AR(1)'s innovation; plus the activity's stationary start. Every sampler
//! whose parameters are fixed is built once per run. What it leaves out is what the model
//! adds around the samplers: each day's mean (weekday, trend, regime, activity), quantising
//! to units, the exact conversion to credits and the usage events. The negative binomial's
//! Poisson is the exception: its mean is the gamma draw, so even the floor builds it per
//! draw. The samplers are the leanest this crate has (its own Poisson, see
//! `usage::poisson`; rand_distr's gamma, normal and lognormal), the ones the draw uses.
//!
//! A Poisson metric is drawn at its `daily` mean. Knuth's method, below a mean of 12,
//! costs in proportion to the mean, and from 12 up the rejection method takes constant
//! time; a model whose day means straddle 12 draws its Poisson metric cheaper than the
//! floor does. On the reference workload (means of about 6 and 18 around a `daily` of 10)
//! that flatters the draw: drawing that metric from a prebuilt mean-10 sampler instead made
//! the draw about 5% slower.

use creditsim::analysis::in_pool;
use creditsim::usage::poisson::{self, Poisson};
use creditsim::usage::synthetic::{Spread, UsageModel, DAYS_PER_MONTH};
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
            bursts: model
                .metrics
                .iter()
                .filter_map(|m| {
                    let b = m.bursts.as_ref()?;
                    let starts = Poisson::new(b.per_month / DAYS_PER_MONTH)?;
                    let mu = b.mean_size.ln() - b.sigma * b.sigma / 2.0;
                    Some((starts, LogNormal::new(mu, b.sigma).ok()?))
                })
                .collect(),
            regimes: model.regimes.is_some(),
            activity: model.activity.and_then(|a| {
                let innovation = a.sigma * (1.0 - a.persistence * a.persistence).sqrt();
                Some((a.sigma, Normal::new(0.0, innovation).ok()?))
            }),
        }
    }

    /// One path's draws, summed so that none can be optimised away.
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

/// Draws `paths` paths of `days` days on `threads` threads; the sum of every draw, or `None`
/// for a bootstrap model (which resamples a history instead of drawing distributions).
pub fn draw(model: &UsageModel, days: u32, paths: u32, seed: u64, threads: usize) -> Option<f64> {
    if model.bootstrap.is_some() {
        return None;
    }
    let samplers = Samplers::new(model);
    let sum = in_pool(Some(threads), || {
        (0..u64::from(paths))
            .into_par_iter()
            .map(|path| {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                rng.set_stream(path);
                samplers.path(&mut rng, days)
            })
            .sum()
    });
    Some(sum)
}
