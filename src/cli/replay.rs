//! `creditsim replay`: one scenario's usage under each strategy, with statements.

use super::trace::TraceArgs;
use super::{bad, Failure, ReportArgs};
use creditsim::engine::ledger::{Line, Outcome};
use creditsim::engine::replay::{replay_logged, ReplayError};
use creditsim::input::check::run as replay_all;
use creditsim::input::files::{kind_of, FileKind};
use creditsim::input::scenario::{load_with, load_workspace, Scenario};
use creditsim::report::doc::Block;
use creditsim::report::output::{create_beside, persist};
use creditsim::report::replay::replay_doc;
use creditsim::report::replay::{charge_csv_row, CHARGES_CSV_HEADER};
use std::io::Write as _;
use std::path::{Path, PathBuf};

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
    /// Also write every charge, as the ledger makes it, to this CSV (strategy, at, kind,
    /// item, quantity, credits, money): the detail that statement lines sum per item and
    /// period. Streamed to the file, not kept in memory; written only if the replay succeeds.
    #[arg(long, value_name = "FILE.csv")]
    charges: Option<PathBuf>,
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
    let outcomes = match &args.charges {
        None => replay_all(&scenario),
        Some(csv) => replay_with_charges(&scenario, csv)?,
    }
    .map_err(|e| bad(format_args!("{}: {e}", path.display())))?;
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

/// Every strategy replayed with its charges streamed to `csv` (a temporary file beside it,
/// renamed into place only when every replay finished). The outer error is the file's.
fn replay_with_charges(
    scenario: &Scenario,
    csv: &Path,
) -> Result<Result<Vec<Outcome>, ReplayError>, Failure> {
    let file = create_beside(csv).map_err(bad)?;
    let mut out = std::io::BufWriter::new(file);
    let mut written = out.write_all(CHARGES_CSV_HEADER.as_bytes());
    let case = &scenario.case;
    let mut outcomes = Vec::new();
    for s in &case.strategies {
        let mut log = |line: &Line| {
            if written.is_ok() {
                written = out.write_all(charge_csv_row(scenario, &s.name, line).as_bytes());
            }
        };
        let end = case.horizon.end;
        match replay_logged(
            &case.book,
            case.workspace,
            end,
            scenario.usage.iter(),
            s,
            &mut log,
        ) {
            Ok(o) => outcomes.push(o),
            Err(e) => return Ok(Err(e)), // the temporary file goes with `out`
        }
    }
    let failed = |e: std::io::Error| bad(format_args!("{}: cannot write: {e}", csv.display()));
    written.map_err(failed)?;
    let file = out.into_inner().map_err(|e| failed(e.into_error()))?;
    persist(file, csv).map_err(bad)?;
    Ok(Ok(outcomes))
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
