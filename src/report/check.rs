//! `check`'s reports: one line per mismatch for the console, JUnit XML for CI.

use super::doc::{Block, Doc, Table};
use crate::input::check::ScenarioCheck;
use serde_json::{json, Map, Value};
use std::path::PathBuf;

/// `path:line: strategy "s", statement 2, field money.flex: expected 12.00, got 13.00`
pub fn mismatch_lines(check: &ScenarioCheck) -> Vec<String> {
    let mut out = Vec::new();
    for b in &check.blocks {
        for m in &b.mismatches {
            let statement = m
                .statement
                .map(|n| format!(", statement {n}"))
                .unwrap_or_default();
            out.push(format!(
                "{}:{}: strategy \"{}\"{statement}, field {}: expected {}, got {}",
                check.path.display(),
                m.line,
                m.strategy,
                m.field,
                m.expected,
                m.got
            ));
        }
    }
    out
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' && c != '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// A scenario or pricing-book file that could not be loaded.
#[derive(Debug, Clone)]
pub struct InvalidFile {
    pub path: PathBuf,
    pub message: String,
}

/// A line tagged as a stale hand calculation by `check --update`.
#[derive(Debug, Clone)]
pub struct StaleLine {
    pub path: PathBuf,
    pub line: usize,
}

/// Everything one `check` run found: the counts the console and JUnit both report.
pub struct CheckReport<'a> {
    pub checks: &'a [ScenarioCheck],
    pub invalid: &'a [InvalidFile],
    pub stale: &'a [StaleLine],
}

impl CheckReport<'_> {
    pub fn passed(&self) -> usize {
        self.checks.iter().map(|c| c.passed()).sum()
    }

    /// Expected values that did not match.
    pub fn failed(&self) -> usize {
        self.checks.iter().map(|c| c.failed()).sum()
    }

    /// "N passed, M failed", then the stale tags and invalid files when there are any.
    pub fn counts_line(&self) -> String {
        let mut line = format!("{} passed, {} failed", self.passed(), self.failed());
        if !self.stale.is_empty() {
            line.push_str(&format!(", {} stale hand calculation(s)", self.stale.len()));
        }
        if !self.invalid.is_empty() {
            line.push_str(&format!(", {} invalid file(s)", self.invalid.len()));
        }
        line
    }
}

impl CheckReport<'_> {
    /// Each stale tag as a located line.
    fn stale_messages(&self) -> Vec<String> {
        self.stale
            .iter()
            .map(|s| {
                format!(
                    "{}:{}: a hand calculation changed by check --update is tagged stale: redo it, then remove the tag",
                    s.path.display(),
                    s.line
                )
            })
            .collect()
    }

    /// The check as a document: the mismatch and stale lines as they are (locations a CI
    /// log links), then the counts; JSON and CSV carry every mismatch.
    pub fn doc(&self, without_expectations: usize) -> Doc {
        let mut doc = Doc::new("");
        let mut lines: Vec<String> = self.checks.iter().flat_map(mismatch_lines).collect();
        lines.extend(self.stale_messages());
        if !lines.is_empty() {
            doc.push(Block::Lines(lines));
        }
        doc.push(Block::Lines(vec![
            format!(
                "checked {} scenario file(s) ({without_expectations} without expectations)",
                self.checks.len()
            ),
            self.counts_line(),
        ]));
        let tidy = self.mismatch_table();
        doc.data = json!({
            "scenario_files": self.checks.len(),
            "without_expectations": without_expectations,
            "passed": self.passed(),
            "failed": self.failed(),
            "mismatches": tidy.rows.iter().map(|r| {
                tidy.header.iter().zip(r).map(|(k, v)| (k.clone(), Value::from(v.as_str()))).collect::<Map<_, _>>()
            }).collect::<Vec<_>>(),
            "stale": self.stale.iter().map(|s| json!({"file": s.path.display().to_string(), "line": s.line})).collect::<Vec<_>>(),
            "invalid": self.invalid.iter().map(|f| json!({"file": f.path.display().to_string(), "error": f.message})).collect::<Vec<_>>(),
        });
        doc.tidy = Some(tidy);
        doc
    }

    /// One row per mismatched value.
    fn mismatch_table(&self) -> Table {
        let header = [
            "file",
            "line",
            "strategy",
            "statement",
            "field",
            "expected",
            "got",
        ];
        let rows = self
            .checks
            .iter()
            .flat_map(|c| {
                c.blocks
                    .iter()
                    .flat_map(move |b| b.mismatches.iter().map(move |m| (c, m)))
            })
            .map(|(c, m)| {
                vec![
                    c.path.display().to_string(),
                    m.line.to_string(),
                    m.strategy.clone(),
                    m.statement.map(|n| n.to_string()).unwrap_or_default(),
                    m.field.clone(),
                    m.expected.clone(),
                    m.got.clone(),
                ]
            })
            .collect();
        Table {
            title: "Mismatches".to_string(),
            header: header.map(String::from).to_vec(),
            rows,
            key_columns: 2,
        }
    }
}

