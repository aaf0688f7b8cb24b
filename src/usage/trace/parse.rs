//! Cell parsers for trace rows: timestamps in a named format and time zone, and exact
//! decimal quantities.
//!
//! These run once per row of traces with millions of rows, so the common shapes (ISO 8601
//! with or without an offset, plain decimals) are parsed by position without allocating;
//! anything else falls back to chrono and rust_decimal, which accept the same texts.

use crate::model::calendar::{midnight, Instant};
use crate::model::diag::shown;
use crate::model::text::{check_offset, written_offset, YEAR_MAX, YEAR_MIN};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use rust_decimal::Decimal;

/// How timestamps are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimestampFormat {
    /// ISO 8601 / RFC 3339: `2026-04-01`, `2026-04-01T09:30:00`, `2026-04-01 09:30:00.250`,
    /// `2026-04-01T09:30:00Z`, `2026-04-01T09:30:00+09:00`.
    Iso,
    /// A chrono strftime pattern such as `%d/%m/%Y %H:%M`; with `%z` or `%:z` the offset is read
    /// from the text, otherwise the time zone applies.
    Pattern(String),
    /// Seconds since 1970-01-01T00:00:00Z (fractions allowed).
    UnixSeconds,
    /// Milliseconds since 1970-01-01T00:00:00Z (integers).
    UnixMillis,
}

impl TimestampFormat {
    pub fn parse(text: &str) -> TimestampFormat {
        match text {
            "iso" | "rfc3339" => TimestampFormat::Iso,
            "unix" | "unix_s" => TimestampFormat::UnixSeconds,
            "unix_ms" => TimestampFormat::UnixMillis,
            pattern => TimestampFormat::Pattern(pattern.to_string()),
        }
    }
}

/// The zone of timestamps written without an offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    Utc,
    Fixed(FixedOffset),
    Named(chrono_tz::Tz),
}

impl Zone {
    /// `UTC`, an offset like `+09:00`, or an IANA name like `Asia/Tokyo`.
    pub fn parse(text: &str) -> Result<Zone, String> {
        if text.eq_ignore_ascii_case("utc") || text == "Z" {
            return Ok(Zone::Utc);
        }
        if text.starts_with('+') || text.starts_with('-') {
            let probe = format!("2000-01-01T00:00:00{text}");
            if let Some(offset) = written_offset(&probe) {
                check_offset(offset)?;
            }
            return DateTime::parse_from_rfc3339(&probe)
                .map(|d| Zone::Fixed(*d.offset()))
                .map_err(|_| format!("\"{}\" is not an offset like +09:00", shown(text)));
        }
        text.parse::<chrono_tz::Tz>().map(Zone::Named).map_err(|_| {
            format!(
                "unknown time zone \"{}\" (use UTC, an offset like +09:00, or an IANA name like Asia/Tokyo)",
                shown(text)
            )
        })
    }

    /// The UTC instant of a local time in this zone. In a named zone, a local time skipped by
    /// a daylight-saving change is an error; one that happens twice is taken at its first
    /// occurrence (the earlier instant).
    pub fn to_utc(self, local: NaiveDateTime) -> Result<Instant, String> {
        match self {
            Zone::Utc => Ok(local),
            Zone::Fixed(offset) => Ok(local - offset),
            Zone::Named(tz) => match tz.from_local_datetime(&local) {
                chrono::LocalResult::Single(t) => Ok(t.naive_utc()),
                chrono::LocalResult::Ambiguous(first, _) => Ok(first.naive_utc()),
                chrono::LocalResult::None => Err(format!(
                    "{local} does not exist in {tz} (skipped by a daylight-saving change)"
                )),
            },
        }
    }
}

/// Parses one timestamp cell into a UTC instant.
pub fn timestamp(text: &str, format: &TimestampFormat, zone: Zone) -> Result<Instant, String> {
    TimestampParser::new(format, zone).parse(text)
}

/// Parses the timestamps of one column, row after row. Exports are written in time order,
/// so consecutive rows mostly share a date: the last ISO date parsed is kept and reused
/// (checking a calendar date costs more than the rest of the row).
#[derive(Debug, Clone)]
pub struct TimestampParser<'a> {
    format: &'a TimestampFormat,
    zone: Zone,
    /// The first 10 bytes of the last ISO timestamp, and the date they name.
    last_date: Option<([u8; 10], NaiveDate)>,
}

