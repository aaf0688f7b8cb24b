//! Credits for a whole number of a metric's units, exactly, as the synthetic draw needs it
//! three times a simulated day: `round(units x numerator / denominator)` micro-credits with
//! the fraction in lowest terms, reduced once when the model is built. The common rates
//! then need no division at all (1 credit per 500,000 ms is 2 micro-credits a unit), and
//! the rest divide by a constant, done as a multiplication by its precomputed reciprocal
//! (exact for every 64-bit dividend; Lemire, Kaser and Kurz, "Faster remainder by direct
//! computation", 2019), which costs a fraction of a hardware division.

use crate::model::amounts::{div_round, gcd, rounded_quotient, Rounding};
use crate::model::calendar::Instant;

/// Credits per unit of a metric as an exact fraction, for one rate version.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitRate {
    from: Option<Instant>,
    until: Option<Instant>,
    /// micro-credits = round(units x numerator / denominator), in lowest terms.
    numerator: i128,
    denominator: i128,
    /// The same fraction when both fit 64 bits, for the 64-bit path.
    narrow: Option<Narrow>,
}

/// A fraction in 64 bits: `numerator / denominator`, and for a denominator above 1
/// ceil(2^128 / denominator), with which a 64-bit quotient is two multiplications.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Narrow {
    numerator: u64,
    denominator: u64,
    reciprocal: u128,
}

impl UnitRate {
    /// The rate in force in [`from`, `until`): `numerator / denominator` micro-credits a
    /// unit (positive denominator), reduced here.
    pub fn new(
        from: Option<Instant>,
        until: Option<Instant>,
        numerator: i128,
        denominator: i128,
    ) -> UnitRate {
        assert!(numerator >= 0 && denominator > 0, "validated rates");
        let common = gcd(numerator, denominator);
        let (numerator, denominator) = (numerator / common, denominator / common);
        let narrow = match (u64::try_from(numerator), u64::try_from(denominator)) {
            (Ok(n), Ok(d)) => Some(Narrow {
                numerator: n,
                denominator: d,
                // ceil(2^128 / d) = floor((2^128 - 1) / d) + 1 for d > 1 (for d = 1 it does
                // not fit, and is not used).
                reciprocal: if d > 1 {
                    u128::MAX / u128::from(d) + 1
                } else {
                    0
                },
            }),
            _ => None,
        };
        UnitRate {
            from,
            until,
            numerator,
            denominator,
            narrow,
        }
    }

    pub fn in_force(&self, at: Instant) -> bool {
        self.from.is_none_or(|f| at >= f) && self.until.is_none_or(|u| at < u)
    }

    /// Micro-credits for `units` (not negative), rounded once by `rounding`: the same as
    /// `div_round(units x numerator, denominator, rounding)`.
    #[inline]
    pub fn micros(&self, units: i64, rounding: Rounding) -> i128 {
        match self.narrow_micros(units, rounding) {
            Some(micros) => i128::from(micros),
            None => self.wide_micros(units, rounding),
        }
    }

    /// The 64-bit path: `None` when the fraction or the product does not fit.
    #[inline]
    fn narrow_micros(&self, units: i64, rounding: Rounding) -> Option<u64> {
        debug_assert!(units >= 0);
        let n = self.narrow?;
        let product = (units as u64).checked_mul(n.numerator)?;
        Some(n.divide_rounded(product, rounding))
    }

    fn wide_micros(&self, units: i64, rounding: Rounding) -> i128 {
        div_round(
            i128::from(units) * self.numerator,
            self.denominator,
            rounding,
        )
    }

    /// The micro-credits of one unit when every unit's are a whole number of them (the
    /// fraction's denominator is 1), in 64 bits.
    pub fn whole_micros_per_unit(&self) -> Option<u64> {
        self.narrow
            .filter(|n| n.denominator == 1)
            .map(|n| n.numerator)
    }

