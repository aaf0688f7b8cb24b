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
///
/// A quiet run ends at an instant most often known before the replay starts (a Monte Carlo
/// month end, where an observation and a billing boundary fall): where each such *mark*
/// falls among the events is found once per path, in one pass, instead of by a search in
/// every strategy's every run.
#[derive(Clone, Copy)]
pub struct PrefixedEvents<'a> {
    events: &'a [CreditUsage],
    prefix_micros: &'a [i128],
    /// Sorted instants, and for each the number of events before it.
    marks: &'a [Instant],
    events_before_mark: &'a [usize],
    next: usize,
    /// The first mark after the next event (every earlier mark has no event left before
    /// it): the end of most quiet runs, checked before any search.
    next_mark: usize,
}

/// What [`PrefixedEvents`] writes for a path, reused from path to path.
#[derive(Debug, Default)]
pub struct PrefixBuffers {
    prefix_micros: Vec<i128>,
    events_before_mark: Vec<usize>,
}

impl PrefixBuffers {
    /// The credits (micro-credits) of every event of the last [`PrefixedEvents`] built in
    /// these buffers: its last running total.
    pub fn total_micros(&self) -> i128 {
        self.prefix_micros.last().copied().unwrap_or(0)
    }
}

impl<'a> PrefixedEvents<'a> {
    /// Reads `events` (in time order, one instant each at most), writing their running
    /// totals into `prefix_micros` (a buffer reused from call to call).
    pub fn new(events: &'a [CreditUsage], prefix_micros: &'a mut Vec<i128>) -> Self {
        running_totals(events, prefix_micros);
        PrefixedEvents {
            events,
            prefix_micros,
            marks: &[],
            events_before_mark: &[],
            next: 0,
            next_mark: 0,
        }
    }

    /// [`PrefixedEvents::new`], with where each of `marks` (sorted) falls among the events:
    /// quiet runs ending at a mark are then found without a search.
    pub fn with_marks(
        events: &'a [CreditUsage],
        marks: &'a [Instant],
        buffers: &'a mut PrefixBuffers,
    ) -> Self {
        running_totals(events, &mut buffers.prefix_micros);
        let before = &mut buffers.events_before_mark;
        before.clear();
        // A search per mark rather than a comparison per event: a year of daily events
        // has 365 events and 12 marks.
        let mut i = 0;
        for &mark in marks {
            i += events[i..].partition_point(|u| u.at < mark);
            before.push(i);
        }
        let mut start = PrefixedEvents {
            events,
            prefix_micros: &buffers.prefix_micros,
            marks,
            events_before_mark: before,
            next: 0,
            next_mark: 0,
        };
        start.skip(0); // past the marks with no event before them
        start
    }

    /// The events read, in time order.
    pub fn events(&self) -> &'a [CreditUsage] {
        self.events
    }

    /// The credits (micro-credits) of the events before each event, and of them all last.
    pub fn running_totals_micros(&self) -> &'a [i128] {
        self.prefix_micros
    }

    /// How many events fall before each mark.
    pub fn events_before_marks(&self) -> &'a [usize] {
        self.events_before_mark
    }

    /// How many events fall before `until` from the reader's place.
    #[inline]
    fn count_before(&self, until: Instant) -> usize {
        if self.marks.get(self.next_mark) == Some(&until) {
            return self.events_before_mark[self.next_mark] - self.next;
        }
        match self.marks.binary_search(&until) {
            Ok(k) => self.events_before_mark[k].saturating_sub(self.next),
            Err(_) => self.events[self.next..].partition_point(|u| u.at < until),
        }
    }
}

/// `prefix_micros[i]`: the credits of the first `i` of `events`.
fn running_totals(events: &[CreditUsage], prefix_micros: &mut Vec<i128>) {
    prefix_micros.clear();
    prefix_micros.push(0);
    let mut total = 0i128;
    // A map over a slice has an exact length: one reservation, no capacity check per event.
    prefix_micros.extend(events.iter().map(|u| {
        debug_assert!(u.credits.micros() >= 0, "usage is never negative");
        total += i128::from(u.credits.micros());
        total
    }));
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
        while self
            .events_before_mark
            .get(self.next_mark)
            .is_some_and(|before| *before <= self.next)
        {
            self.next_mark += 1;
        }
    }

    fn quiet_run(&self, until: Instant, budget_micros: i128) -> QuietRun {
        let in_time = self.count_before(until);
        let before = self.prefix_micros[self.next];
        let totals = &self.prefix_micros[self.next + 1..=self.next + in_time];
        // Most runs fit their budget whole (a strategy without rules has no limit): one
        // subtraction says so.
        let count = match totals.last() {
            Some(t) if t - before > budget_micros => {
                totals.partition_point(|t| t - before <= budget_micros)
            }
            _ => in_time,
        };
        QuietRun {
            count,
            total_micros: self.prefix_micros[self.next + count] - before,
            last: count.checked_sub(1).map(|i| self.events[self.next + i].at),
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

    /// The binary searches (and the marks) find what the scan finds, from every place, for
    /// every `until` and every budget around the events' running totals.
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
        // Marks on event days, between them, before the first and after the last.
        let marks: Vec<Instant> = [1, 2, 3, 6, 7, 13, 15, 16].map(day).to_vec();
        let mut buffers = PrefixBuffers::default();
        let marked = PrefixedEvents::with_marks(&events, &marks, &mut buffers);
        let budgets: Vec<i128> = (0..=25)
            .flat_map(|c| [c * 1_000_000 - 1, c * 1_000_000])
            .chain([-1, i128::MAX])
            .collect();
        for start in 0..=events.len() {
            let mut cursor = Cursor::new(events.iter().copied());
            let (mut slice, mut slice_marked) = (prefixed, marked);
            cursor.skip(start);
            slice.skip(start);
            slice_marked.skip(start);
            assert_eq!(cursor.head(), slice.head());
            for until in 1..=16 {
                for &budget in &budgets {
                    let scanned = cursor.quiet_run(day(until), budget);
                    assert_eq!(slice.quiet_run(day(until), budget), scanned);
                    assert_eq!(slice_marked.quiet_run(day(until), budget), scanned);
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