impl<'a> TimestampParser<'a> {
    pub fn new(format: &'a TimestampFormat, zone: Zone) -> TimestampParser<'a> {
        TimestampParser {
            format,
            zone,
            last_date: None,
        }
    }

    pub fn parse(&mut self, text: &str) -> Result<Instant, String> {
        match self.parse_common(text) {
            Some(instant) => Ok(instant),
            None => self.parse_any(text),
        }
    }

    /// The common timestamp, inlined where rows are parsed: ISO 8601 in UTC (a `Z`, or no
    /// offset in a UTC trace). `None` for anything else, which [`TimestampParser::parse`]
    /// decides; when `Some`, the same instant.
    #[inline]
    pub fn parse_common(&mut self, text: &str) -> Option<Instant> {
        if !matches!(self.format, TimestampFormat::Iso) {
            return None;
        }
        let instant = match self.iso_fast(trimmed(text).as_bytes())? {
            (local, Some(0)) => local,
            (local, None) if self.zone == Zone::Utc => local,
            _ => return None,
        };
        (YEAR_MIN..=YEAR_MAX)
            .contains(&instant.year())
            .then_some(instant)
    }

    fn parse_any(&mut self, text: &str) -> Result<Instant, String> {
        let (format, zone) = (self.format, self.zone);
        let t = trimmed(text);
        let instant = match format {
            TimestampFormat::Iso => match self.iso_fast(t.as_bytes()) {
                Some((local, None)) => zone.to_utc(local)?,
                Some((local, Some(0))) => local,
                Some((local, Some(offset_s))) => {
                    check_offset(offset_s)?;
                    local - chrono::Duration::seconds(offset_s)
                }
                None => iso_slow(t, zone)?,
            },
            TimestampFormat::Pattern(p) => {
                if let Some(offset) = pattern_offset(t, p) {
                    check_offset(offset)?;
                }
                if let Ok(d) = DateTime::parse_from_str(t, p) {
                    d.naive_utc()
                } else if let Ok(local) = NaiveDateTime::parse_from_str(t, p) {
                    zone.to_utc(local)?
                } else if let Ok(date) = NaiveDate::parse_from_str(t, p) {
                    zone.to_utc(midnight(date))?
                } else {
                    return Err(format!(
                        "\"{}\" does not match the timestamp format \"{}\"",
                        shown(text),
                        shown(p)
                    ));
                }
            }
            TimestampFormat::UnixSeconds => {
                let seconds = parse_quantity(t).map_err(|_| {
                    format!("\"{}\" is not a count of seconds since 1970", shown(text))
                })?;
                let nanos = seconds
                    .checked_mul(Decimal::from(1_000_000_000))
                    .and_then(|n| i64::try_from(n.trunc()).ok())
                    .ok_or_else(|| out_of_years(t, "seconds"))?;
                DateTime::from_timestamp_nanos(nanos).naive_utc()
            }
            TimestampFormat::UnixMillis => {
                let millis: i64 = t.parse().map_err(|_| {
                    format!(
                        "\"{}\" is not a count of milliseconds since 1970",
                        shown(text)
                    )
                })?;
                DateTime::from_timestamp_millis(millis)
                    .ok_or_else(|| out_of_years(t, "milliseconds"))?
                    .naive_utc()
            }
        };
        in_years(instant)
    }

    /// `YYYY-MM-DD`, then optionally `[T ]HH:MM:SS[.f{1,9}]`, then optionally `Z` or `±HH:MM`:
    /// the local time and the offset in seconds east of UTC when one is written. `None` for
    /// any other shape (the slow path decides whether it is valid).
    #[inline]
    fn iso_fast(&mut self, b: &[u8]) -> Option<(NaiveDateTime, Option<i64>)> {
        if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let date = match self.last_date {
            Some((text, date)) if same_text(&text, &b[..10]) => date,
            _ => {
                let date = NaiveDate::from_ymd_opt(
                    digits(&b[0..4])? as i32,
                    digits(&b[5..7])?,
                    digits(&b[8..10])?,
                )?;
                self.last_date = Some((b[..10].try_into().expect("10 bytes"), date));
                date
            }
        };
        iso_time(date, &b[10..])
    }
}

/// Whether two cells have the same bytes. Cells are mostly short (ids, metric names, dates),
/// where comparing two overlapping 8-byte words beats a call to `memcmp`, which slice
/// equality makes for every length.
#[inline]
pub fn same_text(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().expect("8 bytes"));
    match n {
        0..=7 => a.iter().zip(b).all(|(x, y)| x == y),
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        _ => a == b,
    }
}

