//! A scenario's inline usage events read apart from the TOML parsers (issue 12).
//!
//! Through `toml`, each `{ at = ..., metric = "...", quantity = ... }` costs a document node
//! per key and value and a `String` per metric, about 3 KB an event; 5 million inline events
//! took 14 GB. Here the file is read twice, a line at a time, and never held whole:
//!
//! 1. `scan` hashes the bytes (provenance), finds the `[usage]` table's `events = [ ... ]`
//!    and checks that every element is one this module reads; what the TOML parsers are given
//!    is the file with the array's content taken out (`events = []`), a few kilobytes
//!    whatever the number of events. The source records how many lines were taken out where
//!    (`diag::Cut`), so errors from the rest of the file are at the file's own lines. (Keeping
//!    the line breaks instead would cost the TOML lexers a token per event.)
//! 2. Once the book and the window are known, `read` goes over the array again and hands
//!    each event, parsed, to the loader, which turns it into credits straight away (24 bytes
//!    an event) and words any error at the event's line and column, as it does for events
//!    parsed by `toml`. A fingerprint of the array's lines taken by both passes catches a file
//!    changed in between.
//!
//! Which forms are read here and which go through `toml` as before (the general path):
//!
//! - Read here: `events = [` starting a line inside a table headed `[usage]` (spaces allowed
//!   in the header), whose elements are one-line inline tables with exactly the bare keys
//!   `at`, `metric` and `quantity` in any order; `at` a TOML date or date-time without a space
//!   in it (`T`/`t`, fractional seconds, `Z` or an offset) or a basic or literal string;
//!   `metric` a basic string without escapes or a literal string; `quantity` a decimal
//!   integer or a decimal fraction (`_` between digits, no exponent, at most 15 significant
//!   digits) or such a string. Blank lines and comments between elements, a trailing comma.
//! - Everything else takes the general path: `[[usage.events]]` tables, `usage.events`
//!   written as a dotted key or with quoted keys, an inline table over several lines, escapes,
//!   exponents, hexadecimal, a key other than the three, a key missing or repeated, a value
//!   this module would read differently from `toml` or cannot read (a bad date, a year out
//!   of range, a string that is not a number), any syntax error inside the array, a file that
//!   is not UTF-8. The general path decides and words every such case exactly as before; so
//!   a malformed event costs the old memory, never a different answer.
//!
//! Whether the array found is the one TOML sees as `usage.events` is not left to this
//! scanner: the loader checks that the parsed text's `usage.events` is exactly the stand-in
//! at exactly its place, and takes the general path otherwise.

use crate::model::calendar::{midnight, Instant};
use crate::model::diag::{Cut, InputError};
use crate::model::text::{check_offset, check_year, parse_decimal, parse_instant};
use chrono::{Duration, NaiveDate, NaiveTime};
use rust_decimal::Decimal;
use std::fs::File;
use std::hash::Hasher;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::ops::Range;
use std::path::Path;

/// A scenario file as the TOML parsers are given it, and where its inline events are.
#[derive(Debug)]
pub(super) struct Scanned {
    /// The file with the events array's content replaced (see the module's comment); the
    /// file itself when it has no array read here.
    pub text: String,
    /// SHA-256 of the file's bytes, lower-case hex.
    pub sha256: String,
    pub events: Option<EventsArray>,
}

/// Where the inline events array is, in the file and in `Scanned::text`.
#[derive(Debug, Clone)]
pub(super) struct EventsArray {
    /// Byte offset in the file of the line holding the `[`.
    first_line_offset: u64,
    /// 1-based number of that line, and the byte index of the `[` in it.
    first_line: usize,
    bracket: usize,
    /// Byte range of the stand-in `[]` in `Scanned::text`: what TOML must see as the value
    /// of `usage.events`.
    pub placeholder: Range<usize>,
    /// The array's line breaks, left out of `Scanned::text` after its `[`.
    pub cut: Cut,
    pub count: usize,
    /// Of the array's lines, to tell whether the second pass read what the first did.
    fingerprint: u64,
    /// The first event's table, as the place of an error about the usage as a whole (its
    /// message is set when there is one).
    pub first_site: Option<InputError>,
}