    /// [`UnitRate::micros`] in 64 bits, `u64::MAX` where it does not fit (the draw clamps a
    /// day's credits far below that).
    #[inline]
    pub fn micros_saturating(&self, units: i64, rounding: Rounding) -> u64 {
        self.narrow_micros(units, rounding)
            .unwrap_or_else(|| u64::try_from(self.wide_micros(units, rounding)).unwrap_or(u64::MAX))
    }
}

impl Narrow {
    #[inline]
    fn divide_rounded(self, dividend: u64, rounding: Rounding) -> u64 {
        let d = self.denominator;
        if d == 1 {
            return dividend;
        }
        // floor(c x n / 2^128) for c = ceil(2^128 / d) is floor(n / d) for every n below
        // 2^64 (the paper's theorem 1 with 128 fraction bits for 64-bit n and d).
        let (high, low) = (self.reciprocal >> 64, self.reciprocal as u64 as u128);
        let n = u128::from(dividend);
        let carry = (low * n) >> 64;
        let quotient = ((high * n + carry) >> 64) as u64;
        rounded_quotient(quotient, dividend - quotient * d, d, rounding)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    const MODES: [Rounding; 2] = [Rounding::HalfUp, Rounding::HalfEven];

    #[test]
    fn reduces_once() {
        let ms = UnitRate::new(None, None, 1_000_000, 500_000);
        assert_eq!((ms.numerator, ms.denominator), (2, 1));
        let minutes = UnitRate::new(None, None, 1_000_000, 30);
        assert_eq!((minutes.numerator, minutes.denominator), (100_000, 3));
    }

    #[test]
    fn the_reciprocal_divides_exactly() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(12);
        let mut pairs: Vec<(u64, u64)> = vec![
            (u64::MAX, 2),
            (u64::MAX, 3),
            (u64::MAX, u64::MAX),
            (u64::MAX - 1, u64::MAX),
            (u64::MAX, (1 << 63) + 1),
            (1 << 63, 1 << 63),
            (0, 7),
            (5, 10),
            (15, 10),
            (25, 10),
        ];
        for _ in 0..200_000 {
            let d = rng.random::<u64>() >> rng.random_range(0..64);
            let n = rng.random::<u64>() >> rng.random_range(0..64);
            pairs.push((n, d.max(1)));
            // Exact halves, where the mode decides.
            if d % 2 == 0 && d > 0 {
                let q = n / d.max(1);
                if let Some(half) = q.checked_mul(d).and_then(|x| x.checked_add(d / 2)) {
                    pairs.push((half, d));
                }
            }
        }
        for (n, d) in pairs {
            let rate = UnitRate::new(None, None, 1, i128::from(d));
            let narrow = rate.narrow.unwrap();
            for mode in MODES {
                assert_eq!(
                    i128::from(narrow.divide_rounded(n, mode)),
                    div_round(i128::from(n), i128::from(d), mode),
                    "{n} / {d}"
                );
            }
        }
    }

    #[test]
    fn converts_as_the_unreduced_fraction() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(13);
        let mut cases = vec![(i64::MAX, 1_000_000i128, 30i128), (i64::MAX, 1, 3)];
        for _ in 0..50_000 {
            let numerator =
                i128::from(rng.random_range(0..1_000_000u32)) * 10i128.pow(rng.random_range(0..12));
            let denominator =
                i128::from(rng.random_range(1..1_000_000u32)) * 10i128.pow(rng.random_range(0..12));
            let units = rng.random::<i64>().abs() >> rng.random_range(0..63);
            cases.push((units, numerator, denominator));
        }
        for (units, numerator, denominator) in cases {
            let rate = UnitRate::new(None, None, numerator, denominator);
            for mode in MODES {
                assert_eq!(
                    rate.micros(units, mode),
                    div_round(i128::from(units) * numerator, denominator, mode),
                    "{units} x {numerator} / {denominator}"
                );
            }
        }
    }
}
