//! Rendering a `Doc`: text fitted to a terminal's width and Markdown here, HTML in
//! `report::html`, JSON and tidy CSV from the document's data.

use super::doc::{looks_numeric, Block, Doc, Format, Table};
use comfy_table::{presets, Cell, CellAlignment, ContentArrangement, Table as Grid, TableStyle};

impl Doc {
    /// The document in `format`; `width` is the terminal's (text tables fit it).
    pub fn render(&self, format: Format, width: usize) -> String {
        match format {
            Format::Table => self.to_text(width),
            Format::Markdown => self.to_markdown(),
            Format::Html => super::html::render(self),
            Format::Json => {
                serde_json::to_string_pretty(&self.data).expect("JSON values serialise") + "\n"
            }
            Format::Csv => match &self.tidy {
                Some(t) => t.to_csv(),
                None => String::new(),
            },
        }
    }

    fn to_text(&self, width: usize) -> String {
        // A document without a title (check's) starts with its first block.
        let mut out = String::new();
        if !self.title.is_empty() {
            out.push_str(&format!("{}\n", self.title));
        }
        if let Some(s) = &self.subtitle {
            out.push_str(&format!("{s}\n"));
        }
        for block in &self.blocks {
            if !out.is_empty() {
                out.push('\n');
            }
            match block {
                Block::Lines(lines) => {
                    for l in lines {
                        out.push_str(&format!("{l}\n"));
                    }
                }
                Block::Heading(h) => {
                    out.push_str(&format!("{h}\n{}\n", "-".repeat(h.chars().count())))
                }
                Block::Paragraph(p) => out.push_str(&format!("{}\n", wrap(p, width))),
                Block::Note(n) => {
                    out.push_str(&format!("{}\n", wrap(&format!("note: {n}"), width)))
                }
                Block::Table(t) => out.push_str(&t.to_text(width)),
                Block::Chart(c) => out.push_str(&format!(
                    "[chart: {}; see --format html or the files --out writes]\n",
                    c.title
                )),
                Block::Figures(figures) => {
                    for (_, caption) in figures {
                        out.push_str(&format!(
                            "{}\n",
                            wrap(&format!("[chart: {caption}]"), width)
                        ));
                    }
                }
                Block::Explorer(e) => out.push_str(&format!("{}\n", wrap(&e.fallback, width))),
            }
        }
        out
    }

    fn to_markdown(&self) -> String {
        let mut out = format!("## {}\n", self.title);
        if let Some(s) = &self.subtitle {
            out.push_str(&format!("\n{s}\n"));
        }
        for block in &self.blocks {
            out.push('\n');
            match block {
                Block::Heading(h) => out.push_str(&format!("### {h}\n")),
                Block::Paragraph(p) => out.push_str(&format!("{p}\n")),
                Block::Note(n) => out.push_str(&format!("> **Note:** {n}\n")),
                Block::Table(t) => out.push_str(&t.to_markdown()),
                Block::Chart(c) => out.push_str(&format!("*Chart: {}*\n", c.title)),
                Block::Figures(figures) => {
                    for (_, caption) in figures {
                        out.push_str(&format!("*Chart: {caption}*\n\n"));
                    }
                }
                Block::Explorer(e) => out.push_str(&format!("{}\n", e.fallback)),
                Block::Lines(lines) => {
                    out.push_str(&format!("```text\n{}\n```\n", lines.join("\n")))
                }
            }
        }
        out
    }
}

/// Columns a text report may use: the terminal's width when stdout is one, else 100.
pub fn terminal_width() -> usize {
    Grid::new().width().map_or(100, usize::from)
}

