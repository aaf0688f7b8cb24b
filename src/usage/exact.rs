//! Numbers that arrive as floats (a TOML float, a Parquet float column) made exact: a float
//! is accepted only where its shortest rendering is exactly the decimal that was written.
//! It sits in `usage`, the one layer with floating point, so `model` and `engine` have none
//! (`tests/tidy.rs` holds them to it).

use crate::model::text::parse_decimal;
use rust_decimal::Decimal;

/// Significant digits an `f64` always round-trips.
pub const FLOAT_DIGITS_EXACT_MAX: usize = 15;

/// The decimal a float was written as: its shortest round-trip rendering, which is exactly
/// the digits written when they are at most 15 significant digits; `None` beyond that, or
/// for NaN and infinities.
pub fn exact_decimal_of_float(v: f64) -> Option<Decimal> {
    if !v.is_finite() {
        return None;
    }
    let text = format!("{v}");
    let digits = text.trim_start_matches('-').replace('.', "");
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len();
    if significant > FLOAT_DIGITS_EXACT_MAX {
        return None;
    }
    parse_decimal(&text).ok()
}
