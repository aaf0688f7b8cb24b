//! How the replay reads usage: forward, one event at a time, and in quiet runs (every event
//! before the next thing that can happen, served as one). Any cloneable iterator of events
//! is read through a [`Cursor`]; a slice with its running totals ([`PrefixedEvents`]) finds
//! a quiet run by two binary searches instead of a scan, which is what the Monte Carlo
//! runner needs: every strategy on a path reads the same few hundred events, and scanning
//! them event by event was the replay's largest cost.

use crate::engine::replay::CreditUsage;
use crate::model::calendar::Instant;

/// Usage in time order, read forward. A clone keeps its place, so a quiet run is scanned
/// ahead on a clone and then served: a slice's events (`iter().copied()`) and a packed
/// trace's decoded events both are such streams.
pub trait UsageStream: Iterator<Item = CreditUsage> + Clone {}

impl<T: Iterator<Item = CreditUsage> + Clone> UsageStream for T {}

/// The events a quiet run takes: `count` of them from the reader's place, `total_micros`
/// credits in all, the last at `last`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuietRun {
    pub count: usize,
    pub total_micros: i128,
    pub last: Option<Instant>,
}

/// A place in a usage stream, as the replay reads it.
pub trait UsageReader: Clone {
    /// The next event, not taken.
    fn head(&self) -> Option<CreditUsage>;

    /// Moves past the next event.
    fn advance(&mut self);

    /// Moves past the next `count` events.
    fn skip(&mut self, count: usize) {
        for _ in 0..count {
            self.advance();
        }
    }

    /// The longest run of events from here that fall before `until` and total at most
    /// `budget_micros` credits.
    fn quiet_run(&self, until: Instant, budget_micros: i128) -> QuietRun {
        let mut after = self.clone();
        let mut run = QuietRun::default();
        while let Some(u) = after.head() {
            let total_micros = run.total_micros + i128::from(u.credits.micros());
            if u.at >= until || total_micros > budget_micros {
                break;
            }
            run = QuietRun {
                count: run.count + 1,
                total_micros,
                last: Some(u.at),
            };
            after.advance();
        }
        run
    }

    /// The next event if it is at `t`, taken.
    fn next_at(&mut self, t: Instant) -> Option<CreditUsage> {
        let head = self.head().filter(|u| u.at == t)?;
        self.advance();
        Some(head)
    }
}

/// A usage stream with its next event read once.
#[derive(Clone)]
pub struct Cursor<U> {
    rest: U,
    head: Option<CreditUsage>,
}

impl<U: UsageStream> Cursor<U> {
    pub fn new(mut rest: U) -> Cursor<U> {
        let head = rest.next();
        Cursor { rest, head }
    }
}

impl<U: UsageStream> UsageReader for Cursor<U> {
    #[inline]
    fn head(&self) -> Option<CreditUsage> {
        self.head
    }

    #[inline]
    fn advance(&mut self) {
        self.head = self.rest.next();
    }
}

/// Events in a slice with their running totals: `prefix_micros[i]` is the credits of the
/// first `i` events, so the total of any stretch is one subtraction and a quiet run's end
/// is found by binary search (the totals never fall: usage is not negative).
#[derive(Clone, Copy)]
pub struct PrefixedEvents<'a> {
    events: &'a [CreditUsage],
    prefix_micros: &'a [i128],
    next: usize,
}

impl<'a> PrefixedEvents<'a> {
    /// Reads `events` (in time order, one instant each at most), writing their running
    /// totals into `prefix_micros` (a buffer reused from call to call).
    pub fn new(events: &'a [CreditUsage], prefix_micros: &'a mut Vec<i128>) -> Self {
        prefix_micros.clear();
        prefix_micros.reserve(events.len() + 1);
        let mut total = 0i128;
        prefix_micros.push(total);
        for u in events {
            debug_assert!(u.credits.micros() >= 0, "usage is never negative");
            total += i128::from(u.credits.micros());
            prefix_micros.push(total);
        }
        PrefixedEvents {
            events,
            prefix_micros,
            next: 0,
        }
    }
}

impl UsageReader for PrefixedEvents<'_> {
    #[inline]
    fn head(&self) -> Option<CreditUsage> {
        self.events.get(self.next).copied()
    }

    #[inline]
    fn advance(&mut self) {
        self.skip(1);
    }

    #[inline]
    fn skip(&mut self, count: usize) {
        self.next = (self.next + count).min(self.events.len());
    }

    fn quiet_run(&self, until: Instant, budget_micros: i128) -> QuietRun {
        let rest = &self.events[self.next..];
        let in_time = rest.partition_point(|u| u.at < until);
        let before = self.prefix_micros[self.next];
        let totals = &self.prefix_micros[self.next + 1..=self.next + in_time];
        let count = totals.partition_point(|t| t - before <= budget_micros);
        QuietRun {
            count,
            total_micros: self.prefix_micros[self.next + count] - before,
            last: count.checked_sub(1).map(|i| rest[i].at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::amounts::Credits;
    use chrono::NaiveDate;

    fn day(d: u32) -> Instant {
        NaiveDate::from_ymd_opt(2026, 1, d)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
    }

    /// The binary searches find what the scan finds, from every place, for every `until`
    /// and every budget around the events' running totals.
    #[test]
    fn prefixed_quiet_runs_are_the_scanned_ones() {
        let credits = [3, 0, 5, 2, 7, 1, 4];
        let events: Vec<CreditUsage> = credits
            .iter()
            .enumerate()
            .map(|(i, c)| CreditUsage {
                at: day(i as u32 * 2 + 1),
                credits: Credits::from_units(*c),
            })
            .collect();
        let mut buffer = Vec::new();
        let prefixed = PrefixedEvents::new(&events, &mut buffer);
        let budgets: Vec<i128> = (0..=25)
            .flat_map(|c| [c * 1_000_000 - 1, c * 1_000_000])
            .chain([-1, i128::MAX])
            .collect();
        for start in 0..=events.len() {
            let (mut cursor, mut slice) = (Cursor::new(events.iter().copied()), prefixed);
            cursor.skip(start);
            slice.skip(start);
            assert_eq!(cursor.head(), slice.head());
            for until in 1..=16 {
                for &budget in &budgets {
                    let scanned = cursor.quiet_run(day(until), budget);
                    assert_eq!(slice.quiet_run(day(until), budget), scanned);
                }
            }
        }
        // One by hand: from the start, before day 8 (events on days 1, 3, 5, 7) within 9
        // credits: 3 + 0 + 5 = 8 fits, + 2 = 10 does not; 3 events, 8 credits, the last
        // on day 5.
        let run = prefixed.quiet_run(day(8), 9_000_000);
        assert_eq!(
            (run.count, run.total_micros, run.last),
            (3, 8_000_000, Some(day(5)))
        );
    }
}