impl EventsArray {
    /// An array whose `[` is at byte `bracket` of line `number` (at byte `offset` of the
    /// file) and at byte `start` of the text for the TOML parsers.
    fn opened(offset: u64, number: usize, bracket: usize, start: usize) -> EventsArray {
        EventsArray {
            first_line_offset: offset,
            first_line: number,
            bracket,
            placeholder: start..start,
            cut: Cut {
                at: start,
                lines: 0,
            },
            count: 0,
            fingerprint: 0,
            first_site: None,
        }
    }
}

/// One event as written, with what its errors need to point at it.
pub(super) struct Event<'a> {
    pub at: Instant,
    pub metric: &'a str,
    pub quantity: Decimal,
    path: &'a Path,
    line: &'a str,
    number: usize,
    spans: Spans,
}

/// Byte ranges in the event's line.
#[derive(Debug, Clone, Default)]
struct Spans {
    at: Range<usize>,
    metric: Range<usize>,
    quantity: Range<usize>,
}

/// The part of an event an error is about.
#[derive(Debug, Clone, Copy)]
pub(super) enum Part {
    At,
    Metric,
    Quantity,
}

impl Event<'_> {
    /// An error at `part` of this event, with its line shown, as `Source::error` words it.
    pub fn error(&self, part: Part, message: impl Into<String>) -> InputError {
        let span = match part {
            Part::At => &self.spans.at,
            Part::Metric => &self.spans.metric,
            Part::Quantity => &self.spans.quantity,
        };
        InputError::in_line(self.path, self.number, self.line, span.clone(), message)
    }
}

/// Why going over the array stopped.
enum Stop {
    /// A form this module does not read: the general path decides.
    Unsupported,
    /// The loader refused an event.
    Refused(InputError),
}

/// Reads `path` once: its hash, the text for the TOML parsers, and where its events are.
/// `None` when the file has an events array in a form not read here (or is not UTF-8): the
/// caller reads it whole, as before.
pub(super) fn scan(path: &Path) -> Result<Option<Scanned>, InputError> {
    use sha2::{Digest, Sha256};
    let file = File::open(path).map_err(|e| cannot_read(path, e))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut sha = Sha256::new();
    let mut outer = Outer::default();
    let mut text = String::new();
    let mut buf = Vec::new();
    let (mut offset, mut number) = (0u64, 0usize);
    let mut events: Option<EventsArray> = None;
    let mut array: Option<(ArrayScan, Fingerprint)> = None;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| cannot_read(path, e))?;
        if n == 0 {
            break;
        }
        sha.update(&buf);
        let Ok(line) = std::str::from_utf8(&buf) else {
            return Ok(None);
        };
        number += 1;
        let mut from = 0;
        if events.is_none() {
            if let Some(bracket) = outer.line(line) {
                text.push_str(&line[..=bracket]);
                events = Some(EventsArray::opened(offset, number, bracket, text.len() - 1));
                array = Some((ArrayScan::default(), Fingerprint::default()));
                from = bracket + 1;
            }
        }
        match &mut array {
            None => text.push_str(line),
            Some((scan, print)) => {
                print.write(line.as_bytes());
                match scan_line(scan, path, line, from, number) {
                    Err(_) => return Ok(None),
                    Ok(None) => {}
                    Ok(Some(close)) => {
                        let (scan, print) = array.take().expect("matched above");
                        let found = events.as_mut().expect("set with the array");
                        close_array(found, &mut text, line, number, close, scan, print);
                    }
                }
            }
        }
        offset += n as u64;
    }
    if array.is_some() {
        // The file ended inside the array: a syntax error, which toml words.
        return Ok(None);
    }
    Ok(Some(Scanned {
        text,
        sha256: super::files::hex(&sha.finalize()),
        events,
    }))
}

/// Goes over one line of the array from byte `from`: `Some(index of the closing ])` when the
/// array ends on it. The first event's table is kept as the site of errors about the usage
/// as a whole.
fn scan_line(
    scan: &mut ArrayScan,
    path: &Path,
    line: &str,
    from: usize,
    number: usize,
) -> Result<Option<usize>, Stop> {
    let mut site = scan.first_site.take();
    let result = scan.line(line, from, |fields| {
        if site.is_none() {
            site = Some(InputError::in_line(
                path,
                number,
                line,
                fields.table.clone(),
                "",
            ));
        }
        Ok(())
    });
    scan.first_site = site;
    result
}

