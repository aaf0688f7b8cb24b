//! Exact values as written in TOML: decimals, instants and counts.
//!
//! A decimal may be written as a string ("99.00"), an integer (99) or a float (99.00). A TOML
//! float is parsed by the toml crate into an `f64`; its shortest round-trip rendering gives
//! back exactly the digits written as long as they are at most 15 significant digits, so a
//! float is accepted only then and is never used as a float. Errors raised here carry the
//! value's span, so they reach the user with a line and column.

use crate::model::calendar::Instant;
use crate::model::diag::{InputError, Source};
use crate::model::text::grouped;
pub use crate::model::text::{parse_decimal, parse_instant, YEAR_MAX, YEAR_MIN};
pub use crate::usage::exact::{exact_decimal_of_float, FLOAT_DIGITS_EXACT_MAX};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;

/// A decimal exactly as the user wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dec(pub Decimal);

impl<'de> serde::Deserialize<'de> for Dec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Dec, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Dec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal number (like 99.00 or \"99.00\")")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Dec, E> {
                parse_decimal(v).map(Dec).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Dec, E> {
                Ok(Dec(Decimal::from(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Dec, E> {
                Ok(Dec(Decimal::from(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Dec, E> {
                if !v.is_finite() {
                    return Err(E::custom(format!("{v} is not a finite number")));
                }
                exact_decimal_of_float(v).map(Dec).ok_or_else(|| {
                    E::custom(format!(
                        "{v} has more than {FLOAT_DIGITS_EXACT_MAX} significant digits; \
                         write it as a string to keep it exact"
                    ))
                })
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A count's value as written: a whole number at whatever width the TOML parser gives it
/// (`i64`, or `u64` past `i64::MAX`), or something else written where one belongs (a
/// fraction, a string, a boolean), kept as shown so that the field's own check can name it
/// with the field and its range (serde would say "invalid type ..., expected ...").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Whole {
    Number(i128),
    NotWhole(String),
}

impl Whole {
    pub fn number(&self) -> Option<i128> {
        match self {
            Whole::Number(n) => Some(*n),
            Whole::NotWhole(_) => None,
        }
    }
}

impl fmt::Display for Whole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Whole::Number(n) => write!(f, "{n}"),
            Whole::NotWhole(shown) => f.write_str(shown),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Whole {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Whole, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Whole;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a whole number")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Whole, E> {
                Ok(Whole::Number(i128::from(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Whole, E> {
                Ok(Whole::Number(i128::from(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Whole, E> {
                // "3.0", not "3": the message must show why 3.0 is refused.
                Ok(Whole::NotWhole(format!("{v:?}")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Whole, E> {
                let shown = crate::model::diag::shown(v);
                Ok(Whole::NotWhole(format!("\"{shown}\"")))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Whole, E> {
                Ok(Whole::NotWhole(v.to_string()))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Whole, A::Error> {
                let array = <toml::Value as serde::Deserialize>::deserialize(
                    de::value::SeqAccessDeserializer::new(seq),
                )?;
                Ok(Whole::NotWhole(shown_inline(&array)))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Whole, A::Error> {
                let table = <toml::Value as serde::Deserialize>::deserialize(
                    de::value::MapAccessDeserializer::new(map),
                )?;
                Ok(Whole::NotWhole(shown_inline(&table)))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// An array or table written where a count belongs, on one line as TOML writes it inline
/// (`[1, 2]`, `{ n = 3 }`) and cut as every echo is.
fn shown_inline(value: &toml::Value) -> String {
    let inline = match value {
        toml::Value::Table(table) => {
            let pairs: Vec<String> = table.iter().map(|(k, v)| format!("{k} = {v}")).collect();
            format!("{{ {} }}", pairs.join(", "))
        }
        other => other.to_string(),
    };
    crate::model::diag::shown(&inline)
}

/// A count as written (seats, months, paths, days, a percent, a seed), read at full width so
/// that [`count`] and [`seed`] check it against its field's range: read as `u32`, `seats = -3`
/// would be refused by serde as "expected u32", naming a type rather than the field's limit.
pub type Count = toml::Spanned<Whole>;

/// The count `value` of `field` as a `u32` within `range`, or a located error naming the
/// field, the value and the range.
pub fn count(
    source: &Source,
    field: &str,
    value: &Count,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, InputError> {
    within(source, field, value, range)
}

/// A seed as written: any count from zero (TOML integers stop at `i64::MAX`).
pub fn seed(source: &Source, value: &Count) -> Result<u64, InputError> {
    within(source, "seed", value, 0..=i64::MAX.unsigned_abs())
}

/// [`count`] at the width `T`.
fn within<T>(
    source: &Source,
    field: &str,
    value: &Count,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, InputError>
where
    T: TryFrom<i128> + PartialOrd + Copy + Into<Decimal>,
{
    let written = value.get_ref();
    match written.number().and_then(|n| T::try_from(n).ok()) {
        Some(n) if range.contains(&n) => Ok(n),
        _ => {
            let (start, end) = ((*range.start()).into(), (*range.end()).into());
            let range = format!("{}-{}", grouped(start), grouped(end));
            Err(source.error(value.span(), out_of_range(field, written, &range)))
        }
    }
}

/// "FIELD VALUE is outside RANGE", or "is not a whole number in RANGE" for a value that is not one.
pub fn out_of_range(field: &str, written: &Whole, range: &str) -> String {
    match written {
        Whole::Number(_) => format!("{field} {written} is outside {range}"),
        Whole::NotWhole(_) => format!("{field} {written} is not a whole number in {range}"),
    }
}

/// An instant: a TOML date (midnight), local datetime (UTC), offset datetime (converted to
/// UTC), or the same as a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TomlInstant(pub Instant);

/// A calendar date: a TOML date or a "YYYY-MM-DD" string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TomlDate(pub NaiveDate);

struct InstantVisitor;

impl<'de> Visitor<'de> for InstantVisitor {
    type Value = Instant;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a date or date-time (like 2026-04-01 or 2026-04-01T09:30:00Z)")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Instant, E> {
        parse_instant(v).map_err(E::custom)
    }
    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Instant, A::Error> {
        use serde::Deserialize;
        let dt = toml::value::Datetime::deserialize(de::value::MapAccessDeserializer::new(map))?;
        if dt.date.is_none() {
            return Err(de::Error::custom(format!("{dt} is a time without a date")));
        }
        parse_instant(&dt.to_string()).map_err(de::Error::custom)
    }
}

impl<'de> serde::Deserialize<'de> for TomlInstant {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<TomlInstant, D::Error> {
        deserializer
            .deserialize_any(InstantVisitor)
            .map(TomlInstant)
    }
}

impl<'de> serde::Deserialize<'de> for TomlDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<TomlDate, D::Error> {
        let instant = deserializer.deserialize_any(InstantVisitor)?;
        if instant.time() != chrono::NaiveTime::MIN {
            return Err(de::Error::custom(
                "expected a date without a time (like 2026-03-28)",
            ));
        }
        Ok(TomlDate(instant.date()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[derive(serde::Deserialize)]
    struct Doc {
        a: Dec,
        t: TomlInstant,
    }

    fn doc(text: &str) -> Result<Doc, toml::de::Error> {
        toml::from_str(text)
    }

    #[test]
    fn decimals_keep_the_digits_written() {
        let d = doc("a = 0.1\nt = 2026-01-01").unwrap();
        assert_eq!(d.a.0, Decimal::from_str("0.1").unwrap());
        let d = doc("a = \"99.00\"\nt = 2026-01-01").unwrap();
        assert_eq!(d.a.0.to_string(), "99.00");
        let d = doc("a = 100_000\nt = 2026-01-01").unwrap();
        assert_eq!(d.a.0, Decimal::from(100_000));
    }

    #[test]
    fn rejects_non_numbers_and_too_long_floats() {
        assert!(doc("a = \"12abc\"\nt = 2026-01-01").is_err());
        assert!(doc("a = 0.12345678901234567\nt = 2026-01-01").is_err());
        assert!(doc("a = nan\nt = 2026-01-01").is_err());
    }

    #[test]
    fn instants_convert_offsets_to_utc() {
        let d = doc("a = 1\nt = 2026-04-01T09:00:00+02:00").unwrap();
        assert_eq!(d.t.0, parse_instant("2026-04-01T07:00:00").unwrap());
        let d = doc("a = 1\nt = \"2026-04-01\"").unwrap();
        assert_eq!(d.t.0, parse_instant("2026-04-01T00:00:00").unwrap());
        assert!(doc("a = 1\nt = 10:00:00").is_err());
    }
}
