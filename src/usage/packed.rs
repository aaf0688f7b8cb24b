//! Usage kept compactly between an import and its replay.
//!
//! An imported trace may hold 100 million events; as the engine's [`CreditUsage`] (24 bytes
//! each) they alone would take 2.4 GB. A workspace's usage is kept packed instead, about 6
//! bytes an event, and expanded to `CreditUsage` only while that workspace is replayed, so
//! only the workspaces being replayed at one time are ever expanded.
//!
//! Each event is a tag byte, then the seconds since the previous event (zigzag, since
//! unsorted usage may step back), the nanoseconds when there are any (4 bytes), and the
//! credits in millionths, each number in as few little-endian bytes as it needs; the tag
//! says how many. The first event counts from 1970. Decoding gives back exactly the instants
//! and credits pushed. A tag rather than LEB128 varints: the lengths are known up front, so
//! neither side loops byte by byte on a branch it cannot predict (this is on the import's
//! and every replay's path).

use crate::engine::replay::CreditUsage;
use crate::model::amounts::Credits;
use crate::model::calendar::Instant;
use chrono::{NaiveDate, NaiveTime};

const SECONDS_PER_DAY: i64 = 86_400;
/// Days from 0001-01-01 (chrono's day 1 of the common era) to 1970-01-01.
const DAYS_CE_TO_1970: i64 = 719_163;

/// One workspace's usage events in the order pushed, packed.
#[derive(Debug, Clone, Default)]
pub struct PackedUsage {
    bytes: Vec<u8>,
    len: usize,
    /// Seconds since 1970 of the last event pushed: what the next event counts from.
    last: i64,
    /// Millionths of credits over every event (a sum a workspace's limit keeps far from
    /// overflowing, whatever the events).
    total_micros: i128,
    clock: Clock,
}

impl PackedUsage {
    pub fn new() -> PackedUsage {
        PackedUsage::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Millionths of credits over every event.
    pub fn total_micros(&self) -> i128 {
        self.total_micros
    }

    /// Bytes the events take.
    pub fn packed_bytes(&self) -> usize {
        self.bytes.len()
    }

    #[inline]
    pub fn push(&mut self, event: CreditUsage) {
        let (seconds, nanos) = self.clock.seconds_of(event.at);
        let step = zigzag(seconds.wrapping_sub(self.last));
        // Credits are never negative in usage; a negative amount would still round-trip
        // (as eight bytes), so nothing here depends on it.
        let micros = event.credits.micros() as u64;
        let (step_len, micros_len) = (len_of(step), len_of(micros));
        let mut out = [0u8; 1 + 8 + 4 + 8];
        out[0] = tag(step_len, micros_len, nanos != 0);
        out[1..9].copy_from_slice(&step.to_le_bytes());
        let mut n = 1 + step_len;
        if nanos != 0 {
            out[n..n + 4].copy_from_slice(&nanos.to_le_bytes());
            n += 4;
        }
        out[n..n + 8].copy_from_slice(&micros.to_le_bytes());
        n += micros_len;
        self.bytes.extend_from_slice(&out[..n]);
        self.last = seconds;
        self.len += 1;
        self.total_micros += i128::from(event.credits.micros());
    }

    /// Appends `other`'s events after this one's, as if each had been pushed: only its first
    /// event is re-encoded (it counted from 1970), the rest are copied as they are.
    pub fn append(&mut self, other: &PackedUsage) {
        let mut events = other.iter();
        let Some(first) = events.next() else {
            return;
        };
        let rest = events.pos;
        self.push(first);
        self.bytes.extend_from_slice(&other.bytes[rest..]);
        self.len += other.len - 1;
        self.last = other.last;
        self.total_micros += other.total_micros - i128::from(first.credits.micros());
    }

    /// The events, decoded in the order pushed.
    pub fn iter(&self) -> Events<'_> {
        Events {
            bytes: &self.bytes,
            pos: 0,
            last: 0,
            clock: Clock::default(),
        }
    }

    /// The events as the engine takes them: what a replay of this workspace reads.
    pub fn expand(&self) -> Vec<CreditUsage> {
        let mut out = Vec::with_capacity(self.len);
        out.extend(self.iter());
        debug_assert_eq!(out.len(), self.len, "every event decodes");
        out
    }

    /// The same events sorted by instant, stably (events at one instant keep their order).
    pub fn sorted(&self) -> PackedUsage {
        let mut events = self.expand();
        if events.is_sorted_by_key(|e| e.at) {
            return self.clone();
        }
        events.sort_by_key(|e| e.at);
        events.into_iter().collect()
    }

