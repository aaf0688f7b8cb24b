//! `creditsim validate`: loads files without running them.

use super::Failure;
use creditsim::input::files::{expand, kind_of, FileKind};
use creditsim::input::scenario::{load, load_book, Scenario};
use std::path::PathBuf;

#[derive(clap::Args)]
#[command(after_help = "Examples:
  creditsim validate scenarios/
  creditsim validate scenarios/pricing/credits-book.toml my-scenario.toml")]
pub struct Args {
    /// Scenario and pricing-book files, or folders (searched for *.toml).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

pub fn run(args: Args) -> Result<(), Failure> {
    let files = expand(&args.paths)?;
    let mut bad_files = 0;
    for f in &files {
        let result = match kind_of(f) {
            FileKind::PricingBook => load_book(f).map(|b| format!("pricing book \"{}\"", b.name)),
            FileKind::Scenario => load(f).map(|s| describe(&s)),
            FileKind::Profile => creditsim::input::profile::load(f).map(|p| {
                format!(
                    "customer profile of \"{}\" as {}; {}",
                    p.customer,
                    describe(&p.scenario),
                    p.reading
                )
            }),
            FileKind::Segments => creditsim::input::segments::load(f).map(|s| {
                format!(
                    "customer segments \"{}\": {} segment(s), {} simulated customers each",
                    s.name,
                    s.segments.len(),
                    s.paths
                )
            }),
        };
        match result {
            Ok(what) => println!("ok: {}: {what}", f.display()),
            Err(e) => {
                eprintln!("{}", e.render());
                bad_files += 1;
            }
        }
    }
    if bad_files > 0 {
        eprintln!("{bad_files} of {} file(s) invalid", files.len());
        return Err(Failure::Reported);
    }
    Ok(())
}

/// One line on what a valid scenario holds.
fn describe(s: &Scenario) -> String {
    let simulation = s.simulation.as_ref().map_or(String::new(), |sim| {
        let draws = match &sim.model.bootstrap {
            Some(b) => format!(
                "a bootstrap of {} history days in blocks of {}",
                b.days.len(),
                b.block_days
            ),
            None => format!("a simulation of {} metric(s)", sim.model.metrics.len()),
        };
        format!(
            ", {draws} over {} paths with {} statistic expectation(s)",
            sim.paths,
            sim.expectations.len()
        )
    });
    format!(
        "scenario \"{}\": {} usage event(s), {} strategy(ies), {} expectation block(s){simulation}",
        s.name,
        s.usage.len(),
        s.case.strategies.len(),
        s.expectations.len()
    )
}
