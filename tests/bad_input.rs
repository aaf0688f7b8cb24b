//! Golden-file tests for bad input (hledger style): every `tests/errors/NAME.toml` is one small
//! reproducer of one error, and `tests/errors/NAME.stderr` holds the exact `error: ...` line(s)
//! `creditsim validate tests/errors/NAME.toml` must print, run from the crate root so paths in
//! messages read `tests/errors/NAME.toml:LINE:COL: ...`.
//!
//! Auxiliary files: a case's usage CSV sits beside it as `NAME.csv`; pricing books that cases
//! reference live in `tests/errors/aux/` so they are not cases themselves.
//!
//! To add a case: write `NAME.toml` (a comment on line 1 saying what is wrong), run
//! `cargo run -- validate tests/errors/NAME.toml`, check by hand that LINE:COL points at the
//! offending key or value and that the message is clear, then write the `error: ...` line(s)
//! (not the "N of M file(s) invalid" summary) to `NAME.stderr`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CASES_DIR: &str = "tests/errors";

fn crate_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Names (file stems) of files in `tests/errors/` with this extension, sorted.
fn stems_with_extension(ext: &str) -> Vec<String> {
    let dir = crate_root().join(CASES_DIR);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == ext))
        .map(|p| {
            p.file_stem()
                .expect("file name")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

fn cases() -> Vec<String> {
    let cases = stems_with_extension("toml");
    assert!(
        !cases.is_empty(),
        "no cases found in {CASES_DIR}/*.toml (is the test run from the crate?)"
    );
    cases
}

fn case_path(name: &str) -> String {
    format!("{CASES_DIR}/{name}.toml")
}

fn creditsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_creditsim"))
        .args(args)
        .current_dir(crate_root())
        .output()
        .expect("run the creditsim binary")
}

/// The process's stderr without the trailing "N of M file(s) invalid" summary.
fn error_lines(stderr: &str) -> Vec<String> {
    let mut lines: Vec<String> = stderr.lines().map(str::to_string).collect();
    if lines.last().is_some_and(|l| is_summary(l)) {
        lines.pop();
    }
    lines
}

/// "N of M file(s) invalid".
fn is_summary(line: &str) -> bool {
    let Some(rest) = line.strip_suffix(" file(s) invalid") else {
        return false;
    };
    let mut parts = rest.split(" of ");
    let number =
        |p: Option<&str>| p.is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
    number(parts.next()) && number(parts.next()) && parts.next().is_none()
}

/// A line-by-line diff: ` ` same, `-` expected only, `+` actual only.
fn diff(expected: &[String], actual: &[String]) -> String {
    let mut out = String::new();
    for i in 0..expected.len().max(actual.len()) {
        match (expected.get(i), actual.get(i)) {
            (Some(e), Some(a)) if e == a => writeln!(out, "      {e}").unwrap(),
            (e, a) => {
                if let Some(e) = e {
                    writeln!(out, "    - {e}").unwrap();
                }
                if let Some(a) = a {
                    writeln!(out, "    + {a}").unwrap();
                }
            }
        }
    }
    out
}

fn fail_with(title: &str, failures: &[String], total: usize) {
    if !failures.is_empty() {
        panic!(
            "{title}: {} of {total} case(s) failed\n\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}

#[test]
fn every_case_has_expected_stderr_and_every_expected_stderr_has_a_case() {
    let tomls = cases();
    let stderrs = stems_with_extension("stderr");
    let csvs = stems_with_extension("csv");
    let mut problems = Vec::new();
    for name in &tomls {
        if !stderrs.contains(name) {
            problems.push(format!("{CASES_DIR}/{name}.toml has no {name}.stderr"));
        }
    }
    for name in &stderrs {
        if !tomls.contains(name) {
            problems.push(format!("{CASES_DIR}/{name}.stderr has no {name}.toml"));
        }
    }
    for name in &csvs {
        if !tomls.contains(name) {
            problems.push(format!(
                "{CASES_DIR}/{name}.csv belongs to no case (no {name}.toml)"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "unpaired files:\n{}",
        problems.join("\n")
    );
}

#[test]
fn validate_rejects_each_bad_input_with_the_expected_error() {
    let cases = cases();
    let mut failures = Vec::new();
    for name in &cases {
        let path = case_path(name);
        let expected_file = crate_root().join(CASES_DIR).join(format!("{name}.stderr"));
        let mut problems = Vec::new();
        let expected: Vec<String> = match std::fs::read_to_string(&expected_file) {
            Ok(text) => text.lines().map(str::to_string).collect(),
            Err(e) => {
                problems.push(format!("  cannot read {}: {e}", expected_file.display()));
                Vec::new()
            }
        };

        let out = creditsim(&["validate", &path]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let actual = error_lines(&stderr);

        if out.status.code() != Some(2) {
            problems.push(format!(
                "  exit code {:?}, expected 2 (bad input)",
                out.status.code()
            ));
        }
        let ok_lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with("ok:")).collect();
        if !ok_lines.is_empty() {
            problems.push(format!(
                "  accepted: stdout says {:?}",
                ok_lines.join(" | ")
            ));
        }
        if actual != expected {
            problems.push(format!("  stderr differs:\n{}", diff(&expected, &actual)));
        }
        if !problems.is_empty() {
            failures.push(format!("{path}:\n{}", problems.join("\n")));
        }
    }
    fail_with(
        "creditsim validate (diffs: - expected, + actual)",
        &failures,
        cases.len(),
    );
}

#[test]
fn replay_of_bad_input_fails_and_writes_nothing() {
    let cases = cases();
    let mut failures = Vec::new();
    for name in &cases {
        let path = case_path(name);
        let dir = tempfile::tempdir().expect("temporary folder");
        let out_file: PathBuf = dir.path().join("out.txt");
        let out = creditsim(&[
            "replay",
            &path,
            "--out",
            out_file.to_str().expect("UTF-8 path"),
        ]);

        let mut problems = Vec::new();
        if out.status.code() != Some(2) {
            problems.push(format!(
                "  exit code {:?}, expected 2 (bad input)",
                out.status.code()
            ));
        }
        if out_file.exists() {
            problems.push(format!(
                "  wrote {}: bad input must produce no output",
                out_file.display()
            ));
        }
        let leftovers: Vec<String> = std::fs::read_dir(dir.path())
            .expect("list temporary folder")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n != "out.txt")
            .collect();
        if !leftovers.is_empty() {
            problems.push(format!("  left files behind: {}", leftovers.join(", ")));
        }
        if !out.stdout.is_empty() {
            problems.push(format!(
                "  printed to stdout: {:?}",
                String::from_utf8_lossy(&out.stdout)
            ));
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !stderr.lines().any(|l| l.starts_with("error: ")) {
            problems.push(format!("  no \"error: ...\" line on stderr: {stderr:?}"));
        }
        if !problems.is_empty() {
            failures.push(format!("{path}:\n{}", problems.join("\n")));
        }
    }
    fail_with("creditsim replay --out", &failures, cases.len());
}

#[test]
fn summary_line_is_recognised() {
    assert!(is_summary("1 of 1 file(s) invalid"));
    assert!(is_summary("12 of 40 file(s) invalid"));
    assert!(!is_summary("error: x.toml: 1 of 1 file(s) invalid"));
    assert!(!is_summary("of 1 file(s) invalid"));
}
