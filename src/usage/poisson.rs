//! Poisson draws, lean: rand_distr's two methods (Knuth's below a mean of 12, Ahrens and
//! Dieter's rejection from 12 up) and exactly its random numbers, but with Knuth's method
//! inlined. Through rand_distr's generic `Poisson<F>`, a Knuth draw at a mean of 10 (11
//! uniforms) cost about 1.2 times the same loop written out for `f64` in a microbenchmark,
//! and building the distribution for each draw, which a mean that changes every day
//! requires, about half as much again. Knuth's cost grows with the mean; from 12 up the
//! rejection method takes constant time.

use rand::{Rng, RngExt};
use rand_distr::Distribution as _;

/// Means from which rand_distr's Poisson uses rejection instead of Knuth's method.
const KNUTH_BELOW: f64 = 12.0;

/// A Poisson distribution of fixed mean, built once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Poisson {
    /// Knuth's method: multiply uniforms until the product drops to `exp(-mean)`.
    Knuth {
        exp_minus_mean: f64,
    },
    Rejection(rand_distr::Poisson<f64>),
}

impl Poisson {
    /// `None` for a mean that is not positive and finite (or beyond rand_distr's limit).
    pub fn new(mean: f64) -> Option<Poisson> {
        if mean > 0.0 && mean < KNUTH_BELOW {
            Some(Poisson::Knuth {
                exp_minus_mean: (-mean).exp(),
            })
        } else {
            rand_distr::Poisson::new(mean).ok().map(Poisson::Rejection)
        }
    }

    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Poisson::Knuth { exp_minus_mean } => knuth(*exp_minus_mean, rng),
            Poisson::Rejection(d) => d.sample(rng),
        }
    }
}

/// One draw at `mean` (a mean that changes from draw to draw): `mean` itself when no
/// Poisson distribution has it (not positive, not finite), as rand_distr's `map_or` did.
#[inline]
pub fn sample<R: Rng + ?Sized>(mean: f64, rng: &mut R) -> f64 {
    if mean > 0.0 && mean < KNUTH_BELOW {
        knuth((-mean).exp(), rng)
    } else {
        rand_distr::Poisson::new(mean).map_or(mean, |d| d.sample(rng))
    }
}

/// Knuth's method, as rand_distr's `KnuthMethod::sample` draws it (the same uniforms, so
/// the same result).
#[inline]
fn knuth<R: Rng + ?Sized>(exp_minus_mean: f64, rng: &mut R) -> f64 {
    let mut result = 1.0;
    let mut p: f64 = rng.random();
    while p > exp_minus_mean {
        p *= rng.random::<f64>();
        result += 1.0;
    }
    result - 1.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn draws_what_rand_distr_draws() {
        for mean in [1e-3, 0.5, 2.0, 10.0, 11.999, 12.0, 30.0, 2500.0, 1e9] {
            let reference = rand_distr::Poisson::new(mean).unwrap();
            let built = Poisson::new(mean).unwrap();
            let mut a = ChaCha8Rng::seed_from_u64(3);
            let mut b = a.clone();
            let mut c = a.clone();
            for _ in 0..2000 {
                let expected: f64 = reference.sample(&mut a);
                assert_eq!(built.sample(&mut b), expected, "mean {mean}");
                assert_eq!(sample(mean, &mut c), expected, "mean {mean}");
            }
        }
    }

    #[test]
    fn a_mean_no_poisson_has_is_returned_as_it_is() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        assert_eq!(sample(f64::INFINITY, &mut rng), f64::INFINITY);
        assert!(sample(f64::NAN, &mut rng).is_nan());
        assert_eq!(Poisson::new(0.0), None);
        assert_eq!(Poisson::new(f64::NAN), None);
    }
}
