//! Instants and calendar arithmetic for billing periods.
//!
//! All instants are UTC wall-clock times without a zone (`NaiveDateTime`): a scenario's
//! offsets are converted to UTC when it is loaded, so the ledger never deals with zones.

use chrono::{Datelike, Days, NaiveDate, NaiveDateTime};

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
///
/// Worked out on (year, month, day) directly: the ledger asks for a period boundary at every
/// cycle and flex period of every replay, and chrono's general month arithmetic was a visible
/// share of a Monte Carlo run. `tests::add_months_agrees_with_chrono` holds it to chrono's.
pub fn add_months(anchor: Instant, months: u32) -> Instant {
    MONTHS_FROM_ANCHOR.with(|table| {
        let mut table = table.borrow_mut();
        if table.first() != Some(&anchor) {
            table.clear();
            table.push(anchor); // anchor + 0 months, its day always exists
        }
        let n = months as usize;
        if let Some(t) = table.get(n) {
            return *t;
        }
        let t = months_after(anchor, months);
        if n == table.len() && n < MONTHS_REMEMBERED {
            table.push(t);
        }
        t
    })
}

/// The month ends of a horizon: `start + 1 month`, ..., the last one clipped to the end.
pub fn month_ends(start: Instant, end: Instant) -> Vec<Instant> {
    let mut out = Vec::new();
    let mut k = 1;
    loop {
        let t = add_months(start, k);
        if t >= end {
            out.push(end);
            return out;
        }
        out.push(t);
        k += 1;
    }
}

/// How many months from one anchor [`add_months`] remembers: the longest horizon and then some.
const MONTHS_REMEMBERED: usize = 2_048;

thread_local! {
    /// `add_months(anchor, k)` for k = 0, 1, ... of the anchor last asked about, on this
    /// thread. A replay asks for its anchor's months in order, at every period boundary of
    /// every strategy and Monte Carlo path (the same dates each time), and building a date
    /// was a visible share of a replay. A memo of a pure function: it changes no result.
    static MONTHS_FROM_ANCHOR: std::cell::RefCell<Vec<Instant>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// [`add_months`] worked out.
fn months_after(anchor: Instant, months: u32) -> Instant {
    let date = anchor.date();
    let index = i64::from(date.year()) * 12 + i64::from(date.month0()) + i64::from(months);
    let year = i32::try_from(index.div_euclid(12)).expect("validated years");
    let month = index.rem_euclid(12) as u32 + 1;
    let day = date.day().min(days_in_month(year, month));
    NaiveDate::from_ymd_opt(year, month, day)
        .expect("instants stay far inside chrono's range (validated years)")
        .and_time(anchor.time())
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
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
    fn remembered_months_are_chronos_months() {
        // Anchors on a 31st, a 29 February and a time of day; each walked in order (the
        // memo fills), again (it answers), out of order and interleaved with another anchor
        // (it restarts), always equal to chrono's month arithmetic.
        let anchors = [
            NaiveDate::from_ymd_opt(2026, 1, 31)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap(),
            NaiveDate::from_ymd_opt(2024, 2, 29)
                .unwrap()
                .and_hms_opt(13, 5, 7)
                .unwrap(),
        ];
        let by_chrono = |t: Instant, k: u32| t.checked_add_months(chrono::Months::new(k)).unwrap();
        for _ in 0..2 {
            for anchor in anchors {
                for k in (0..300).chain([2_500, 7, 0, 299, 300, 301]) {
                    assert_eq!(
                        add_months(anchor, k),
                        by_chrono(anchor, k),
                        "{anchor} + {k}"
                    );
                }
            }
        }
        for k in 0..300 {
            for anchor in anchors {
                assert_eq!(
                    add_months(anchor, k),
                    by_chrono(anchor, k),
                    "{anchor} + {k}"
                );
            }
        }
    }

    #[test]
    fn periods_are_half_open() {
        let p = Period::new(day(2026, 1, 1), day(2026, 2, 1));
        assert!(p.contains(day(2026, 1, 1)));
        assert!(!p.contains(day(2026, 2, 1)));
    }

    proptest::proptest! {
        #[test]
        fn add_months_agrees_with_chrono(
            days in 0i64..(400 * 366),
            seconds in 0u32..86_400,
            months in 0u32..3_000,
        ) {
            let start = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() + chrono::Duration::days(days);
            let t = start.and_time(chrono::NaiveTime::from_num_seconds_from_midnight_opt(seconds, 0).unwrap());
            let by_chrono = t.checked_add_months(chrono::Months::new(months)).unwrap();
            proptest::prop_assert_eq!(add_months(t, months), by_chrono);
        }
    }
}