/// `text` without surrounding whitespace; most cells have none, which two byte checks tell
/// without scanning for Unicode spaces.
#[inline]
pub fn trimmed(text: &str) -> &str {
    let b = text.as_bytes();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => text,
        _ => text.trim(),
    }
}

/// A count since 1970 too large for any instant: said with the years accepted.
fn out_of_years(count: &str, unit: &str) -> String {
    format!(
        "{} {unit} since 1970 is outside the years {YEAR_MIN}-{YEAR_MAX}",
        shown(count)
    )
}

/// `instant` when its year is one creditsim accepts anywhere.
pub fn in_years(instant: Instant) -> Result<Instant, String> {
    let year = instant.date().year();
    if !(YEAR_MIN..=YEAR_MAX).contains(&year) {
        return Err(format!("year {year} is outside {YEAR_MIN}-{YEAR_MAX}"));
    }
    Ok(instant)
}

fn digits(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// The rest of an ISO timestamp after its date: nothing, or `[T ]HH:MM:SS[.f{1,9}]` then
/// optionally `Z` or `±HH:MM`.
#[inline]
fn iso_time(date: NaiveDate, b: &[u8]) -> Option<(NaiveDateTime, Option<i64>)> {
    if b.is_empty() {
        return Some((midnight(date), None));
    }
    if b.len() < 9 || !(b[0] == b'T' || b[0] == b' ') || b[3] != b':' || b[6] != b':' {
        return None;
    }
    let (h, m, s) = (digits(&b[1..3])?, digits(&b[4..6])?, digits(&b[7..9])?);
    let mut rest = &b[9..];
    let mut nanos = 0u32;
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 9 {
            return None;
        }
        nanos = digits(&frac[..n])? * 10u32.pow(9 - n as u32);
        rest = &frac[n..];
    }
    let time = chrono::NaiveTime::from_hms_nano_opt(h, m, s, nanos)?;
    let offset = match rest {
        [] => None,
        [b'Z'] | [b'z'] => Some(0),
        [sign @ (b'+' | b'-'), hh @ ..] if hh.len() == 5 && hh[2] == b':' => {
            let minutes = digits(&hh[3..5])?;
            if minutes > 59 {
                return None; // not an offset: the slow path words it
            }
            let secs = i64::from(digits(&hh[0..2])? * 3600 + minutes * 60);
            Some(if *sign == b'-' { -secs } else { secs })
        }
        _ => return None,
    };
    Some((NaiveDateTime::new(date, time), offset))
}

/// The shapes `scenario::values::parse_instant` accepts that the fast path does not (an
/// offset without a colon, minutes without seconds), with the zone for local times.
fn iso_slow(t: &str, zone: Zone) -> Result<Instant, String> {
    if let Some(offset) = written_offset(t) {
        check_offset(offset)?;
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(&t.replace(' ', "T")) {
        return Ok(d.naive_utc());
    }
    if let Ok(d) = DateTime::<FixedOffset>::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Ok(d.naive_utc());
    }
    if let Some(local) = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
    {
        return zone.to_utc(local);
    }
    Err(format!(
        "\"{}\" is not an ISO 8601 date or date-time (expected like 2026-04-01 or 2026-04-01T09:30:00Z)",
        shown(t)
    ))
}

/// The offset a pattern with `%z` reads from `t`, whatever its size: chrono refuses an offset
/// of a day or more as a mismatch, and the pattern's local-time reading would then take the
/// text without its offset.
fn pattern_offset(t: &str, pattern: &str) -> Option<i64> {
    let mut parsed = chrono::format::Parsed::new();
    // A text that does not match is decided (and worded) by the caller.
    let _ = chrono::format::parse(&mut parsed, t, chrono::format::StrftimeItems::new(pattern));
    parsed.offset().map(i64::from)
}