/// Words of `text` in lines of at most `width` characters (a longer word stands alone).
pub fn wrap(text: &str, width: usize) -> String {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split(' ') {
            let fits = line.chars().count() + 1 + word.chars().count() <= width;
            if !line.is_empty() && !fits {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines.join("\n")
}

impl Table {
    /// A header as shown in a text table: two lines, broken after the '.', '_' or ' '
    /// nearest its middle ("money." over "flex", "bundle b50" over "at start"), so a column
    /// is about half as wide as its name.
    fn text_header(&self, c: usize) -> String {
        let h = &self.header[c];
        let middle = h.len() / 2;
        let best = h
            .char_indices()
            .filter(|(_, ch)| matches!(ch, '.' | '_' | ' '))
            .min_by_key(|(i, _)| i.abs_diff(middle));
        match best {
            Some((i, ' ')) => format!("{}\n{}", &h[..i], &h[i + 1..]),
            Some((i, _)) => format!("{}\n{}", &h[..=i], &h[i + 1..]),
            None => h.clone(),
        }
    }

    fn grid(&self, columns: &[usize], style: TableStyle, text: bool) -> Grid {
        let mut t = Grid::new();
        t.load_style(style);
        t.set_content_arrangement(ContentArrangement::Disabled);
        t.set_header(columns.iter().map(|&c| {
            Cell::new(if text {
                self.text_header(c)
            } else {
                self.header[c].clone()
            })
        }));
        for row in &self.rows {
            t.add_row(columns.iter().map(|&c| {
                let cell = Cell::new(&row[c]);
                if c >= self.key_columns.max(1) && looks_numeric(&row[c]) {
                    cell.set_alignment(CellAlignment::Right)
                } else {
                    cell
                }
            }));
        }
        t
    }

    /// The table as text no wider than `width`: when all its columns do not fit, it is cut
    /// into parts of whole columns, each repeating the key columns, so no number is ever
    /// wrapped inside its cell.
    pub fn to_text(&self, width: usize) -> String {
        let all: Vec<usize> = (0..self.header.len()).collect();
        let widths = self.column_widths();
        let keys = self.key_columns.min(all.len());
        let mut parts: Vec<Vec<usize>> = Vec::new();
        let mut part: Vec<usize> = (0..keys).collect();
        // Each column takes its content plus a border and two spaces of padding.
        let used = |cols: &[usize]| cols.iter().map(|&c| widths[c] + 3).sum::<usize>() + 1;
        for c in keys..all.len() {
            let mut candidate = part.clone();
            candidate.push(c);
            if used(&candidate) > width && part.len() > keys {
                parts.push(std::mem::replace(&mut part, (0..keys).collect()));
                part.push(c);
            } else {
                part = candidate;
            }
        }
        parts.push(part);
        let mut out = format!("{}\n", wrap(&self.title, width));
        for (k, cols) in parts.iter().enumerate() {
            if parts.len() > 1 {
                out.push_str(&format!("(part {} of {})\n", k + 1, parts.len()));
            }
            out.push_str(&format!(
                "{}\n",
                self.grid(cols, presets::UTF8_FULL_CONDENSED, true)
            ));
        }
        out
    }

    fn column_widths(&self) -> Vec<usize> {
        (0..self.header.len())
            .map(|c| {
                self.rows
                    .iter()
                    .map(|r| r[c].chars().count())
                    .chain(self.text_header(c).lines().map(|l| l.chars().count()))
                    .max()
                    .unwrap_or(0)
            })
            .collect()
    }

    pub fn to_markdown(&self) -> String {
        let all: Vec<usize> = (0..self.header.len()).collect();
        format!(
            "#### {}\n\n{}\n",
            self.title,
            self.grid(&all, presets::ASCII_MARKDOWN, false)
        )
    }

    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(&self.header).expect("in-memory CSV");
        for r in &self.rows {
            w.write_record(r).expect("in-memory CSV");
        }
        String::from_utf8(w.into_inner().expect("in-memory CSV")).expect("CSV is UTF-8")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wide() -> Table {
        Table {
            title: "t".into(),
            header: (0..12).map(|i| format!("column{i}")).collect(),
            rows: vec![(0..12).map(|i| format!("{}", 1000 * i)).collect()],
            key_columns: 1,
        }
    }

    #[test]
    fn a_wide_table_is_cut_into_parts_that_fit_and_repeat_the_key() {
        // 12 columns of 7 characters need 12 x (7 + 3) + 1 = 121 characters: two parts at
        // 80, each starting with the key column.
        let text = wide().to_text(80);
        assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
        assert_eq!(text.matches("(part ").count(), 2, "{text}");
        assert_eq!(text.matches("column0").count(), 2, "{text}");
        // Every number appears whole.
        for i in 0..12 {
            assert!(text.contains(&format!(" {} ", 1000 * i)), "{text}");
        }
        // Wide enough: one part, no part labels.
        assert!(!wide().to_text(200).contains("(part "));
    }

    #[test]
    fn wrap_keeps_words_whole_within_the_width() {
        assert_eq!(wrap("aa bb cc dd", 5), "aa bb\ncc dd");
        assert_eq!(
            wrap("averyveryverylongword x", 5),
            "averyveryverylongword\nx"
        );
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let t = Table {
            title: String::new(),
            header: vec!["a".into(), "b".into()],
            rows: vec![vec!["x,y".into(), "1".into()]],
            key_columns: 1,
        };
        assert_eq!(t.to_csv(), "a,b\n\"x,y\",1\n");
    }
}
