//! Exact credits and money.
//!
//! Every amount the ledger touches is a scaled integer. People read and write amounts as
//! `rust_decimal::Decimal`; conversion at that boundary is checked and never rounds silently.
//!
//! Scales (units last in names, TigerBeetle style):
//! - [`Credits`]: micro-credits in an `i64` (6 decimals). The serverless rate of 0.0002 credits
//!   per image and token prices of a few credits per million tokens are exact at this scale.
//! - [`Money`]: micro-units of the currency in an `i64` (6 decimals). Amounts that are *charged*
//!   are always whole minor units (cents); prices and caps may carry more decimals.
//! - [`Price`]: money per credit, micro-units of currency per credit (6 decimals).
//! - [`ExactMoney`]: credits x price before rounding, in units of 1e-12 of the currency in an
//!   `i128`. The flex cap binds on this, and an invoice line rounds it once.

use rust_decimal::Decimal;
use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};

/// Decimal places kept for credits, money and prices.
pub const SCALE_DIGITS: u32 = 6;
const SCALE: i64 = 1_000_000;
/// Decimal places of [`ExactMoney`]: credits (6) x price (6).
pub const EXACT_SCALE_DIGITS: u32 = 12;

/// 10^0 ..= 10^12.
const POWERS_OF_TEN: [i128; 13] = {
    let mut p = [1i128; 13];
    let mut k = 1;
    while k < 13 {
        p[k] = p[k - 1] * 10;
        k += 1;
    }
    p
};

/// Largest credit amount accepted anywhere (a single amount or a total): 10^12 credits.
/// Keeps every product credits x price inside `i128` with room to spare.
pub const CREDITS_MAX: Credits = Credits(1_000_000_000_000 * SCALE);
/// Largest money amount accepted anywhere: 10^12 units of the currency.
pub const MONEY_MAX: Money = Money(1_000_000_000_000 * SCALE);
/// Largest price per credit accepted: 10^6 units of the currency.
pub const PRICE_MAX: Price = Price(1_000_000 * SCALE);

/// Why a decimal from outside could not become an exact amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("{value} has more than {SCALE_DIGITS} decimal places")]
    TooPrecise { value: Decimal },
    #[error("{value} is negative; amounts must be zero or more")]
    Negative { value: Decimal },
    #[error("{value} is larger than the limit {max}")]
    TooLarge { value: Decimal, max: Decimal },
}

/// A computed amount would pass the limit for its kind ([`CREDITS_MAX`], [`MONEY_MAX`],
/// [`PRICE_MAX`]). Totals are held to the same limits as single amounts, so every sum of a
/// few of them still fits `i64` and every output column holds it: the engine stops with this
/// error where it would otherwise wrap around or panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} would pass the limit of {} {unit}", crate::model::text::grouped(*limit))]
pub struct LimitExceeded {
    /// What was being computed, in a reader's words ("prepaid credits bought").
    pub what: &'static str,
    pub limit: Decimal,
    pub unit: &'static str,
}

/// How an exact amount is rounded to the currency's minor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// Halves go away from zero (commercial rounding); the default.
    #[default]
    HalfUp,
    /// Halves go to the even neighbour (banker's rounding).
    HalfEven,
}

/// Divides `numerator` by a positive `denominator`, rounding the quotient by `mode`.
pub fn div_round(numerator: i128, denominator: i128, mode: Rounding) -> i128 {
    assert!(denominator > 0, "div_round needs a positive denominator");
    if denominator == 1 {
        return numerator; // rates like 1 credit per 10,000 images are whole micro-credits
    }
    // A 128-bit division is a library call several times slower than a 64-bit one, and
    // almost every amount is positive and fits 64 bits (a trace converts millions of rows).
    if let (Ok(n), Ok(d)) = (u64::try_from(numerator), u64::try_from(denominator)) {
        // Unsigned: one division gives both (a signed Euclidean pair may take two).
        return i128::from(rounded_quotient(n / d, n % d, d, mode));
    }
    let (quotient, remainder) = (
        numerator.div_euclid(denominator),
        numerator.rem_euclid(denominator),
    );
    // remainder in [0, denominator): compare 2*remainder with denominator.
    let twice = remainder * 2;
    let round_up = match twice.cmp(&denominator) {
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Equal => match mode {
            // Half away from zero: for a negative numerator the floor is already away from zero.
            Rounding::HalfUp => numerator >= 0,
            Rounding::HalfEven => quotient % 2 != 0,
        },
    };
    quotient + i128::from(round_up)
}

