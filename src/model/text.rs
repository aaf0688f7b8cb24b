//! Exact values from text: decimals and instants as people write them, in scenario files
//! and trace cells alike. (A number that arrives as a float, from TOML or a Parquet float
//! column, is made exact in `usage::exact`: the model layer has no floating point.)

use crate::model::calendar::{midnight, Instant};
use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;

pub fn parse_decimal(text: &str) -> Result<Decimal, String> {
    let trimmed = text.trim();
    let ok = !trimmed.is_empty()
        && trimmed
            .chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || c == '.' || (i == 0 && (c == '-' || c == '+')));
    if !ok {
        return Err(format!("\"{text}\" is not a decimal number"));
    }
    Decimal::from_str_exact(trimmed).map_err(|_| format!("\"{text}\" is not a decimal number"))
}

/// Years accepted anywhere; keeps calendar arithmetic far from chrono's limits.
pub const YEAR_MIN: i32 = 1970;
pub const YEAR_MAX: i32 = 2200;

pub fn parse_instant(text: &str) -> Result<Instant, String> {
    let t = text.trim();
    let instant = if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        midnight(d)
    } else if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(&t.replace(' ', "T")) {
        dt.naive_utc()
    } else if let Some(dt) = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
    {
        dt
    } else {
        return Err(format!(
            "\"{text}\" is not a date or date-time (expected like 2026-04-01 or 2026-04-01T09:30:00Z)"
        ));
    };
    check_year(instant.date())?;
    Ok(instant)
}

pub fn check_year(date: NaiveDate) -> Result<(), String> {
    use chrono::Datelike;
    if date.year() < YEAR_MIN || date.year() > YEAR_MAX {
        return Err(format!(
            "year {} is outside {YEAR_MIN}-{YEAR_MAX}",
            date.year()
        ));
    }
    Ok(())
}

/// A decimal with its whole part in groups of three, for messages: "1,000,000,000,000.5".
pub fn grouped(value: Decimal) -> String {
    let text = value.normalize().to_string();
    let (sign, unsigned) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.as_str()),
    };
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (unsigned, None),
    };
    let mut out = String::from(sign);
    for (k, c) in whole.chars().enumerate() {
        if k > 0 && (whole.len() - k) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = fraction {
        out.push('.');
        out.push_str(f);
    }
    out
}

#[cfg(test)]
mod grouped_tests {
    use super::grouped;
    use rust_decimal::Decimal;

    #[test]
    fn groups_the_whole_part_only() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(grouped(d("1000000000000")), "1,000,000,000,000");
        assert_eq!(grouped(d("999")), "999");
        assert_eq!(grouped(d("1234.56780")), "1,234.5678");
        assert_eq!(grouped(d("-12345")), "-12,345");
        assert_eq!(grouped(d("0.000001")), "0.000001");
    }
}