/// Ends the stand-in array in `text` with the `]` and the rest of its line (on line
/// `number` of the file).
fn close_array(
    found: &mut EventsArray,
    text: &mut String,
    line: &str,
    number: usize,
    close: usize,
    scan: ArrayScan,
    print: Fingerprint,
) {
    let start = found.placeholder.start;
    text.push_str(&line[close..]);
    found.placeholder = start..start + 2;
    found.cut = Cut {
        at: start,
        lines: number - found.first_line,
    };
    found.count = scan.count;
    found.fingerprint = print.0.finish();
    found.first_site = scan.first_site;
}

/// Reads the events of `array` in `path` again, in order, handing each to `each`; stops at
/// the first error `each` returns.
pub(super) fn read(
    path: &Path,
    array: &EventsArray,
    mut each: impl FnMut(&Event<'_>) -> Result<(), InputError>,
) -> Result<(), InputError> {
    let mut file = File::open(path).map_err(|e| cannot_read(path, e))?;
    file.seek(SeekFrom::Start(array.first_line_offset))
        .map_err(|e| cannot_read(path, e))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut scan = ArrayScan::default();
    let mut print = Fingerprint::default();
    let mut buf = Vec::new();
    let (mut number, mut from) = (array.first_line, array.bracket + 1);
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| cannot_read(path, e))?;
        let line = std::str::from_utf8(&buf).map_err(|_| changed(path))?;
        print.write(line.as_bytes());
        if n == 0 {
            return Err(changed(path));
        }
        let result = scan.line(line, from, |fields| {
            let event = Event {
                at: fields.at,
                metric: &line[fields.metric_text.clone()],
                quantity: fields.quantity,
                // As `Source::error` shows it: a carriage return before the line break is
                // part of the line.
                path,
                line,
                number,
                spans: fields.spans(),
            };
            each(&event).map_err(Stop::Refused)
        });
        match result {
            Ok(Some(_)) => break,
            Ok(None) => {}
            Err(Stop::Refused(e)) => return Err(e),
            Err(Stop::Unsupported) => return Err(changed(path)),
        }
        number += 1;
        from = 0;
    }
    if print.0.finish() != array.fingerprint || scan.count != array.count {
        return Err(changed(path));
    }
    Ok(())
}

fn cannot_read(path: &Path, e: std::io::Error) -> InputError {
    InputError::whole_file(path, format!("cannot read: {e}"))
}

fn changed(path: &Path) -> InputError {
    InputError::whole_file(path, "the file changed while it was read: run again")
}

/// `std`'s SipHash with fixed keys: the same in both passes, and fast.
#[derive(Default)]
struct Fingerprint(std::hash::DefaultHasher);

impl Fingerprint {
    fn write(&mut self, bytes: &[u8]) {
        self.0.write(bytes);
    }
}

fn strip_terminator(line: &str) -> &str {
    let line = line.strip_suffix('\n').unwrap_or(line);
    line.strip_suffix('\r').unwrap_or(line)
}

// ------------------------------------------------------------------ the text around the array

/// What the scan knows of the TOML around the array: enough to tell a line that starts a
/// statement (not inside a multi-line string or a value over several lines) and the table
/// it is in. Misreading it only costs the general path (the loader checks the result).
#[derive(Debug, Default)]
struct Outer {
    /// Inside a multi-line basic (`"""`) or literal (`'''`) string.
    multi_line: Option<u8>,
    /// Open `[` and `{` of values over several lines.
    depth: usize,
    in_usage: bool,
}

impl Outer {
    /// Takes a line in; the byte index of the `[` when it is `events = [` of `[usage]`.
    fn line(&mut self, line: &str) -> Option<usize> {
        if self.multi_line.is_none() && self.depth == 0 {
            let t = line.trim_start_matches([' ', '\t']);
            let indent = line.len() - t.len();
            if t.starts_with('[') {
                self.in_usage = header_is_usage(t);
            } else if self.in_usage {
                if let Some(at) = events_bracket(t) {
                    return Some(indent + at);
                }
            }
        }
        self.lex(line.as_bytes());
        None
    }

