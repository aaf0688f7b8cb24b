//! `check`'s reports: one line per mismatch for the console, JUnit XML for CI.

use crate::input::check::ScenarioCheck;
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
