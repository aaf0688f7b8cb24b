//! Errors about input files, located to a line and column (TOML) or row and column (CSV).

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Where in a file something is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// 1-based line and column of a text file.
    LineColumn { line: usize, column: usize },
    /// 1-based data row (the header is row 0) and the column's name.
    RowColumn { row: usize, column: String },
    /// The file as a whole (it could not be read, or is empty).
    File,
}

/// One problem with one input file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InputError {
    pub file: PathBuf,
    pub location: Location,
    pub message: String,
    /// The offending line of a text file and the span in it, shown under the message.
    pub source_line: Option<Box<SourceLine>>,
}

/// A line of an input file, made safe to print (control characters escaped, at most
/// `SHOWN_LINE_CHARS_MAX` characters around the span), and the span within it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLine {
    pub number: usize,
    pub text: String,
    /// Byte range of the span in `text`.
    pub span: Range<usize>,
}

/// Longest echo of input text in a message or a shown line: a 10 MB cell is not printed
/// whole.
pub const SHOWN_LINE_CHARS_MAX: usize = 160;
pub const MESSAGE_LINE_CHARS_MAX: usize = 1_000;

/// Longest echo of one value (a cell, an id, a name) inside a message.
pub const SHOWN_VALUE_CHARS_MAX: usize = 80;

/// A value as a message echoes it: escaped (line breaks too, so a value never spans lines
/// of a message) and cut at [`SHOWN_VALUE_CHARS_MAX`] characters with the rest counted.
pub fn shown(text: &str) -> String {
    printable(&text.replace('\n', "\\n"), SHOWN_VALUE_CHARS_MAX)
}

/// Bytes that are not all UTF-8, as a message echoes them: each invalid byte as `\xNN`, the
/// rest as [`shown`].
pub fn shown_bytes(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len().min(4 * SHOWN_VALUE_CHARS_MAX));
    for chunk in bytes.utf8_chunks() {
        text.push_str(chunk.valid());
        for b in chunk.invalid() {
            text.push_str(&format!("\\x{b:02x}"));
        }
    }
    shown(&text)
}

/// `text` safe to print on a terminal: control characters (but for the line breaks of a
/// multi-line message) are escaped, and each line is cut at `max_chars` characters with
/// the number left out said.
pub fn printable(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars * 2));
    for (k, line) in text.split('\n').enumerate() {
        if k > 0 {
            out.push('\n');
        }
        let total = line.chars().count();
        for c in line.chars().take(max_chars) {
            push_escaped(&mut out, c);
        }
        if total > max_chars {
            out.push_str(&format!("... ({} more characters)", total - max_chars));
        }
    }
    out
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
        c => out.push(c),
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        match &self.location {
            Location::LineColumn { line, column } => {
                write!(f, "{file}:{line}:{column}: {}", self.message)
            }
            Location::RowColumn { row, column } => {
                write!(
                    f,
                    "{file}: row {row}, column \"{column}\": {}",
                    self.message
                )
            }
            Location::File => write!(f, "{file}: {}", self.message),
        }
    }
}

impl InputError {
    pub fn whole_file(file: &Path, message: impl Into<String>) -> InputError {
        InputError {
            file: file.to_path_buf(),
            location: Location::File,
            message: printable(&message.into(), MESSAGE_LINE_CHARS_MAX),
            source_line: None,
        }
    }

    pub fn at_row(file: &Path, row: usize, column: &str, message: impl Into<String>) -> InputError {
        InputError {
            file: file.to_path_buf(),
            location: Location::RowColumn {
                row,
                column: printable(column, SHOWN_LINE_CHARS_MAX),
            },
            message: printable(&message.into(), MESSAGE_LINE_CHARS_MAX),
            source_line: None,
        }
    }

    /// At a line and column, without the line itself.
    pub fn at_line(
        file: &Path,
        line: usize,
        column: usize,
        message: impl Into<String>,
    ) -> InputError {
        InputError {
            file: file.to_path_buf(),
            location: Location::LineColumn { line, column },
            message: printable(&message.into(), MESSAGE_LINE_CHARS_MAX),
            source_line: None,
        }
    }

    /// At `span` (bytes) of line `number`, the line given apart from its file (a file read a
    /// line at a time): the same error `Source::error` builds from the whole text.
    pub fn in_line(
        file: &Path,
        number: usize,
        line: &str,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> InputError {
        let line = &line[..line.find('\n').unwrap_or(line.len())];
        let column = line_column(line, span.start).1;
        InputError {
            source_line: Some(Box::new(shown_line(line, span, number))),
            ..InputError::at_line(file, number, column, message)
        }
    }

    /// The same place with another message.
    pub fn with_message(self, message: impl Into<String>) -> InputError {
        InputError {
            message: printable(&message.into(), MESSAGE_LINE_CHARS_MAX),
            ..self
        }
    }

    /// The error as a person reads it on a terminal: "error: file:line:col: message", then
    /// (for a text file) the line with the span marked, as rustc and cargo show it.
    pub fn render(&self) -> String {
        let Some(line) = &self.source_line else {
            return format!("error: {self}");
        };
        // The title already names file, line and column (the line a tool or an editor
        // jumps from), so the snippet has no "-->" origin line repeating them.
        let title = self.to_string();
        let snippet = annotate_snippets::Snippet::source(&line.text)
            .line_start(line.number)
            .annotation(annotate_snippets::Level::Error.span(line.span.clone()));
        let message = annotate_snippets::Level::Error
            .title(&title)
            .snippet(snippet);
        let rendered = annotate_snippets::Renderer::plain()
            .render(message)
            .to_string();
        rendered
    }
}

/// A source text with its path, to turn byte spans into line and column.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: PathBuf,
    pub text: String,
    /// Lines of the file left out of `text` (a scenario's inline events, read apart).
    pub cut: Option<Cut>,
}