    /// Follows strings, comments and brackets through a line.
    fn lex(&mut self, b: &[u8]) {
        let mut i = 0;
        while i < b.len() {
            if let Some(q) = self.multi_line {
                if q == b'"' && b[i] == b'\\' {
                    i += 2;
                    continue;
                }
                if b[i..].starts_with(&[q, q, q]) {
                    // A run of up to five quotes: the last three close the string.
                    while i < b.len() && b[i] == q {
                        i += 1;
                    }
                    self.multi_line = None;
                    continue;
                }
                i += 1;
                continue;
            }
            match b[i] {
                b'#' => return,
                q @ (b'"' | b'\'') if b[i..].starts_with(&[q, q, q]) => {
                    self.multi_line = Some(q);
                    i += 3;
                    continue;
                }
                q @ (b'"' | b'\'') => {
                    i += 1;
                    while i < b.len() && b[i] != q {
                        i += if q == b'"' && b[i] == b'\\' { 2 } else { 1 };
                    }
                }
                b'[' | b'{' => self.depth += 1,
                b']' | b'}' => self.depth = self.depth.saturating_sub(1),
                _ => {}
            }
            i += 1;
        }
    }
}

/// `[usage]`, spaces allowed inside the brackets (not `[[...]]`, not a quoted name).
fn header_is_usage(t: &str) -> bool {
    let Some(rest) = t.strip_prefix('[') else {
        return false;
    };
    if rest.starts_with('[') {
        return false;
    }
    rest.split_once(']')
        .is_some_and(|(name, _)| name.trim_matches([' ', '\t']) == "usage")
}

/// In `events = [...`, the byte index of the `[`.
fn events_bracket(t: &str) -> Option<usize> {
    let rest = t.strip_prefix("events")?;
    let rest = rest.trim_start_matches([' ', '\t']).strip_prefix('=')?;
    let value = rest.trim_start_matches([' ', '\t']);
    value.starts_with('[').then(|| t.len() - value.len())
}

// ------------------------------------------------------------------ the array

/// Where the array's grammar is, across lines.
#[derive(Debug, Default)]
struct ArrayScan {
    /// An element was just read: a comma or the `]` comes next.
    after_value: bool,
    count: usize,
    first_site: Option<InputError>,
}

/// An event's values, and where they are in its line.
struct Fields {
    at: Instant,
    metric_text: Range<usize>,
    quantity: Decimal,
    at_span: Range<usize>,
    metric_span: Range<usize>,
    quantity_span: Range<usize>,
    table: Range<usize>,
}

impl Fields {
    fn spans(&self) -> Spans {
        Spans {
            at: self.at_span.clone(),
            metric: self.metric_span.clone(),
            quantity: self.quantity_span.clone(),
        }
    }
}

impl ArrayScan {
    /// Reads a line of the array from byte `from`, handing each element to `each`:
    /// `Some(index of the ])` when the array ends on this line (nothing but a comment may
    /// follow it).
    fn line(
        &mut self,
        line: &str,
        from: usize,
        mut each: impl FnMut(&Fields) -> Result<(), Stop>,
    ) -> Result<Option<usize>, Stop> {
        let body = strip_terminator(line);
        let mut c = Cursor { s: body, i: from };
        loop {
            c.blanks();
            match c.peek() {
                None | Some(b'#') => {
                    c.comment()?;
                    return Ok(None);
                }
                Some(b']') => {
                    let close = c.i;
                    c.i += 1;
                    c.blanks();
                    c.comment()?;
                    return Ok(Some(close));
                }
                Some(b',') if self.after_value => {
                    c.i += 1;
                    self.after_value = false;
                }
                Some(b'{') if !self.after_value => {
                    let fields = c.table().ok_or(Stop::Unsupported)?;
                    each(&fields)?;
                    self.count += 1;
                    self.after_value = true;
                }
                Some(_) => return Err(Stop::Unsupported),
            }
        }
    }
}

