//! Exact values from text: decimals and instants as people write them, in scenario files
//! and trace cells alike. (A number that arrives as a float, from TOML or a Parquet float
//! column, is made exact in `usage::exact`: the model layer has no floating point.)

use crate::model::calendar::{midnight, Instant};
use crate::model::diag::shown;
use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;

pub fn parse_decimal(text: &str) -> Result<Decimal, String> {
    let trimmed = text.trim();
    let ok = !trimmed.is_empty()
        && trimmed
            .chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || c == '.' || (i == 0 && (c == '-' || c == '+')));
    let bad = || format!("\"{}\" is not a decimal number", shown(text));
    if !ok {
        return Err(bad());
    }
    Decimal::from_str_exact(trimmed).map_err(|_| {
        format!(
            "\"{}\" is not a decimal number of at most 28 digits",
            shown(text)
        )
    })
}

/// Years accepted anywhere; keeps calendar arithmetic far from chrono's limits.
pub const YEAR_MIN: i32 = 1970;
pub const YEAR_MAX: i32 = 2200;

/// UTC offsets in use run from -12:00 (Baker Island) to +14:00 (Line Islands); an offset
/// outside them is a typo, never a place, and is refused rather than converted.
pub const OFFSET_MIN_SECONDS: i64 = -12 * 3600;
pub const OFFSET_MAX_SECONDS: i64 = 14 * 3600;

/// `Ok` when `seconds` east of UTC is an offset in use (see [`OFFSET_MIN_SECONDS`]).
pub fn check_offset(seconds: i64) -> Result<(), String> {
    if (OFFSET_MIN_SECONDS..=OFFSET_MAX_SECONDS).contains(&seconds) {
        return Ok(());
    }
    let sign = if seconds < 0 { '-' } else { '+' };
    let (h, m) = (seconds.abs() / 3600, seconds.abs() % 3600 / 60);
    Err(format!(
        "offset {sign}{h:02}:{m:02} is outside -12:00..+14:00"
    ))
}

/// The offset written at the end of an ISO date-time (`+09:00`, `+0900` or `+09`), in
/// seconds east of UTC, whatever its size: chrono refuses an offset of a day or more as a
/// malformed text, which would hide that the offset is the problem. `None` without one.
pub fn written_offset(text: &str) -> Option<i64> {
    let b = text.trim().as_bytes();
    if b.len() <= 11 || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let time = &b[11..];
    let at = time.iter().rposition(|&c| c == b'+' || c == b'-')?;
    let two = |d: &[u8]| -> Option<i64> {
        d.iter()
            .all(u8::is_ascii_digit)
            .then(|| i64::from(d[0] - b'0') * 10 + i64::from(d[1] - b'0'))
    };
    let (h, m) = match &time[at + 1..] {
        [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => (two(&[*h1, *h2])?, two(&[*m1, *m2])?),
        [h1, h2] => (two(&[*h1, *h2])?, 0),
        _ => return None,
    };
    let seconds = h * 3600 + m * 60;
    Some(if time[at] == b'-' { -seconds } else { seconds })
}

pub fn parse_instant(text: &str) -> Result<Instant, String> {
    let t = text.trim();
    if let Some(offset) = written_offset(t) {
        check_offset(offset)?;
    }
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
            "\"{}\" is not a date or date-time (expected like 2026-04-01 or 2026-04-01T09:30:00Z)",
            shown(text)
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
    grouped_text(&value.normalize().to_string())
}

/// A decimal's text ("-1234.50", as written, trailing zeros kept) with its whole part in
/// groups of three: "-1,234.50".
pub fn grouped_text(text: &str) -> String {
    let (sign, unsigned) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_those_in_use() {
        // The extremes are accepted; a minute beyond either, or +99:00, is refused by
        // name, not as a malformed date-time.
        let t = |s: &str| parse_instant(s);
        assert_eq!(
            t("2026-04-01T14:00:00+14:00").unwrap(),
            t("2026-04-01T00:00:00Z").unwrap()
        );
        assert_eq!(
            t("2026-04-01T00:00:00-12:00").unwrap(),
            t("2026-04-01T12:00:00Z").unwrap()
        );
        for (text, offset) in [
            ("2026-04-01T00:00:00+14:01", "+14:01"),
            ("2026-04-01T00:00:00-12:01", "-12:01"),
            ("2026-04-01T00:00:00+99:00", "+99:00"),
            ("2026-04-01 00:00:00+15:00", "+15:00"),
        ] {
            assert_eq!(
                t(text).unwrap_err(),
                format!("offset {offset} is outside -12:00..+14:00"),
                "{text}"
            );
        }
        assert_eq!(written_offset("2026-04-01T09:30:00+0930"), Some(34_200));
        assert_eq!(written_offset("2026-04-01T09:30:00.5-03"), Some(-10_800));
        assert_eq!(written_offset("2026-04-01"), None);
        assert_eq!(written_offset("2026-04-01T09:30:00Z"), None);
    }
}