/// `quotient`, rounded by `mode` for the `remainder` (in [0, `divisor`)) its division left:
/// up when the remainder is over half the divisor, and at exactly half by the mode (compared
/// without 2 x remainder, which could overflow).
#[inline]
pub fn rounded_quotient(quotient: u64, remainder: u64, divisor: u64, mode: Rounding) -> u64 {
    debug_assert!(remainder < divisor);
    let up = match remainder.cmp(&(divisor - remainder)) {
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Equal => match mode {
            Rounding::HalfUp => true,
            Rounding::HalfEven => quotient % 2 != 0,
        },
    };
    quotient + u64::from(up)
}

fn scaled_from_decimal(value: Decimal, digits: u32, max: i128) -> Result<i128, AmountError> {
    if value.is_sign_negative() && !value.is_zero() {
        return Err(AmountError::Negative { value });
    }
    let normalized = value.normalize();
    if normalized.scale() > digits {
        return Err(AmountError::TooPrecise { value });
    }
    let mantissa = normalized.mantissa();
    let scaled = mantissa * 10i128.pow(digits - normalized.scale());
    if scaled > max {
        return Err(AmountError::TooLarge {
            value,
            max: Decimal::from_i128_with_scale(max, digits),
        });
    }
    Ok(scaled)
}

macro_rules! scaled_i64 {
    ($name:ident, $max:expr, $unit:expr) => {
        impl $name {
            pub const ZERO: $name = $name(0);
            /// The largest amount of this kind, single or summed.
            pub const MAX: $name = $max;

            fn limit_exceeded(what: &'static str) -> LimitExceeded {
                LimitExceeded {
                    what,
                    limit: $max.to_decimal(),
                    unit: $unit,
                }
            }

            /// `self + rhs`, or the limit that the sum would pass.
            pub fn plus(self, rhs: $name, what: &'static str) -> Result<$name, LimitExceeded> {
                match self.0.checked_add(rhs.0) {
                    Some(sum) if sum <= $max.0 => Ok($name(sum)),
                    _ => Err(Self::limit_exceeded(what)),
                }
            }

            /// Adds `rhs` in place, or leaves `self` as it was and names the limit.
            pub fn grow(&mut self, rhs: $name, what: &'static str) -> Result<(), LimitExceeded> {
                *self = self.plus(rhs, what)?;
                Ok(())
            }

            /// `self x count`, or the limit that the product would pass.
            pub fn times(self, count: u64, what: &'static str) -> Result<$name, LimitExceeded> {
                let product = i128::from(self.0) * i128::from(count);
                if product > i128::from($max.0) {
                    return Err(Self::limit_exceeded(what));
                }
                Ok($name(product as i64)) // within the limit, hence within i64
            }

            /// Builds an amount from its scaled integer (millionths).
            pub const fn from_micros(micros: i64) -> Self {
                $name(micros)
            }

            /// The scaled integer (millionths).
            pub const fn micros(self) -> i64 {
                self.0
            }

            /// A whole number of units.
            pub const fn from_units(units: i64) -> Self {
                $name(units * SCALE)
            }

            /// Exact conversion from a person's decimal: non-negative, at most six decimals,
            /// within the limit.
            pub fn from_decimal(value: Decimal) -> Result<Self, AmountError> {
                let micros = scaled_from_decimal(value, SCALE_DIGITS, i128::from($max.0))?;
                Ok($name(micros as i64))
            }

            pub fn to_decimal(self) -> Decimal {
                Decimal::new(self.0, SCALE_DIGITS).normalize()
            }

            pub fn is_zero(self) -> bool {
                self.0 == 0
            }

            pub fn min(self, other: Self) -> Self {
                if self.0 <= other.0 {
                    self
                } else {
                    other
                }
            }
        }

        impl Add for $name {
            type Output = $name;
            fn add(self, rhs: $name) -> $name {
                $name(
                    self.0
                        .checked_add(rhs.0)
                        .expect(concat!(stringify!($name), " overflow")),
                )
            }
        }

        impl AddAssign for $name {
            fn add_assign(&mut self, rhs: $name) {
                *self = *self + rhs;
            }
        }

        impl Sub for $name {
            type Output = $name;
            fn sub(self, rhs: $name) -> $name {
                $name(
                    self.0
                        .checked_sub(rhs.0)
                        .expect(concat!(stringify!($name), " underflow")),
                )
            }
        }

        impl SubAssign for $name {
            fn sub_assign(&mut self, rhs: $name) {
                *self = *self - rhs;
            }
        }

        impl std::iter::Sum for $name {
            fn sum<I: Iterator<Item = $name>>(iter: I) -> $name {
                iter.fold($name::ZERO, |a, b| a + b)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.to_decimal(), f)
            }
        }
    };
}

/// An exact number of credits (micro-credit resolution).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Credits(i64);
scaled_i64!(Credits, CREDITS_MAX, "credits");

/// An exact amount of money (micro-unit resolution of the currency).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);
scaled_i64!(Money, MONEY_MAX, "currency units");