fn testcase(class: &str, name: &str, inner: &str) -> String {
    format!(
        "    <testcase classname=\"{}\" name=\"{}\">{inner}</testcase>\n",
        xml_escape(class),
        xml_escape(name)
    )
}

/// One scenario file's suite: a test per expected value, a failure per mismatch.
fn suite(c: &ScenarioCheck, stale: &[&StaleLine]) -> String {
    let mut cases = String::new();
    for b in &c.blocks {
        let statement = b
            .statement
            .map(|n| format!(" statement {n}"))
            .unwrap_or_default();
        for field in &b.fields {
            let name = format!("{} line {}{statement}: {field}", b.strategy, b.line);
            let failure = b.mismatches.iter().find(|m| &m.field == field).map(|m| {
                format!(
                    "\n      <failure message=\"expected {}, got {}\">{}:{}: {}: expected {}, got {}</failure>\n    ",
                    xml_escape(&m.expected),
                    xml_escape(&m.got),
                    xml_escape(&c.path.display().to_string()),
                    m.line,
                    xml_escape(&m.field),
                    xml_escape(&m.expected),
                    xml_escape(&m.got)
                )
            });
            cases.push_str(&testcase(&c.name, &name, &failure.unwrap_or_default()));
        }
    }
    for s in stale {
        let failure = format!(
            "\n      <failure message=\"stale hand calculation\">line {}: tagged by check --update; redo the calculation, then remove the tag</failure>\n    ",
            s.line
        );
        cases.push_str(&testcase(
            &c.name,
            &format!("line {}: hand calculation", s.line),
            &failure,
        ));
    }
    let tests = c.blocks.iter().map(|b| b.fields.len()).sum::<usize>() + stale.len();
    format!(
        "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{}\" errors=\"0\">\n{cases}  </testsuite>\n",
        xml_escape(&c.path.display().to_string()),
        c.failed() + stale.len()
    )
}

/// JUnit XML: a suite per scenario file with a test per expected value (so its counts are
/// the console's), and a suite with an `<error>` per invalid file. Hand-written: the format
/// is a few elements, and a dependency for it would pull in more than it saves.
pub fn junit(report: &CheckReport<'_>) -> String {
    let mut body = String::new();
    for c in report.checks {
        let stale: Vec<&StaleLine> = report.stale.iter().filter(|s| s.path == c.path).collect();
        body.push_str(&suite(c, &stale));
    }
    for f in report.invalid {
        let name = f.path.display().to_string();
        let error = format!(
            "\n      <error message=\"invalid file\">{}</error>\n    ",
            xml_escape(&f.message)
        );
        body.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"1\" failures=\"0\" errors=\"1\">\n{}  </testsuite>\n",
            xml_escape(&name),
            testcase(&name, "load", &error)
        ));
    }
    let tests = report.passed() + report.failed() + report.stale.len() + report.invalid.len();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"creditsim check\" tests=\"{tests}\" failures=\"{}\" errors=\"{}\">\n{body}</testsuites>\n",
        report.failed() + report.stale.len(),
        report.invalid.len()
    )
}