/// A position in one line (without its line break).
struct Cursor<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.i).copied()
    }

    /// Spaces and tabs (TOML's whitespace; a lone carriage return is not).
    fn blanks(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    /// The rest of the line, which must be empty or a comment without control characters
    /// (which TOML refuses).
    fn comment(&mut self) -> Result<(), Stop> {
        let rest = &self.s.as_bytes()[self.i..];
        let ok = rest.is_empty() || (rest[0] == b'#' && rest.iter().all(|&b| !is_control(b)));
        self.i = self.s.len();
        if ok {
            Ok(())
        } else {
            Err(Stop::Unsupported)
        }
    }

    /// `{ at = ..., metric = ..., quantity = ... }`, keys in any order, each once.
    fn table(&mut self) -> Option<Fields> {
        let open = self.i;
        self.i += 1;
        let (mut at, mut metric, mut quantity) = (None, None, None);
        loop {
            self.blanks();
            let key = self.bare_key()?;
            self.blanks();
            self.expect(b'=')?;
            self.blanks();
            let start = self.i;
            match key {
                "at" if at.is_none() => at = Some((self.at()?, start..self.i)),
                "metric" if metric.is_none() => metric = Some((self.string()?.0, start..self.i)),
                "quantity" if quantity.is_none() => {
                    quantity = Some((self.quantity()?, start..self.i))
                }
                _ => return None,
            }
            self.blanks();
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => break,
                _ => return None,
            }
        }
        self.i += 1;
        let ((at, at_span), (metric_text, metric_span), (quantity, quantity_span)) =
            (at?, metric?, quantity?);
        Some(Fields {
            at,
            metric_text,
            quantity,
            at_span,
            metric_span,
            quantity_span,
            table: open..self.i,
        })
    }

    fn expect(&mut self, b: u8) -> Option<()> {
        (self.peek()? == b).then(|| self.i += 1)
    }

    fn bare_key(&mut self) -> Option<&'a str> {
        let start = self.i;
        while matches!(self.peek(), Some(b) if b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            self.i += 1;
        }
        (self.i > start).then(|| &self.s[start..self.i])
    }

    /// A one-line basic string without escapes or a literal string: the byte range of its
    /// content (in the line) and the content.
    fn string(&mut self) -> Option<(Range<usize>, &'a str)> {
        let q = self.peek().filter(|q| matches!(q, b'"' | b'\''))?;
        let bytes = self.s.as_bytes();
        if bytes[self.i..].starts_with(&[q, q, q]) {
            return None;
        }
        let start = self.i + 1;
        let len = bytes[start..].iter().position(|&b| b == q)?;
        let content = start..start + len;
        if bytes[content.clone()]
            .iter()
            .any(|&b| (b == b'\\' && q == b'"') || (is_control(b) && b != b'\t'))
        {
            return None;
        }
        self.i = content.end + 1;
        Some((content.clone(), &self.s[content]))
    }

    /// A run of the characters a TOML date, time or number is made of.
    fn token(&mut self) -> &'a str {
        let start = self.i;
        while matches!(self.peek(), Some(b) if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'+' | b'-'))
        {
            self.i += 1;
        }
        &self.s[start..self.i]
    }

    /// `at`: a date or date-time, or a string `parse_instant` reads (as `toml` hands a string
    /// to it).
    fn at(&mut self) -> Option<Instant> {
        match self.peek()? {
            b'"' | b'\'' => parse_instant(self.string()?.1).ok(),
            _ => toml_datetime(self.token()),
        }
    }

    /// `quantity`: a decimal integer or fraction, or a string `parse_decimal` reads.
    fn quantity(&mut self) -> Option<Decimal> {
        match self.peek()? {
            b'"' | b'\'' => parse_decimal(self.string()?.1).ok(),
            _ => toml_number(self.token()),
        }
    }
}

/// TOML refuses control characters but tab in strings and comments.
fn is_control(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b == 0x7f
}

// ------------------------------------------------------------------ values

/// A TOML date or date-time as the general path reads it (`toml` then `parse_instant` on its
/// rendering): a date is its midnight, a local date-time is UTC, an offset is converted to
/// UTC, and the year (in UTC) must be in range. `None` for anything else, including what
/// `toml` might accept but this does not (a leap second, more than 9 fractional digits).
fn toml_datetime(token: &str) -> Option<Instant> {
    let b = token.as_bytes();
    let date = date_at(b)?;
    if b.len() == 10 {
        return in_range(midnight(date));
    }
    if !matches!(b[10], b'T' | b't') || b.len() < 19 || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (h, m, s) = (two(&b[11..13])?, two(&b[14..16])?, two(&b[17..19])?);
    let mut rest = &b[19..];
    let mut nanos = 0u32;
    if let Some(frac) = rest.strip_prefix(b".") {
        let digits = frac.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        for &d in &frac[..digits] {
            nanos = nanos * 10 + u32::from(d - b'0');
        }
        nanos *= 10u32.pow((9 - digits) as u32);
        rest = &frac[digits..];
    }
    let time = NaiveTime::from_hms_nano_opt(h, m, s, nanos)?;
    let local = date.and_time(time);
    let utc = match rest {
        [] | [b'Z' | b'z'] => local,
        [sign @ (b'+' | b'-'), oh0, oh1, b':', om0, om1] => {
            let (oh, om) = (two(&[*oh0, *oh1])?, two(&[*om0, *om1])?);
            if om > 59 {
                return None;
            }
            let east = i64::from(oh * 60 + om) * 60 * if *sign == b'+' { 1 } else { -1 };
            // Outside the offsets in use: the general path names it in its error.
            check_offset(east).ok()?;
            local.checked_sub_signed(Duration::seconds(east))?
        }
        _ => return None,
    };
    in_range(utc)
}