/// Money per credit (micro-units of currency per credit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Price(i64);
scaled_i64!(Price, PRICE_MAX, "currency units per credit");

/// Money before rounding: credits x price, in 1e-12 units of the currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ExactMoney(i128);

impl ExactMoney {
    pub const ZERO: ExactMoney = ExactMoney(0);

    pub fn of(credits: Credits, price: Price) -> ExactMoney {
        ExactMoney(i128::from(credits.0) * i128::from(price.0))
    }

    pub fn from_money(money: Money) -> ExactMoney {
        ExactMoney(i128::from(money.0) * i128::from(SCALE))
    }

    /// Rounds once to the currency's minor unit (`minor_digits` decimals), or names the limit
    /// the rounded money would pass.
    pub fn round_to_minor(
        self,
        minor_digits: u32,
        mode: Rounding,
        what: &'static str,
    ) -> Result<Money, LimitExceeded> {
        assert!(minor_digits <= SCALE_DIGITS);
        // Powers of ten from a table: this runs at every invoice and month-end valuation of
        // every Monte Carlo path.
        let step = POWERS_OF_TEN[(EXACT_SCALE_DIGITS - minor_digits) as usize];
        // The usual amount is not negative and fits 64 bits (under 18 million in exact
        // units): then one 64-bit division, without the general path's signed cases.
        if let Ok(exact) = u64::try_from(self.0) {
            let step = step as u64; // at most 10^12
            let minor_units = rounded_quotient(exact / step, exact % step, step, mode);
            // At most 2^64 / 10^6 after scaling by 10^(6 - minor): within i64, below the limit.
            let micros = minor_units * POWERS_OF_TEN[(SCALE_DIGITS - minor_digits) as usize] as u64;
            return Ok(Money(micros as i64));
        }
        let minor_units = div_round(self.0, step, mode);
        // |minor_units| <= |self| / 10^6 + 1, so this product cannot overflow i128.
        let micros = minor_units * POWERS_OF_TEN[(SCALE_DIGITS - minor_digits) as usize];
        if micros > i128::from(MONEY_MAX.0) {
            return Err(Money::limit_exceeded(what));
        }
        Ok(Money(micros as i64)) // at most MONEY_MAX; never below -MONEY_MAX either (see callers)
    }

    /// The most credits whose exact cost at `price` fits in `self` (rounded down).
    pub fn credits_affordable(self, price: Price) -> Credits {
        assert!(price.0 > 0, "a price must be positive to divide by it");
        if self.0 <= 0 {
            return Credits::ZERO;
        }
        let credits = self.0 / i128::from(price.0);
        Credits(i64::try_from(credits).unwrap_or(i64::MAX))
    }

    /// `money x part / whole`, exact to 1e-12 (half-up below that): the cost basis of the
    /// unused part of a prepaid lot.
    pub fn share_of(money: Money, part: Credits, whole: Credits) -> ExactMoney {
        assert!(
            whole.0 > 0 && part.0 <= whole.0 && money.0 >= 0,
            "a share is a part of a positive whole"
        );
        // money x 10^6 x part can pass i128 (10^18 x 10^6 x 10^18), so divide in two steps:
        // money x part (< 10^37) by whole, then the remainder scaled by 10^6 (< 10^25).
        let product = i128::from(money.0) * i128::from(part.0);
        // One 64-bit division where the product fits (a lot's cost x its credits left, each
        // under 2^32 in micro-units, does): this values every lot at every Monte Carlo month
        // end, and the 128-bit division is a library call several times slower.
        let (quotient, remainder) = match u64::try_from(product) {
            Ok(p) => {
                let w = whole.0 as u64; // positive, asserted above
                (i128::from(p / w), i128::from(p % w))
            }
            Err(_) => (product / i128::from(whole.0), product % i128::from(whole.0)),
        };
        let whole = i128::from(whole.0);
        let scaled_rest = div_round(remainder * i128::from(SCALE), whole, Rounding::HalfUp);
        ExactMoney(quotient * i128::from(SCALE) + scaled_rest)
    }

    pub fn to_decimal(self) -> Decimal {
        Decimal::from_i128_with_scale(self.0, EXACT_SCALE_DIGITS).normalize()
    }
}

impl Price {
    /// Credits that `money` buys at this price, rounded down to the credit resolution.
    pub fn credits_for(self, money: Money) -> Result<Credits, LimitExceeded> {
        assert!(self.0 > 0, "prices are validated positive");
        let micros = i128::from(money.0) * i128::from(SCALE) / i128::from(self.0);
        if micros > i128::from(CREDITS_MAX.0) {
            return Err(Credits::limit_exceeded("credits bought by an open amount"));
        }
        Ok(Credits(micros as i64))
    }
}

