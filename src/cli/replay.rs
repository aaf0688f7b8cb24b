//! `creditsim replay`: one scenario's usage under each strategy, with statements.

use super::trace::TraceArgs;
use super::{bad, Failure, ReportArgs};
use creditsim::input::check::run as replay_all;
use creditsim::input::files::{kind_of, FileKind};
use creditsim::input::scenario::{load_with, load_workspace, Scenario};
use creditsim::report::doc::Block;
use creditsim::report::replay::replay_doc;
use std::path::PathBuf;

#[derive(clap::Args)]
#[command(after_help = "Examples:
  creditsim replay scenarios/examples/inference-quarter.toml
  creditsim replay scenarios/examples/inference-quarter.toml --format html --out /tmp/quarter
  creditsim replay SCENARIO.toml --trace export.csv --column timestamp=event_time
  creditsim replay scenarios/examples/portfolio.toml --trace notebooks-data/traces/portfolio.parquet --workspace ws-007 --accounts notebooks-data/accounts.csv")]
pub struct Args {
    /// Scenario file (TOML).
    scenario: PathBuf,
    /// Only this strategy (default: all, side by side).
    #[arg(long)]
    strategy: Option<String>,
    #[command(flatten)]
    report: ReportArgs,
    #[command(flatten)]
    trace: TraceArgs,
    /// Replay only this workspace of a trace with a workspace column.
    #[arg(long)]
    workspace: Option<String>,
    /// With --workspace: the accounts table (CSV: workspace, created, and optionally plan,
    /// seats) that sets the workspace up, so its cohort comes from its creation date, as in
    /// `portfolio`.
    #[arg(long, value_name = "FILE", requires = "workspace")]
    accounts: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<(), Failure> {
    let overrides = args.trace.overrides(args.workspace.clone())?;
    let path = args.scenario;
    if path.is_file() && kind_of(&path) == FileKind::PricingBook {
        return Err(bad(format_args!(
            "{}: this is a pricing book, not a scenario: name it in a scenario's \
             scenario.pricing_book (see scenarios/README.md)",
            path.display()
        )));
    }
    let scenario = match (&args.accounts, &args.workspace) {
        (Some(accounts), Some(id)) => load_workspace(&path, &overrides, accounts, id)?,
        _ => load_with(&path, &overrides)?,
    };
    if let Some(report) = &scenario.import {
        for line in report.lines() {
            eprintln!("{line}");
        }
    }
    if scenario.usage.is_empty() && scenario.simulation.is_some() {
        return Err(bad(format_args!(
            "{}: no usage events to replay; its [simulation] section draws usage: run `creditsim simulate {}`",
            path.display(),
            path.display()
        )));
    }
    let only = strategy_index(&scenario, args.strategy.as_deref())?;
    let outcomes =
        replay_all(&scenario).map_err(|e| bad(format_args!("{}: {e}", path.display())))?;
    let mut doc = replay_doc(&scenario, &outcomes, only);
    if scenario.usage.is_empty() {
        doc.blocks.insert(
            0,
            Block::Note("the scenario has no usage events: every cost here is plan fees and purchases alone".into()),
        );
    }
    doc.set_provenance(&super::provenance_of(&scenario));
    args.report.emit(&doc, Vec::new())
}

/// `--strategy NAME` as an index, or an error listing the known names.
fn strategy_index(scenario: &Scenario, name: Option<&str>) -> Result<Option<usize>, Failure> {
    let Some(name) = name else { return Ok(None) };
    let strategies = &scenario.case.strategies;
    match strategies.iter().position(|s| s.name == name) {
        Some(i) => Ok(Some(i)),
        None => {
            let known: Vec<&str> = strategies.iter().map(|s| s.name.as_str()).collect();
            Err(bad(format_args!(
                "{}: no strategy named \"{name}\" (known: {})",
                scenario.path.display(),
                known.join(", ")
            )))
        }
    }
}