/// An exact non-negative-or-not decimal: plain digits with one optional point and sign, or
/// scientific notation (`1.5e-3`), which is still an exact decimal text.
pub fn parse_quantity(text: &str) -> Result<Decimal, String> {
    let t = trimmed(text);
    if let Some(d) = decimal_fast(t.as_bytes()) {
        return Ok(d);
    }
    let bad = || format!("\"{}\" is not a decimal number", shown(text));
    if t.contains(['e', 'E']) {
        return Decimal::from_scientific(t).map_err(|_| bad());
    }
    // Its own message: it says when a decimal has too many digits.
    crate::model::text::parse_decimal(t)
}

/// Up to 18 significant digits with an optional sign and point, without allocating.
fn decimal_fast(b: &[u8]) -> Option<Decimal> {
    let (negative, body) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    if body.is_empty() || body.len() > 19 {
        return None;
    }
    let mut mantissa: i64 = 0;
    let mut scale: Option<u32> = None;
    let mut digit_count = 0;
    for &c in body {
        match c {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + i64::from(c - b'0');
                digit_count += 1;
                if let Some(s) = scale.as_mut() {
                    *s += 1;
                }
            }
            b'.' if scale.is_none() => scale = Some(0),
            _ => return None,
        }
    }
    if digit_count == 0 || digit_count > 18 {
        return None;
    }
    let d = Decimal::new(
        if negative { -mantissa } else { mantissa },
        scale.unwrap_or(0),
    );
    Some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Instant {
        crate::model::text::parse_instant(text).unwrap()
    }

    #[test]
    fn iso_shapes_agree_with_the_scenario_parser() {
        // The scenario parser (chrono only) is the reference for every ISO shape.
        for text in [
            "2026-04-01",
            "2026-04-01T09:30:00",
            "2026-04-01 09:30:00",
            "2026-04-01T09:30:00.25",
            "2026-04-01T09:30:00.123456789",
            "2026-04-01T09:30:00Z",
            "2026-04-01T09:30:00+09:00",
            "2026-04-01T09:30:00-03:30",
            "2026-04-01 09:30:00.5+01:00",
            "2026-04-01T09:30",
        ] {
            assert_eq!(
                timestamp(text, &TimestampFormat::Iso, Zone::Utc).unwrap(),
                at(text),
                "{text}"
            );
        }
    }

    #[test]
    fn an_offset_without_a_colon_is_read_too() {
        // Some exports write +0900; the scenario parser does not take it, traces do.
        assert_eq!(
            timestamp("2026-04-01T09:30:00+0900", &TimestampFormat::Iso, Zone::Utc).unwrap(),
            at("2026-04-01T00:30:00")
        );
    }

    #[test]
    fn offsets_outside_those_in_use_are_refused_by_every_parser() {
        let refused = |offset: &str| format!("offset {offset} is outside -12:00..+14:00");
        let iso = TimestampFormat::Iso;
        // The fast path (+HH:MM), the slow one (+HHMM, +HH), and the extremes accepted.
        for (text, offset) in [
            ("2026-04-01T09:30:00+99:00", "+99:00"),
            ("2026-04-01T09:30:00-12:30", "-12:30"),
            ("2026-04-01T09:30:00+1500", "+15:00"),
            ("2026-04-01 09:30+99", "+99:00"),
        ] {
            assert_eq!(
                timestamp(text, &iso, Zone::Utc).unwrap_err(),
                refused(offset),
                "{text}"
            );
        }
        assert_eq!(
            timestamp("2026-04-01T14:00:00+14:00", &iso, Zone::Utc).unwrap(),
            at("2026-04-01T00:00:00")
        );
        assert_eq!(
            timestamp("2026-04-01T00:00:00-12:00", &iso, Zone::Utc).unwrap(),
            at("2026-04-01T12:00:00")
        );
        // A pattern with %z: chrono refuses +99:00 as a mismatch, and the local-time
        // reading of the pattern must not take the text without its offset.
        let p = TimestampFormat::parse("%d/%m/%Y %H:%M %z");
        assert_eq!(
            timestamp("01/04/2026 09:30 +9900", &p, Zone::Utc).unwrap_err(),
            refused("+99:00")
        );
        assert_eq!(
            timestamp("01/04/2026 09:30 +1430", &p, Zone::Utc).unwrap_err(),
            refused("+14:30")
        );
        assert_eq!(
            timestamp("01/04/2026 09:30 +0900", &p, Zone::Utc).unwrap(),
            at("2026-04-01T00:30:00")
        );
        // The zone of local times (--timezone, [usage.trace] timezone).
        assert_eq!(Zone::parse("+15:00").unwrap_err(), refused("+15:00"));
        assert_eq!(Zone::parse("+99:00").unwrap_err(), refused("+99:00"));
        assert!(Zone::parse("+14:00").is_ok() && Zone::parse("-12:00").is_ok());
        // Minutes past 59 are no offset at all.
        assert!(timestamp("2026-04-01T09:30:00+05:99", &iso, Zone::Utc)
            .unwrap_err()
            .contains("is not an ISO 8601"));
    }

    #[test]
    fn local_times_take_the_zone() {
        let tokyo = Zone::parse("Asia/Tokyo").unwrap();
        // 09:00 in Tokyo (UTC+9, no daylight saving) is midnight UTC.
        assert_eq!(
            timestamp("2026-04-01 09:00:00", &TimestampFormat::Iso, tokyo).unwrap(),
            at("2026-04-01T00:00:00")
        );
        // An explicit offset wins over the zone.
        assert_eq!(
            timestamp("2026-04-01T09:00:00Z", &TimestampFormat::Iso, tokyo).unwrap(),
            at("2026-04-01T09:00:00")
        );
        let fixed = Zone::parse("-05:00").unwrap();
        assert_eq!(
            timestamp("2026-04-01", &TimestampFormat::Iso, fixed).unwrap(),
            at("2026-04-01T05:00:00")
        );
        // New York, 2026-03-08: 02:00-03:00 local does not exist; 2026-11-01 01:30 happens
        // twice (EDT, UTC-4, first).
        let ny = Zone::parse("America/New_York").unwrap();
        let err = timestamp("2026-03-08 02:30:00", &TimestampFormat::Iso, ny).unwrap_err();
        assert!(err.contains("does not exist"), "{err}");
        assert_eq!(
            timestamp("2026-11-01 01:30:00", &TimestampFormat::Iso, ny).unwrap(),
            at("2026-11-01T05:30:00")
        );
        assert!(Zone::parse("Mars/Olympus").is_err());
    }

    #[test]
    fn patterns_and_epochs() {
        let p = TimestampFormat::parse("%d/%m/%Y %H:%M");
        assert_eq!(
            timestamp("01/04/2026 09:30", &p, Zone::Utc).unwrap(),
            at("2026-04-01T09:30:00")
        );
        assert!(timestamp("2026-04-01", &p, Zone::Utc).is_err());
        // 1775001600 = 20544 days x 86400: 2026-04-01 (20544 days after 1970-01-01).
        let s = TimestampFormat::UnixSeconds;
        assert_eq!(
            timestamp("1775001600", &s, Zone::Utc).unwrap(),
            at("2026-04-01")
        );
        assert_eq!(
            timestamp("1775001600.5", &s, Zone::Utc).unwrap(),
            at("2026-04-01T00:00:00.5")
        );
        let ms = TimestampFormat::UnixMillis;
        assert_eq!(
            timestamp("1775001600250", &ms, Zone::Utc).unwrap(),
            at("2026-04-01T00:00:00.25")
        );
        assert!(timestamp("0", &s, Zone::Utc).is_ok());
        assert!(timestamp("-1", &s, Zone::Utc).unwrap_err().contains("1970"));
    }

    #[test]
    fn same_text_compares_every_byte_at_every_length() {
        let text = b"abcdefghijklmnopqrstuvwxyz";
        for n in 0..=text.len() {
            let a = &text[..n];
            assert!(same_text(a, a), "{n}");
            for k in 0..n {
                let mut b = a.to_vec();
                b[k] = b'#';
                assert!(!same_text(a, &b), "length {n}, byte {k}");
            }
            assert!(!same_text(a, &text[..n.saturating_sub(1)]) || n == 0);
        }
    }

    #[test]
    fn quantities_are_exact() {
        for (text, want) in [
            ("12", "12"),
            ("0.1", "0.1"),
            ("+3.250", "3.250"),
            ("-2", "-2"),
            ("1.5e-3", "0.0015"),
            ("2E3", "2000"),
            ("123456789012345678901.5", "123456789012345678901.5"),
        ] {
            assert_eq!(
                parse_quantity(text).unwrap(),
                want.parse::<Decimal>().unwrap(),
                "{text}"
            );
        }
        for bad in ["", "abc", "1.2.3", "1,5", "NaN", "."] {
            assert!(parse_quantity(bad).is_err(), "{bad}");
        }
    }
}
