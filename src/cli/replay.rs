//! `creditsim replay`: one scenario's usage under each strategy, with statements.

use super::trace::TraceArgs;
use super::{bad, Failure, FormatArg};
use creditsim::input::check::run as replay_all;
use creditsim::input::files::write_atomically;
use creditsim::input::files::{kind_of, FileKind};
use creditsim::input::scenario::load_with;
use creditsim::report::replay_text;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Scenario file (TOML).
    scenario: PathBuf,
    /// Only this strategy (default: all, side by side).
    #[arg(long)]
    strategy: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    format: FormatArg,
    /// Write the report to this file (atomically) instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    trace: TraceArgs,
    /// Replay only this workspace of a trace with a workspace column.
    #[arg(long)]
    workspace: Option<String>,
}

pub fn run(args: Args) -> Result<(), Failure> {
    let overrides = args.trace.overrides(args.workspace)?;
    let path = args.scenario;
    if path.is_file() && kind_of(&path) == FileKind::PricingBook {
        return Err(bad(format_args!(
            "{}: this is a pricing book, not a scenario: name it in a scenario's \
             scenario.pricing_book (see scenarios/README.md)",
            path.display()
        )));
    }
    let scenario = load_with(&path, &overrides)?;
    if let Some(report) = &scenario.import {
        for line in report.lines() {
            eprintln!("{line}");
        }
    }
    let strategies = &scenario.case.strategies;
    let only = match args.strategy {
        None => None,
        Some(name) => match strategies.iter().position(|s| s.name == name) {
            Some(i) => Some(i),
            None => {
                let known: Vec<&str> = strategies.iter().map(|s| s.name.as_str()).collect();
                return Err(bad(format_args!(
                    "{}: no strategy named \"{name}\" (known: {})",
                    path.display(),
                    known.join(", ")
                )));
            }
        },
    };
    let outcomes = replay_all(&scenario);
    let text = replay_text(&scenario, &outcomes, only, args.format.into());
    match args.out {
        None => print!("{text}"),
        Some(file) => write_atomically(&file, text.as_bytes()).map_err(bad)?,
    }
    Ok(())
}