fn in_range(t: Instant) -> Option<Instant> {
    check_year(t.date()).ok().map(|_| t)
}

/// `YYYY-MM-DD` at the start of `b`.
fn date_at(b: &[u8]) -> Option<NaiveDate> {
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = i32::try_from(two(&b[0..2])? * 100 + two(&b[2..4])?).ok()?;
    NaiveDate::from_ymd_opt(year, two(&b[5..7])?, two(&b[8..10])?)
}

fn two(b: &[u8]) -> Option<u32> {
    match b {
        [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => {
            Some(u32::from(a - b'0') * 10 + u32::from(b - b'0'))
        }
        _ => None,
    }
}

/// Most digits in a number read here: every `i64`, within what `Decimal` holds exactly, and
/// far from where a float stops being exact.
const NUMBER_DIGITS_MAX: usize = 19;

/// A TOML decimal integer or fraction as the general path reads it: an integer is itself
/// (`i64`), a fraction is exactly the decimal written when it has at most 15 significant
/// digits (what `toml`'s float and `exact_decimal_of_float` give, without a float here).
/// `None` for anything else: exponents, `inf`, leading zeros, misplaced underscores.
fn toml_number(token: &str) -> Option<Decimal> {
    let unsigned = token.strip_prefix(['+', '-']).unwrap_or(token);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (unsigned, None),
    };
    if !digits_with_underscores(whole) || (whole.starts_with('0') && whole.len() > 1) {
        return None;
    }
    // The token without its underscores, on the stack (this runs once an event, twice):
    // a sign, the digits and a point.
    let mut buf = [0u8; NUMBER_DIGITS_MAX + 2];
    let mut len = 0;
    for &b in token.as_bytes().iter().filter(|&&b| b != b'_') {
        *buf.get_mut(len)? = b;
        len += 1;
    }
    let plain = std::str::from_utf8(&buf[..len]).ok()?;
    let Some(fraction) = fraction else {
        let n: i64 = plain.parse().ok()?;
        return Some(Decimal::from(n));
    };
    if !digits_with_underscores(fraction) {
        return None;
    }
    // From the first digit but 0 to the last: what the float's shortest rendering keeps.
    let (mut first, mut last) = (None, 0);
    for (k, d) in plain.bytes().filter(u8::is_ascii_digit).enumerate() {
        if d != b'0' {
            first.get_or_insert(k);
            last = k;
        }
    }
    let significant = first.map_or(0, |f| last + 1 - f);
    if significant > crate::usage::exact::FLOAT_DIGITS_EXACT_MAX {
        return None;
    }
    Decimal::from_str_exact(plain).ok().map(|d| d.normalize())
}

