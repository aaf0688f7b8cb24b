//! `creditsim check`: every `[[expect]]`, `[[expect_stat]]`, `[[expect_breakeven]]` and
//! `[[expect_advice]]` of the scenario files found.
//! An invalid file is reported and the others are still checked; the console and JUnit give
//! the same counts.

use super::{bad, Failure, FormatArg};
use creditsim::input::check::{check_scenario, rewrite, stale_lines, ScenarioCheck};
use creditsim::input::files::{expand, kind_of, FileKind};
use creditsim::input::scenario::{load, load_book, Scenario};
use creditsim::report::check::{junit, CheckReport, InvalidFile, StaleLine};
use creditsim::report::output::write_file;
use creditsim::report::text::terminal_width;
use creditsim::report::Format;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
#[command(after_help = "Examples:
  creditsim check                                   # every scenario under scenarios/
  creditsim check scenarios/regression --junit target/check.xml
  creditsim check scenarios/regression/cash-vs-economic.toml --update

Exit codes: 0 all pass, 1 an expectation failed (or a hand calculation is tagged stale),
2 a file is invalid (the others are still checked and reported).")]
pub struct Args {
    /// Scenario files or folders (searched for *.toml).
    #[arg(default_value = "scenarios")]
    paths: Vec<PathBuf>,
    /// Also write JUnit XML here (an invalid file is an <error>).
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Rewrite mismatched [[expect]] values with the computed ones, keeping comments: a
    /// unified diff is printed first, and each comment beside a changed value is tagged
    /// STALE HAND CALCULATION until you redo it. [[expect_stat]], [[expect_breakeven]] and
    /// [[expect_advice]] values are never rewritten.
    #[arg(long)]
    update: bool,
    /// table: the mismatches as `file:line: ...` lines and the counts; json and csv: every
    /// mismatch as data; markdown and html: a report.
    #[arg(long, value_enum, default_value = "table")]
    format: FormatArg,
}

pub fn run(args: Args) -> Result<(), Failure> {
    let files = expand(&args.paths)?;
    let (scenarios, mut invalid) = load_all(&files);
    let (checks, scenarios) = check_all(scenarios, &mut invalid);
    let mut unfixable = 0;
    if args.update {
        for (c, s) in checks.iter().zip(&scenarios) {
            if c.failed() > 0 {
                unfixable += c.failed() - update(c, s)?;
            }
        }
    }
    let stale = stale_tags(&scenarios)?;
    let report = CheckReport {
        checks: &checks,
        invalid: &invalid,
        stale: &stale,
    };
    let without = scenarios.iter().filter(|s| s.pins_nothing()).count();
    if let Some(p) = &args.junit {
        write_file(p, junit(&report).as_bytes()).map_err(bad)?;
    }
    let format: Format = args.format.into();
    print!("{}", report.doc(without).render(format, terminal_width()));
    // After --update the tags it just wrote are expected: they fail the next check.
    let failed = if args.update {
        unfixable
    } else {
        report.failed() + stale.len()
    };
    if !invalid.is_empty() {
        Err(Failure::Reported)
    } else if failed > 0 {
        Err(Failure::Mismatch)
    } else {
        Ok(())
    }
}

/// Every file loaded, or rendered as an error and counted invalid.
fn load_all(files: &[PathBuf]) -> (Vec<Scenario>, Vec<InvalidFile>) {
    let mut scenarios = Vec::new();
    let mut invalid = Vec::new();
    for f in files {
        let loaded = match kind_of(f) {
            FileKind::PricingBook => load_book(f).map(|_| None),
            FileKind::Scenario => load(f).map(Some),
            // A profile pins nothing: validated only, as a pricing book is.
            FileKind::Profile => creditsim::input::profile::load(f).map(|_| None),
            FileKind::Segments => creditsim::input::segments::load(f).map(|_| None),
        };
        match loaded {
            Ok(Some(s)) => scenarios.push(s),
            Ok(None) => {}
            Err(e) => {
                eprintln!("{}", e.render());
                invalid.push(InvalidFile {
                    path: f.clone(),
                    message: e.to_string(),
                });
            }
        }
    }
    (scenarios, invalid)
}

/// Checks every scenario. A run that stops at a limit is the file's fault, like an invalid
/// value: it is counted invalid, and only the scenarios that ran are returned beside their
/// checks.
fn check_all(
    scenarios: Vec<Scenario>,
    invalid: &mut Vec<InvalidFile>,
) -> (Vec<ScenarioCheck>, Vec<Scenario>) {
    let mut checks = Vec::new();
    let mut checked = Vec::new();
    for s in scenarios {
        match check_scenario(&s) {
            Ok(c) => {
                checks.push(c);
                checked.push(s);
            }
            Err(message) => {
                let message = format!("{}: {message}", s.path.display());
                eprintln!("error: {message}");
                invalid.push(InvalidFile {
                    path: s.path.clone(),
                    message,
                });
            }
        }
    }
    (checks, checked)
}

/// `--update` for one file: prints the diff, writes the file; returns the values changed.
fn update(check: &ScenarioCheck, scenario: &Scenario) -> Result<usize, Failure> {
    let Some(r) = rewrite(check, &scenario.case.book).map_err(bad)? else {
        return Ok(0);
    };
    let shown = check.path.display().to_string();
    print!(
        "{}",
        similar::TextDiff::from_lines(&r.before, &r.after)
            .unified_diff()
            .header(&shown, &shown)
    );
    write_file(&check.path, r.after.as_bytes()).map_err(bad)?;
    println!("updated {} expected value(s) in {shown}", r.changed);
    for field in &r.stale_comments {
        println!("{shown}: the comment beside {field} is tagged STALE HAND CALCULATION: redo it");
    }
    Ok(r.changed)
}

/// Every line of the scenario files that carries the stale tag.
fn stale_tags(scenarios: &[Scenario]) -> Result<Vec<StaleLine>, Failure> {
    let mut stale = Vec::new();
    for s in scenarios {
        let text = read(&s.path)?;
        stale.extend(stale_lines(&text).into_iter().map(|line| StaleLine {
            path: s.path.clone(),
            line,
        }));
    }
    Ok(stale)
}

fn read(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path)
        .map_err(|e| bad(format_args!("{}: cannot read: {e}", path.display())))
}