impl Add for ExactMoney {
    type Output = ExactMoney;
    fn add(self, rhs: ExactMoney) -> ExactMoney {
        ExactMoney(self.0.checked_add(rhs.0).expect("ExactMoney overflow"))
    }
}

impl AddAssign for ExactMoney {
    fn add_assign(&mut self, rhs: ExactMoney) {
        *self = *self + rhs;
    }
}

impl Sub for ExactMoney {
    type Output = ExactMoney;
    fn sub(self, rhs: ExactMoney) -> ExactMoney {
        ExactMoney(self.0.checked_sub(rhs.0).expect("ExactMoney underflow"))
    }
}

impl Money {
    /// True when the amount is a whole number of minor units.
    pub fn is_whole_minor(self, minor_digits: u32) -> bool {
        self.0 % 10i64.pow(SCALE_DIGITS - minor_digits) == 0
    }

    /// Renders with exactly the currency's minor digits (12.5 -> "12.50").
    pub fn to_decimal_minor(self, minor_digits: u32) -> Decimal {
        let mut d = Decimal::new(self.0, SCALE_DIGITS);
        d.rescale(minor_digits.max(d.normalize().scale()));
        d
    }

    /// `self x part / whole`, rounded once to the minor unit (`minor_digits`) by `mode`: the
    /// pro-rata share of a charge, with no intermediate rounding (one `i128` division). The
    /// share is at most `self`, so it stays within the money limit when `self` does.
    pub fn share_to_minor(
        self,
        part: i128,
        whole: i128,
        minor_digits: u32,
        mode: Rounding,
    ) -> Money {
        assert!(
            whole > 0 && (0..=whole).contains(&part) && self.0 >= 0,
            "a share is a part of a positive whole"
        );
        assert!(minor_digits <= SCALE_DIGITS);
        let step = POWERS_OF_TEN[(SCALE_DIGITS - minor_digits) as usize];
        // |self| <= 10^18 micro-units (the money limit) and the ledger's `part` is at most one
        // cycle, a year, in nanoseconds (< 3.2 x 10^16): the product (< 10^35) and
        // `whole x step` stay far inside i128, so neither can fail on a charged fee.
        let numerator = i128::from(self.0)
            .checked_mul(part)
            .expect("a share's product fits i128");
        let minor_units = div_round(numerator, whole * step, mode);
        // At most round(self) in minor units, and self is within i64.
        Money(i64::try_from(minor_units * step).expect("a share is at most the whole"))
    }

    /// Money divided by credits, as a decimal price rounded half-up to `digits` places.
    /// Returns `None` when `credits` is zero.
    pub fn per_credit(self, credits: Credits, digits: u32) -> Option<Decimal> {
        if credits.0 == 0 {
            return None;
        }
        // money_micros / credits_micros = units per credit; scale to `digits`.
        let numerator = i128::from(self.0) * 10i128.pow(digits);
        let value = div_round(numerator, i128::from(credits.0), Rounding::HalfUp);
        Some(Decimal::from_i128_with_scale(value, digits))
    }
}

/// The price of `credits` at `base` per credit less `discount_percent`, rounded once to the
/// minor unit: credits x base x (1 - discount / 100). No intermediate rounding.
pub fn discounted_price(
    credits: Credits,
    base: Price,
    discount_percent: Decimal,
    minor_digits: u32,
    mode: Rounding,
) -> Result<Money, LimitExceeded> {
    assert!(
        discount_percent >= Decimal::ZERO && discount_percent <= Decimal::ONE_HUNDRED,
        "discounts are validated within 0-100%"
    );
    let d = discount_percent.normalize();
    // credits (<= 10^18) x base (<= 10^12) x keep (<= 10^2 x 10^scale) fits i128 while the
    // discount has at most 8 decimals; the book loader allows fewer.
    assert!(d.scale() <= 8, "discounts are validated to a few decimals");
    let whole = 100 * 10i128.pow(d.scale());
    let keep = whole - d.mantissa();
    // exact raw (1e-12 units) = credits x base x keep / whole; round to minor in one step.
    let numerator = i128::from(credits.0) * i128::from(base.0) * keep;
    let denominator = whole * 10i128.pow(EXACT_SCALE_DIGITS - minor_digits);
    let minor_units = div_round(numerator, denominator, mode);
    let micros = minor_units * 10i128.pow(SCALE_DIGITS - minor_digits);
    if micros > i128::from(MONEY_MAX.0) {
        return Err(Money::limit_exceeded("the bundle's price"));
    }
    Ok(Money(micros as i64))
}

