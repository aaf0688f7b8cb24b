//! The document model: what every command reports, built once and rendered in any format.
//!
//! A `Doc` holds what a person reads (headings, paragraphs, tables, notes, charts) and what a
//! program reads (`data`, the JSON value, and `tidy`, the table written as CSV). The people
//! formats (text and Markdown in `report::text`, HTML in `report::html`) render the blocks;
//! JSON and CSV render the data, so a program's view never depends on how a table was laid
//! out for a person. This module is the model alone: it depends on no renderer.

use serde_json::Value;

/// Output formats, chosen by `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Text for a terminal, fitted to its width.
    Table,
    Json,
    Csv,
    Markdown,
    /// One self-contained HTML page (inline CSS and SVG, no network).
    Html,
}

#[derive(Debug, Clone, Default)]
pub struct Doc {
    pub title: String,
    /// A line under the title: what was run, on which file.
    pub subtitle: Option<String>,
    pub blocks: Vec<Block>,
    /// The machine-readable result (`--format json`).
    pub data: Value,
    /// The tidy table (`--format csv`): one row per observation.
    pub tidy: Option<Table>,
    /// Where the result came from (version, input hashes, seed, command line): the HTML
    /// footer; JSON carries it inside `data`.
    pub provenance: Vec<(String, String)>,
    /// The language the words are in (`en` when empty): the HTML page's `lang`.
    pub lang: String,
    /// A one-page document (a customer quote): HTML lays it out to print on one sheet.
    pub one_page: bool,
}

#[derive(Debug, Clone)]
pub enum Block {
    Heading(String),
    Paragraph(String),
    Table(Table),
    /// Something the reader must not miss: a caveat, a refused-usage warning.
    Note(String),
    Chart(Chart),
    /// Lines shown exactly as they are, never wrapped: `file:line: ...` locations a terminal,
    /// an editor or a CI log turns into links.
    Lines(Vec<String>),
    /// Charts side by side, each with a caption (the words a chart leaves out).
    Figures(Vec<(Chart, String)>),
    /// An interactive view (HTML only): a slider over precomputed points.
    Explorer(Explorer),
}

/// A slider over points computed by the engine, each with the words and table cells shown
/// when the slider is there: the page looks values up, it computes none.
#[derive(Debug, Clone)]
pub struct Explorer {
    pub title: String,
    /// Said instead in formats without a slider.
    pub fallback: String,
    /// The slider's label.
    pub label: String,
    /// The table's header; every point has one row per `row_names` entry.
    pub header: Vec<String>,
    pub row_names: Vec<String>,
    pub points: Vec<ExplorerPoint>,
    /// The point the slider starts at.
    pub start: usize,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ExplorerPoint {
    /// Where the slider is, in words ("250 credits a month (100% of what you expect)").
    pub at: String,
    /// The sentence shown above the table.
    pub sentence: String,
    /// Per row, its cells after the name.
    pub cells: Vec<Vec<String>>,
    /// The row to highlight.
    pub best: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub title: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Leading columns that name a row; repeated in each part when a wide table is split to
    /// fit the terminal.
    pub key_columns: usize,
}

#[derive(Debug, Clone)]
pub struct Chart {
    pub title: String,
    /// The chart as an SVG document, inlined in HTML.
    pub svg: String,
}

/// Whether a cell holds a number (or a range or "x +/- e" of numbers, a percentage, a number
/// in brackets, an amount with its currency's symbol): such cells are right-aligned, in text and in HTML alike.
pub fn looks_numeric(cell: &str) -> bool {
    cell.chars().any(|c| c.is_ascii_digit())
        && cell
            .chars()
            .all(|c| c.is_ascii_digit() || ".-,%+/ []$€£¥円".contains(c))
}

impl Doc {
    pub fn new(title: impl Into<String>) -> Doc {
        Doc {
            title: title.into(),
            data: Value::Null,
            ..Doc::default()
        }
    }

    pub fn push(&mut self, block: Block) {
        self.blocks.push(block);
    }
}