    /// Frees the room grown ahead of pushes (the import's last step for each workspace).
    pub fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
    }
}

/// The same events in the same order (the encoding is deterministic: the bytes say it all).
impl PartialEq for PackedUsage {
    fn eq(&self, other: &PackedUsage) -> bool {
        self.len == other.len && self.bytes == other.bytes
    }
}

impl Eq for PackedUsage {}

impl FromIterator<CreditUsage> for PackedUsage {
    fn from_iter<I: IntoIterator<Item = CreditUsage>>(events: I) -> PackedUsage {
        let mut packed = PackedUsage::new();
        for e in events {
            packed.push(e);
        }
        packed
    }
}

/// The events of a [`PackedUsage`], decoded.
#[derive(Debug, Clone)]
pub struct Events<'a> {
    bytes: &'a [u8],
    pos: usize,
    last: i64,
    clock: Clock,
}

impl Iterator for Events<'_> {
    type Item = CreditUsage;

    #[inline]
    fn next(&mut self) -> Option<CreditUsage> {
        let (step_len, micros_len, fraction) = untag(*self.bytes.get(self.pos)?)?;
        self.pos += 1;
        let step = read(self.bytes, &mut self.pos, step_len)?;
        let nanos = if fraction {
            u32::try_from(read(self.bytes, &mut self.pos, 4)?).ok()?
        } else {
            0
        };
        let micros = read(self.bytes, &mut self.pos, micros_len)? as i64;
        let seconds = self.last.wrapping_add(unzigzag(step));
        self.last = seconds;
        let at = self.clock.instant(seconds, nanos)?;
        Some(CreditUsage {
            at,
            credits: Credits::from_micros(micros),
        })
    }
}

/// Converts between instants and seconds since 1970, remembering the last day so that
/// events of one day (most of them) skip the calendar arithmetic.
#[derive(Debug, Clone, Copy, Default)]
struct Clock {
    /// The last day met, and the seconds since 1970 at its start.
    day: Option<(NaiveDate, i64)>,
}

impl Clock {
    /// Seconds since 1970 and nanoseconds (past 10^9 in a leap second, as chrono keeps it).
    #[inline]
    fn seconds_of(&mut self, at: Instant) -> (i64, u32) {
        use chrono::{Datelike, Timelike};
        let date = at.date();
        let day_start = match self.day {
            Some((d, start)) if d == date => start,
            _ => {
                let start =
                    (i64::from(date.num_days_from_ce()) - DAYS_CE_TO_1970) * SECONDS_PER_DAY;
                self.day = Some((date, start));
                start
            }
        };
        let time = at.time();
        (
            day_start + i64::from(time.num_seconds_from_midnight()),
            time.nanosecond(),
        )
    }

    /// The instant `seconds` since 1970 and `nanos`; `None` only for values no instant
    /// encodes.
    #[inline]
    fn instant(&mut self, seconds: i64, nanos: u32) -> Option<Instant> {
        let (date, day_start) = match self.day {
            Some((d, start)) if (0..SECONDS_PER_DAY).contains(&seconds.wrapping_sub(start)) => {
                (d, start)
            }
            _ => {
                let days = seconds.div_euclid(SECONDS_PER_DAY);
                let ce = i32::try_from(days.checked_add(DAYS_CE_TO_1970)?).ok()?;
                let date = NaiveDate::from_num_days_from_ce_opt(ce)?;
                let start = days * SECONDS_PER_DAY;
                self.day = Some((date, start));
                (date, start)
            }
        };
        let in_day = (seconds - day_start) as u32;
        let time = NaiveTime::from_num_seconds_from_midnight_opt(in_day, nanos)?;
        Some(date.and_time(time))
    }
}

#[inline]
fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

#[inline]
fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Bytes `v` takes without its leading zero bytes (0 for 0).
#[inline]
fn len_of(v: u64) -> usize {
    (64 - v.leading_zeros() as usize).div_ceil(8)
}

/// The tag of an event: the lengths (0 to 8 bytes each) and whether nanoseconds follow.
#[inline]
fn tag(step_len: usize, micros_len: usize, fraction: bool) -> u8 {
    (usize::from(fraction) * 81 + step_len * 9 + micros_len) as u8
}

/// A tag's lengths and nanoseconds flag; `None` for a byte no event starts with.
#[inline]
fn untag(tag: u8) -> Option<(usize, usize, bool)> {
    let t = usize::from(tag);
    (t < 162).then_some(((t % 81) / 9, t % 9, t >= 81))
}