/// `credits` per `per` units as the exact fraction of micro-credits per unit, in lowest
/// terms, so "1 credit per 30 GPU minutes" stays exact until one rounding per quantity.
/// Prepared once per rate, converting each of millions of quantities is a multiply and a
/// divide: micro-credits = quantity x `numerator` / `denominator`, rounded once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreditRatio {
    numerator: i128,
    denominator: i128,
}

impl CreditRatio {
    /// `None` when the fraction does not fit 128 bits (a rate no quantity converts under
    /// the credit limit: more than 10^31 credits per unit).
    pub fn new(credits: Decimal, per: Decimal) -> Option<CreditRatio> {
        assert!(
            per > Decimal::ZERO && credits >= Decimal::ZERO,
            "rates are validated: credits zero or more, per more than zero"
        );
        // credits / per x 10^6 = c_m x 10^(p_s + 6) / (p_m x 10^c_s)
        let (c, p) = (credits.normalize(), per.normalize());
        let numerator = c
            .mantissa()
            .checked_mul(10i128.checked_pow(p.scale() + SCALE_DIGITS)?)?;
        let denominator = p.mantissa().checked_mul(10i128.pow(c.scale()))?;
        let common = gcd(numerator, denominator);
        Some(CreditRatio {
            numerator: numerator / common,
            denominator: denominator / common,
        })
    }

    /// `quantity` units in credits, rounded once by `mode`.
    pub fn credits(self, quantity: Decimal, mode: Rounding) -> Result<Credits, AmountError> {
        if quantity.is_sign_negative() && !quantity.is_zero() {
            return Err(AmountError::Negative { value: quantity });
        }
        let too_large = || AmountError::TooLarge {
            value: quantity,
            max: CREDITS_MAX.to_decimal(),
        };
        // The fraction's value does not depend on how the quantity is scaled: normalising it
        // (which costs a loop of divisions) is only needed when the unnormalised form overflows.
        let micros = match self.scaled(quantity) {
            Some((n, d)) => div_round(n, d, mode),
            None => {
                let (n, d) = self.scaled(quantity.normalize()).ok_or_else(too_large)?;
                div_round(n, d, mode)
            }
        };
        if micros > i128::from(CREDITS_MAX.0) {
            return Err(too_large());
        }
        Ok(Credits(micros as i64))
    }

    /// A whole number of units in credits, rounded once by `mode`: the same as
    /// [`CreditRatio::credits`] of that decimal, without building one (the common case of a
    /// trace's integer quantities, millions of times).
    pub fn credits_of_units(self, units: u64, mode: Rounding) -> Result<Credits, AmountError> {
        if let Ok(n) = u64::try_from(self.numerator) {
            if let Some(micros) = units.checked_mul(n) {
                let micros = div_round(i128::from(micros), self.denominator, mode);
                if micros <= i128::from(CREDITS_MAX.0) {
                    return Ok(Credits(micros as i64));
                }
            }
        }
        self.credits(Decimal::from(units), mode)
    }

    /// The quantity's micro-credits as a fraction (numerator, positive denominator).
    fn scaled(self, quantity: Decimal) -> Option<(i128, i128)> {
        // In 64 bits when everything fits: a checked 128-bit multiply is a library call.
        let small = (
            i64::try_from(quantity.mantissa()),
            i64::try_from(self.numerator),
            i64::try_from(self.denominator),
        );
        if let (Ok(q), Ok(n), Ok(d)) = small {
            let scale = POWERS_OF_TEN_I64.get(quantity.scale() as usize);
            if let (Some(n), Some(d)) = (q.checked_mul(n), scale.and_then(|p| d.checked_mul(*p))) {
                return Some((i128::from(n), i128::from(d)));
            }
        }
        let numerator = quantity.mantissa().checked_mul(self.numerator)?;
        let denominator = self.denominator.checked_mul(10i128.pow(quantity.scale()))?;
        Some((numerator, denominator))
    }
}

/// 10^0 to 10^18, every power of ten an `i64` holds.
const POWERS_OF_TEN_I64: [i64; 19] = {
    let mut powers = [1i64; 19];
    let mut k = 1;
    while k < 19 {
        powers[k] = powers[k - 1] * 10;
        k += 1;
    }
    powers
};

