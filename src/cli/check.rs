//! `creditsim check`: every `[[expect]]` and `[[expect_stat]]` of the scenario files found.

use super::{bad, Failure};
use creditsim::input::check::{check_scenario, update_file, ScenarioCheck};
use creditsim::input::files::write_atomically;
use creditsim::input::files::{expand, kind_of, FileKind};
use creditsim::input::scenario::{load, load_book};
use creditsim::report::{junit, mismatch_lines};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Scenario files or folders (searched for *.toml).
    #[arg(default_value = "scenarios")]
    paths: Vec<PathBuf>,
    /// Also write JUnit XML here.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Rewrite mismatched expected values with the computed ones, keeping comments.
    #[arg(long)]
    update: bool,
}

pub fn run(args: Args) -> Result<(), Failure> {
    let files = expand(&args.paths)?;
    // Load everything first: with any invalid file nothing runs and nothing is written.
    let mut scenarios = Vec::new();
    let mut errors = Vec::new();
    for f in &files {
        match kind_of(f) {
            FileKind::PricingBook => {
                if let Err(e) = load_book(f) {
                    errors.push(e);
                }
            }
            FileKind::Scenario => match load(f) {
                Ok(s) => scenarios.push(s),
                Err(e) => errors.push(e),
            },
        }
    }
    if !errors.is_empty() {
        for e in &errors {
            eprintln!("error: {e}");
        }
        eprintln!("{} invalid file(s); nothing was checked", errors.len());
        return Err(Failure::Reported);
    }
    let checks: Vec<ScenarioCheck> = scenarios.iter().map(check_scenario).collect();
    let mut unfixable = 0;
    for (c, s) in checks.iter().zip(&scenarios) {
        for line in mismatch_lines(c) {
            println!("{line}");
        }
        if args.update && c.failed() > 0 {
            let n = update_file(c, &s.case.book).map_err(bad)?;
            println!("updated {n} expected value(s) in {}", c.path.display());
            unfixable += c.failed() - n;
        }
    }
    let passed: usize = checks.iter().map(|c| c.passed()).sum();
    let failed: usize = checks.iter().map(|c| c.failed()).sum();
    let without = scenarios.iter().filter(|s| s.pins_nothing()).count();
    println!(
        "checked {} scenario file(s) ({} without expectations)",
        scenarios.len(),
        without
    );
    println!("{passed} passed, {failed} failed");
    if let Some(p) = args.junit {
        write_atomically(&p, junit(&checks).as_bytes()).map_err(bad)?;
    }
    let remaining = if args.update { unfixable } else { failed };
    if remaining > 0 {
        return Err(Failure::Mismatch);
    }
    Ok(())
}