/// The `len`-byte little-endian number at `*pos`, moving past it; `None` past the end.
#[inline]
fn read(bytes: &[u8], pos: &mut usize, len: usize) -> Option<u64> {
    let at = *pos;
    *pos += len;
    // Reads a whole word where eight bytes are left (all but the last few events) and keeps
    // the `len` low bytes, which is cheaper than copying `len` bytes.
    if let Some(word) = bytes.get(at..at + 8) {
        let word = u64::from_le_bytes(word.try_into().ok()?);
        let mask = u64::MAX.checked_shr(64 - 8 * len as u32).unwrap_or(0);
        return Some(word & mask);
    }
    let mut word = [0u8; 8];
    word[..len].copy_from_slice(bytes.get(at..at + len)?);
    Some(u64::from_le_bytes(word))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn event(seconds: i64, nanos: u32, micros: i64) -> CreditUsage {
        CreditUsage {
            at: chrono::DateTime::from_timestamp(seconds, nanos)
                .unwrap()
                .naive_utc(),
            credits: Credits::from_micros(micros),
        }
    }

    #[test]
    fn a_leap_second_and_the_extremes_round_trip() {
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
            .unwrap();
        let events = vec![
            CreditUsage {
                at: leap,
                credits: Credits::from_micros(i64::MAX),
            },
            event(-62_135_596_800, 0, 0),
            event(253_402_300_799, 999_999_999, -1),
            event(0, 1, 1),
        ];
        let packed: PackedUsage = events.iter().copied().collect();
        assert_eq!(packed.expand(), events);
        assert_eq!(packed.len(), 4);
    }

    proptest! {
        /// Pushing, appending and sorting give back exactly the events, whatever their order.
        #[test]
        fn events_round_trip(
            raw in proptest::collection::vec(
                (1_600_000_000i64..1_900_000_000, prop_oneof![Just(0u32), 0u32..1_000_000_000], 0i64..1_000_000_000_000),
                0..300,
            ),
            cut in 0usize..300,
        ) {
            let events: Vec<CreditUsage> = raw.iter().map(|&(s, n, m)| event(s, n, m)).collect();
            let whole: PackedUsage = events.iter().copied().collect();
            prop_assert_eq!(whole.expand(), events.clone());
            let cut = cut.min(events.len());
            let mut joined: PackedUsage = events[..cut].iter().copied().collect();
            joined.append(&events[cut..].iter().copied().collect());
            prop_assert_eq!(&joined, &whole);
            let total: i128 = events.iter().map(|e| i128::from(e.credits.micros())).sum();
            prop_assert_eq!(joined.total_micros(), total);
            let mut sorted = events.clone();
            sorted.sort_by_key(|e| e.at);
            prop_assert_eq!(whole.sorted().expand(), sorted);
        }
    }
}

/// A workspace's usage as a scenario holds it: its own events as written (inline or a usage
/// CSV, at most 5 million), or an imported trace's, kept packed (up to 100 million) and read
/// forward by the replay without being expanded.
#[derive(Debug, Clone)]
pub enum Usage {
    Events(Vec<CreditUsage>),
    Packed(PackedUsage),
}

impl Default for Usage {
    fn default() -> Usage {
        Usage::Events(Vec::new())
    }
}

impl Usage {
    pub fn len(&self) -> usize {
        match self {
            Usage::Events(e) => e.len(),
            Usage::Packed(p) => p.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Millionths of credits over every event (packed usage keeps it as it is built).
    pub fn total_micros(&self) -> i128 {
        match self {
            Usage::Events(e) => e.iter().map(|u| i128::from(u.credits.micros())).sum(),
            Usage::Packed(p) => p.total_micros(),
        }
    }

    /// The events in time order, decoded as they are read.
    pub fn iter(&self) -> UsageEvents<'_> {
        match self {
            Usage::Events(e) => UsageEvents::Events(e.iter()),
            Usage::Packed(p) => UsageEvents::Packed(p.iter()),
        }
    }
}

/// The same events in the same order, however each side holds them.
impl PartialEq for Usage {
    fn eq(&self, other: &Usage) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Usage {}

/// The events of a [`Usage`].
#[derive(Debug, Clone)]
pub enum UsageEvents<'a> {
    Events(std::slice::Iter<'a, CreditUsage>),
    Packed(Events<'a>),
}

impl Iterator for UsageEvents<'_> {
    type Item = CreditUsage;

    #[inline]
    fn next(&mut self) -> Option<CreditUsage> {
        match self {
            UsageEvents::Events(e) => e.next().copied(),
            UsageEvents::Packed(p) => p.next(),
        }
    }
}