/// Lines left out of a text: the file has `lines` more line breaks right after byte `at` of
/// the text, so whatever comes after `at` is that many lines further down in the file (and on
/// the line that ends the cut, at another column; nothing is reported there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cut {
    pub at: usize,
    pub lines: usize,
}

impl Source {
    pub fn read(path: &Path) -> Result<Source, InputError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| InputError::whole_file(path, format!("cannot read: {e}")))?;
        Ok(Source {
            path: path.to_path_buf(),
            text,
            cut: None,
        })
    }

    pub fn error(&self, span: Range<usize>, message: impl Into<String>) -> InputError {
        let (line, column) = self.line_column(span.start);
        InputError {
            source_line: Some(Box::new(shown_line(&self.text, span, line))),
            ..InputError::at_line(&self.path, line, column, message)
        }
    }

    /// 1-based line and column in the file of a byte offset in the text.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let (line, column) = line_column(&self.text, offset);
        match self.cut {
            Some(cut) if offset > cut.at => (line + cut.lines, column),
            _ => (line, column),
        }
    }

    /// Resolves a path written in this file relative to the file's folder.
    pub fn relative(&self, written: &str) -> PathBuf {
        let written = Path::new(written);
        if written.is_absolute() {
            return written.to_path_buf();
        }
        self.path.parent().unwrap_or(Path::new(".")).join(written)
    }
}

/// Line `number` of `text` (the one holding `span.start`), printable, with the span mapped
/// into it: a span running past the line's end is cut there; a line too long to show is
/// cut to a window around the span.
fn shown_line(text: &str, span: Range<usize>, number: usize) -> SourceLine {
    let start = span.start.min(text.len());
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let raw = &text[line_start..line_end];
    let (from, to) = (
        start - line_start,
        span.end.clamp(start, line_end) - line_start,
    );
    // Characters before the span, in it, after it, each escaped and bounded.
    let chars_before: Vec<char> = raw[..from].chars().collect();
    let keep_before = chars_before.len().min(SHOWN_LINE_CHARS_MAX / 4);
    let mut shown = String::new();
    if keep_before < chars_before.len() {
        shown.push_str("...");
    }
    for &c in &chars_before[chars_before.len() - keep_before..] {
        push_escaped(&mut shown, c);
    }
    let span_start = shown.len();
    let span_chars = raw[from..to].chars().count();
    for c in raw[from..to].chars().take(SHOWN_LINE_CHARS_MAX / 2) {
        push_escaped(&mut shown, c);
    }
    if span_chars > SHOWN_LINE_CHARS_MAX / 2 {
        shown.push_str("...");
    }
    // An empty span still marks one character.
    let span_end = shown.len().max(span_start);
    let room = SHOWN_LINE_CHARS_MAX.saturating_sub(shown.chars().count());
    let after: Vec<char> = raw[to..].chars().collect();
    for &c in after.iter().take(room) {
        push_escaped(&mut shown, c);
    }
    if after.len() > room {
        shown.push_str("...");
    }
    SourceLine {
        number,
        text: shown,
        span: span_start..span_end,
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..offset].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shown_line_is_escaped_and_bounded() {
        // A 10,000-character value with a tab before it: the line shown is cut to the
        // bound and the tab is escaped; the span starts right after the escaped tab.
        let value = "x".repeat(10_000);
        let text = format!("a = 1\nkey =\t\"{value}\"\n");
        let start = text.find('"').unwrap();
        let line = shown_line(&text, start..start + value.len() + 2, 2);
        assert!(line.text.starts_with("key =\\t\""), "{}", line.text);
        assert_eq!(&line.text[..line.span.start], "key =\\t");
        assert!(line.text.chars().count() <= SHOWN_LINE_CHARS_MAX + 6);
        assert!(line.text.ends_with("..."));
        // Messages: control characters escaped, long lines cut with the count said.
        let m = printable(&format!("bad \u{1b}[31m {value}"), 20);
        // "bad " + ESC + "[31m " is 10 characters, so 10 of the x are shown.
        assert_eq!(m, "bad \\u{1b}[31m xxxxxxxxxx... (9990 more characters)");
    }

    #[test]
    fn values_are_echoed_on_one_line_and_cut() {
        assert_eq!(shown("a\nb\tc"), "a\\nb\\tc");
        let long = "y".repeat(100);
        // 80 characters shown, the other 20 counted.
        assert_eq!(
            shown(&long),
            format!("{}... (20 more characters)", "y".repeat(80))
        );
        assert_eq!(shown_bytes(b"cr\xffedits"), "cr\\xffedits");
    }

    #[test]
    fn line_and_column_are_one_based() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        // "bé = " is 6 bytes but 5 characters: the value starts at column 6.
        assert_eq!(line_column(text, 12), (2, 6));
    }
}