/// Greatest common divisor of two non-negative numbers, at least 1.
pub fn gcd(mut a: i128, mut b: i128) -> i128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn decimal_round_trip_is_exact() {
        assert_eq!(Credits::from_decimal(d("0.0002")).unwrap().micros(), 200);
        assert_eq!(
            Credits::from_decimal(d("12.500000")).unwrap().micros(),
            12_500_000
        );
        assert_eq!(Credits::from_micros(200).to_decimal(), d("0.0002"));
    }

    #[test]
    fn rejects_what_cannot_be_exact() {
        assert!(matches!(
            Credits::from_decimal(d("0.0000001")),
            Err(AmountError::TooPrecise { .. })
        ));
        assert!(matches!(
            Money::from_decimal(d("-1")),
            Err(AmountError::Negative { .. })
        ));
        assert!(matches!(
            Money::from_decimal(d("1000000000001")),
            Err(AmountError::TooLarge { .. })
        ));
    }

    #[test]
    fn half_up_and_half_even_differ_only_on_ties() {
        // 2.5 -> 3 (half up), 2 (half even); 3.5 -> 4 both; 2.4 -> 2 both.
        assert_eq!(div_round(25, 10, Rounding::HalfUp), 3);
        assert_eq!(div_round(25, 10, Rounding::HalfEven), 2);
        assert_eq!(div_round(35, 10, Rounding::HalfEven), 4);
        assert_eq!(div_round(24, 10, Rounding::HalfUp), 2);
        assert_eq!(div_round(-25, 10, Rounding::HalfUp), -3);
    }

    #[test]
    fn exact_money_rounds_once_to_cents() {
        // 3.333333 credits x 3.00 = 9.999999 -> 10.00
        let exact = ExactMoney::of(Credits::from_micros(3_333_333), Price::from_units(3));
        assert_eq!(
            exact.round_to_minor(2, Rounding::HalfUp, "").unwrap(),
            Money::from_units(10)
        );
        // 0.001 credits x 5.00 = 0.005 -> 0.01 half up, 0.00 half even
        let exact = ExactMoney::of(Credits::from_micros(1_000), Price::from_units(5));
        assert_eq!(
            exact.round_to_minor(2, Rounding::HalfUp, "").unwrap(),
            Money::from_micros(10_000)
        );
        assert_eq!(
            exact.round_to_minor(2, Rounding::HalfEven, "").unwrap(),
            Money::ZERO
        );
    }

    #[test]
    fn affordable_credits_round_down() {
        // 100.00 of room at 6.00 per credit: 16.666666 credits (cost 99.999996).
        let room = ExactMoney::from_money(Money::from_units(100));
        assert_eq!(
            room.credits_affordable(Price::from_units(6)).micros(),
            16_666_666
        );
    }

    #[test]
    fn rate_conversion_rounds_once() {
        // 45 GPU minutes at 1 credit per 30 minutes = 1.5 credits.
        let c = CreditRatio::new(d("1"), d("30"))
            .unwrap()
            .credits(d("45"), Rounding::HalfUp)
            .unwrap();
        assert_eq!(c.micros(), 1_500_000);
        // 10 minutes: 1/3 credit = 0.333333 (one rounding, not 0.3333333333 truncated twice).
        let c = CreditRatio::new(d("1"), d("30"))
            .unwrap()
            .credits(d("10"), Rounding::HalfUp)
            .unwrap();
        assert_eq!(c.micros(), 333_333);
        // 1,500 tokens at 3 credits per million = 0.0045.
        let c = CreditRatio::new(d("3"), d("1000000"))
            .unwrap()
            .credits(d("1500"), Rounding::HalfUp)
            .unwrap();
        assert_eq!(c.micros(), 4_500);
    }

    /// The conversion as first written: every decimal normalised, one fraction, no lowest
    /// terms; the reference the prepared ratio must agree with.
    fn credits_by_one_fraction(q: Decimal, c: Decimal, p: Decimal, mode: Rounding) -> Option<i128> {
        let (q, c, p) = (q.normalize(), c.normalize(), p.normalize());
        let numerator = q
            .mantissa()
            .checked_mul(c.mantissa())?
            .checked_mul(10i128.checked_pow(p.scale() + SCALE_DIGITS)?)?;
        let denominator = p
            .mantissa()
            .checked_mul(10i128.checked_pow(q.scale() + c.scale())?)?;
        // The reference divides in 128 bits only, so the 64-bit path is checked against it.
        let quotient = numerator.div_euclid(denominator);
        let twice = numerator.rem_euclid(denominator) * 2;
        let up = match twice.cmp(&denominator) {
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Equal => match mode {
                Rounding::HalfUp => true,
                Rounding::HalfEven => quotient % 2 != 0,
            },
        };
        Some(quotient + i128::from(up))
    }

    proptest::proptest! {
        #[test]
        fn the_prepared_ratio_agrees_with_one_fraction(
            q_m in 0i64..=1_000_000_000_000, q_s in 0u32..=12,
            c_m in 0i64..=10_000_000_000, c_s in 0u32..=6,
            p_m in 1i64..=10_000_000_000, p_s in 0u32..=9,
            trailing_zeros in 0u32..=3,
            half_even: bool,
        ) {
            // Unnormalised quantities (trailing zeros) as a CSV gives them.
            let q = Decimal::new(q_m * 10i64.pow(trailing_zeros), q_s + trailing_zeros);
            let (c, p) = (Decimal::new(c_m, c_s), Decimal::new(p_m, p_s));
            let mode = if half_even { Rounding::HalfEven } else { Rounding::HalfUp };
            let expected = credits_by_one_fraction(q, c, p, mode)
                .filter(|m| *m <= i128::from(CREDITS_MAX.micros()));
            let ratio = CreditRatio::new(c, p).unwrap();
            let got = ratio.credits(q, mode).ok().map(|c| i128::from(c.micros()));
            proptest::prop_assert_eq!(got, expected);
            // Whole units take the integer path and must agree with the decimal one.
            let units = q_m as u64;
            let by_units = ratio.credits_of_units(units, mode).ok().map(|c| c.micros());
            let by_decimal = ratio.credits(Decimal::from(units), mode).ok().map(|c| c.micros());
            proptest::prop_assert_eq!(by_units, by_decimal);
        }
    }

    #[test]
    fn halves_round_by_mode_in_64_and_128_bits() {
        // 5 units at 1 credit per 2,000,000 = 2.5 micro-credits: a half, in 64 bits.
        let r = CreditRatio::new(d("1"), d("2000000")).unwrap();
        assert_eq!(r.credits(d("5"), Rounding::HalfUp).unwrap().micros(), 3);
        assert_eq!(r.credits(d("5"), Rounding::HalfEven).unwrap().micros(), 2);
        // The same half with a 27-digit quantity scale (5.000...0), whose fraction needs
        // 128 bits: 5 x 10^26 x 1 / (2 x 10^26) = 2.5.
        let q = Decimal::from_i128_with_scale(5 * 10i128.pow(26), 26);
        assert_eq!(r.credits(q, Rounding::HalfUp).unwrap().micros(), 3);
        assert_eq!(r.credits(q, Rounding::HalfEven).unwrap().micros(), 2);
        // Negative halves: half up goes away from zero, half even to the even neighbour.
        assert_eq!(div_round(-5, 2, Rounding::HalfUp), -3);
        assert_eq!(div_round(-5, 2, Rounding::HalfEven), -2);
        assert_eq!(div_round(-7, 2, Rounding::HalfEven), -4);
    }

    #[test]
    fn discounted_price_rounds_once() {
        // 50 credits x 4.00 x (1 - 0.08) = 184.00
        let p = discounted_price(
            Credits::from_units(50),
            Price::from_units(4),
            d("8"),
            2,
            Rounding::HalfUp,
        );
        assert_eq!(p, Ok(Money::from_units(184)));
        // 7 credits x 3.33 x (1 - 0.125) = 20.39625 -> 20.40
        let p = discounted_price(
            Credits::from_units(7),
            Price::from_micros(3_330_000),
            d("12.5"),
            2,
            Rounding::HalfUp,
        );
        assert_eq!(p, Ok(Money::from_micros(20_400_000)));
    }

    #[test]
    fn per_credit_price() {
        // 99.00 over 30 credits = 3.3
        let p = Money::from_units(99)
            .per_credit(Credits::from_units(30), 4)
            .unwrap();
        assert_eq!(p, d("3.3000"));
        assert_eq!(Money::from_units(1).per_credit(Credits::ZERO, 4), None);
    }

    /// Millionths near the places arithmetic can break: zero, the amount limit, `i64::MAX`.
    fn edge_micros() -> impl proptest::strategy::Strategy<Value = i64> {
        use proptest::prelude::*;
        let max = CREDITS_MAX.0; // the same 10^18 for credits and money
        prop_oneof![
            0i64..1_000,
            (max - 1_000)..=(max + 1_000),
            (i64::MAX - 1_000)..=i64::MAX,
            0i64..=i64::MAX,
        ]
    }

    proptest::proptest! {
        /// A checked sum or product is the exact one when it is within the limit, and an
        /// error naming the limit when not: never a wrapped value, never a panic.
        #[test]
        fn checked_sums_and_products_are_exact_or_an_error(
            a in edge_micros(),
            b in edge_micros(),
            n in proptest::prop_oneof![0u64..10, proptest::num::u64::ANY],
        ) {
            use proptest::prop_assert_eq;
            let max = i128::from(MONEY_MAX.0);
            let (x, y) = (Money::from_micros(a), Money::from_micros(b));
            let sum = i128::from(a) + i128::from(b);
            match x.plus(y, "sum") {
                Ok(s) => prop_assert_eq!((i128::from(s.0), sum <= max), (sum, true)),
                Err(e) => prop_assert_eq!((sum > max, e.limit), (true, MONEY_MAX.to_decimal())),
            }
            let product = i128::from(a) * i128::from(n); // < 2^127: cannot overflow
            match x.times(n, "product") {
                Ok(p) => prop_assert_eq!((i128::from(p.0), product <= max), (product, true)),
                Err(_) => prop_assert_eq!(product > max, true),
            }
        }

        /// Rounding to the minor unit is the one-step formula, `div_round` of the exact amount
        /// by 10^(12 - minor digits), scaled back to micro-units, on both sides of the 64-bit
        /// path's edge (2^64 exact units), for every number of minor digits and both modes.
        #[test]
        fn rounding_to_the_minor_unit_is_one_division(
            exact in proptest::prop_oneof![
                0i128..=1_000_000_000_000_000,
                0i128..=i128::from(u64::MAX),
                (i128::from(u64::MAX) - 2_000_000_000_000)..=(i128::from(u64::MAX) + 2_000_000_000_000),
                -1_000_000_000_000_000i128..=0,
            ],
            minor_digits in 0u32..=SCALE_DIGITS,
            half_even in proptest::bool::ANY,
        ) {
            let mode = if half_even { Rounding::HalfEven } else { Rounding::HalfUp };
            let step = POWERS_OF_TEN[(EXACT_SCALE_DIGITS - minor_digits) as usize];
            // Exact halves too: the amount's multiple of the step plus half of it.
            for exact in [exact, exact - exact.rem_euclid(step) + step / 2] {
                let expected = div_round(exact, step, mode)
                    * POWERS_OF_TEN[(SCALE_DIGITS - minor_digits) as usize];
                let got = ExactMoney(exact).round_to_minor(minor_digits, mode, "test");
                proptest::prop_assert_eq!(got.map(|m| i128::from(m.0)), Ok(expected));
            }
        }

        /// The two-step share equals the one-step formula wherever that fits i128, and is
        /// exact at the ends (none, all) at any size.
        #[test]
        fn a_share_is_exact_at_any_size(
            money in 0i64..=MONEY_MAX.0,
            whole in 1i64..=CREDITS_MAX.0,
            part_permille in 0i64..=1_000,
        ) {
            use proptest::prop_assert_eq;
            let part = i64::try_from(i128::from(whole) * i128::from(part_permille) / 1_000).unwrap();
            let (m, p, w) = (Money(money), Credits(part), Credits(whole));
            let got = ExactMoney::share_of(m, p, w).0;
            let one_step = i128::from(money)
                .checked_mul(i128::from(SCALE))
                .and_then(|x| x.checked_mul(i128::from(part)));
            if let Some(numerator) = one_step {
                prop_assert_eq!(got, div_round(numerator, i128::from(whole), Rounding::HalfUp));
            }
            prop_assert_eq!(ExactMoney::share_of(m, w, w).0, i128::from(money) * i128::from(SCALE));
            prop_assert_eq!(ExactMoney::share_of(m, Credits::ZERO, w).0, 0);
        }

        /// Amounts whose product fits 64 bits (the ledger's usual lots) take the 64-bit
        /// division; it gives the one-step formula's result too.
        #[test]
        fn a_share_of_amounts_under_64_bits_is_the_one_step_formula(
            money in 0i64..=i64::from(u32::MAX),
            whole in 1i64..=i64::from(u32::MAX),
            part_permille in 0i64..=1_000,
        ) {
            use proptest::prop_assert_eq;
            let part = whole * part_permille / 1_000;
            let got = ExactMoney::share_of(Money(money), Credits(part), Credits(whole)).0;
            let numerator = i128::from(money) * i128::from(SCALE) * i128::from(part);
            prop_assert_eq!(got, div_round(numerator, i128::from(whole), Rounding::HalfUp));
        }

        /// A bundle's price at the largest credits and base price is the rounded exact
        /// product, or the money limit named: never a panic.
        #[test]
        fn a_discounted_price_at_the_limits_is_exact_or_an_error(
            credits in 1i64..=CREDITS_MAX.0,
            base in 1i64..=PRICE_MAX.0,
            discount_bp in 0i64..=1_000_000, // 0-100% with 4 decimals
        ) {
            use proptest::prop_assert_eq;
            let pct = Decimal::new(discount_bp, 4);
            let got = discounted_price(Credits(credits), Price(base), pct, 2, Rounding::HalfUp);
            // credits x base x (1 - pct/100), to cents: x (10^6 - bp) / 10^6 / 10^10.
            let numerator = i128::from(credits) * i128::from(base) * i128::from(1_000_000 - discount_bp);
            let cents = div_round(numerator, 1_000_000 * 10i128.pow(10), Rounding::HalfUp);
            let micros = cents * 10_000;
            match got {
                Ok(m) => prop_assert_eq!(i128::from(m.0), micros),
                Err(e) => prop_assert_eq!((micros > i128::from(MONEY_MAX.0), e.what), (true, "the bundle's price")),
            }
        }
    }
}
