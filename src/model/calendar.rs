//! Instants and calendar arithmetic for billing periods.
//!
//! All instants are UTC wall-clock times without a zone (`NaiveDateTime`): a scenario's
//! offsets are converted to UTC when it is loaded, so the ledger never deals with zones.

use chrono::{Days, Months, NaiveDate, NaiveDateTime};

/// A point in time, UTC.
pub type Instant = NaiveDateTime;

/// A half-open interval `[start, end)`: an instant equal to `end` belongs to the next period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: Instant,
    pub end: Instant,
}

impl Period {
    pub fn new(start: Instant, end: Instant) -> Period {
        assert!(start <= end, "a period cannot end before it starts");
        Period { start, end }
    }

    pub fn contains(&self, t: Instant) -> bool {
        self.start <= t && t < self.end
    }
}

/// `anchor` plus `months` calendar months. A day past the target month's end clamps to its
/// last day; because the offset is always taken from the anchor (never from the previous
/// period's end), an anchor on the 31st returns to the 31st after a short month.
pub fn add_months(anchor: Instant, months: u32) -> Instant {
    anchor
        .checked_add_months(Months::new(months))
        .expect("instants stay far inside chrono's range (validated years)")
}

pub fn add_days(t: Instant, days: u32) -> Instant {
    t.checked_add_days(Days::new(u64::from(days)))
        .expect("instants stay far inside chrono's range (validated years)")
}

pub fn midnight(date: NaiveDate) -> Instant {
    date.and_hms_opt(0, 0, 0).expect("midnight exists")
}

/// Formats an instant for people: the date alone at midnight, else date and time.
pub fn display(t: Instant) -> String {
    if t.time() == chrono::NaiveTime::MIN {
        t.date().to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%S").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> Instant {
        midnight(NaiveDate::from_ymd_opt(y, m, d).unwrap())
    }

    #[test]
    fn month_end_clamps_and_returns_to_anchor_day() {
        let anchor = day(2026, 1, 31);
        // Feb 2026 has 28 days; March has 31 again; April 30.
        assert_eq!(add_months(anchor, 1), day(2026, 2, 28));
        assert_eq!(add_months(anchor, 2), day(2026, 3, 31));
        assert_eq!(add_months(anchor, 3), day(2026, 4, 30));
        // Leap year 2028: Feb 29.
        assert_eq!(add_months(day(2028, 1, 30), 1), day(2028, 2, 29));
    }

    #[test]
    fn periods_are_half_open() {
        let p = Period::new(day(2026, 1, 1), day(2026, 2, 1));
        assert!(p.contains(day(2026, 1, 1)));
        assert!(!p.contains(day(2026, 2, 1)));
    }
}