/// `1_000`: ASCII digits, an underscore only between two of them.
fn digits_with_underscores(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_digit()
        && b[b.len() - 1].is_ascii_digit()
        && b.iter().all(|c| c.is_ascii_digit() || *c == b'_')
        && !s.contains("__")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::values::{Dec, TomlInstant};
    use proptest::prelude::*;

    #[derive(serde::Deserialize)]
    struct Quantity {
        q: Dec,
    }

    #[derive(serde::Deserialize)]
    struct At {
        t: TomlInstant,
    }

    proptest! {
        /// A number read here is what `toml` and `Dec` make of it, scale included (the
        /// scale shows in messages such as "quantity -0.5 is negative").
        #[test]
        fn numbers_read_here_are_what_toml_reads(
            token in "[+-]?[0-9_]{1,20}(\\.[0-9_]{1,14})?",
        ) {
            if let Some(d) = toml_number(&token) {
                let general: Result<Quantity, _> = toml::from_str(&format!("q = {token}"));
                let general = general.map(|g| g.q.0.to_string()).map_err(|e| e.to_string());
                prop_assert_eq!(general, Ok(d.to_string()), "{}", token);
            }
        }

        /// A date or date-time read here is the instant `toml` and `TomlInstant` make of it.
        #[test]
        fn datetimes_read_here_are_what_toml_reads(
            token in "(19[6-9]|2[0-2][0-9])[0-9]-[01][0-9]-[0-3][0-9]([Tt][0-2][0-9]:[0-5][0-9]:[0-6][0-9](\\.[0-9]{1,10})?([Zz]|[+-][0-2][0-9]:[0-5][0-9])?)?",
        ) {
            if let Some(t) = toml_datetime(&token) {
                let general: Result<At, _> = toml::from_str(&format!("t = {token}"));
                let general = general.map(|g| g.t.0).map_err(|e| e.to_string());
                prop_assert_eq!(general, Ok(t), "{}", token);
            }
        }
    }

    #[test]
    fn the_common_forms_are_read_here() {
        for q in ["0.5", "10", "1_000", "+3", "-0.25", "12.50", "600000000000"] {
            assert!(toml_number(q).is_some(), "{q}");
        }
        for q in [
            "1e3",
            "01",
            "1__0",
            "_1",
            "1.",
            ".5",
            "inf",
            "0x10",
            "0.1234567890123456",
        ] {
            assert!(toml_number(q).is_none(), "{q}");
        }
        for t in [
            "2026-04-01",
            "2026-04-01T00:00:10",
            "2026-04-01t00:00:10z",
            "2026-04-01T09:30:00.25+02:00",
        ] {
            assert!(toml_datetime(t).is_some(), "{t}");
        }
        for t in [
            "2026-13-01",
            "2026-04-01T24:00:00",
            "1969-12-31",
            "2026-04-01T10:00",
        ] {
            assert!(toml_datetime(t).is_none(), "{t}");
        }
    }

    /// Writes `text` to a temporary file and scans it.
    fn scanned(text: &str) -> Option<Scanned> {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), text).unwrap();
        scan(file.path()).unwrap()
    }

    #[test]
    fn the_stand_in_keeps_every_other_line_and_column() {
        let text = "[usage] # u\nevents = [ { at = 2026-04-01, metric = \"a\", quantity = 1 },\n  # c\n\n  {quantity='2',metric='b',at=\"2026-04-02\"} ,\n  ]   # end\n[x]\ny = 1\n";
        let s = scanned(text).unwrap();
        let events = s.events.unwrap();
        assert_eq!(events.count, 2);
        assert_eq!(s.text, "[usage] # u\nevents = []   # end\n[x]\ny = 1\n");
        assert_eq!(&s.text[events.placeholder.clone()], "[]");
        assert_eq!(events.cut, Cut { at: 21, lines: 4 });
        let site = events.first_site.unwrap().with_message("m");
        assert!(site.to_string().ends_with(":2:12: m"), "{site}");
    }

    #[test]
    fn unusual_forms_go_to_the_general_path() {
        let head = "[usage]\nevents = [\n";
        for body in [
            "{ at = 2026-04-01, metric = \"a\", quantity = 1, extra = 2 },\n]",
            "{ at = 2026-04-01, metric = \"a\" },\n]",
            "{ at = 2026-04-01, at = 2026-04-01, metric = \"a\", quantity = 1 },\n]",
            "{ at = 2026-04-01, metric = \"a\\u0041\", quantity = 1 },\n]",
            "{ at = 2026-04-01,\n metric = \"a\", quantity = 1 },\n]",
            "{ at = 2026-04-01, metric = \"a\", quantity = 1e3 },\n]",
            "{ at = 2026-04-01 10:00:00, metric = \"a\", quantity = 1 },\n]",
            ", { at = 2026-04-01, metric = \"a\", quantity = 1 }\n]",
            "{ at = 2026-04-01, metric = \"a\", quantity = 1 } x\n]",
            "{ at = 2026-04-01, metric = \"a\", quantity = 1 }\n] y",
            "{ at = 2026-04-01, metric = \"a\", quantity = 1 }\n",
        ] {
            assert!(scanned(&format!("{head}{body}\n")).is_none(), "{body}");
        }
        // Not in [usage], or not an array this reads: left to toml whole.
        for text in [
            "[usage.trace]\nevents = [{ at = 2026-04-01, metric = \"a\", quantity = 1 }]\n",
            "[[usage.events]]\nat = 2026-04-01\n",
            "x = \"\"\"\n[usage]\nevents = [\n\"\"\"\n",
        ] {
            let s = scanned(text).unwrap();
            assert!(s.events.is_none(), "{text}");
            assert_eq!(s.text, text);
        }
    }
}
