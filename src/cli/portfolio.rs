//! `creditsim portfolio`: every workspace of a trace under every strategy.

use super::trace::TraceArgs;
use super::{bad, provenance_of, Failure, ReportArgs};
use creditsim::analysis::portfolio::{run as replay_members, summarise};
use creditsim::input::scenario::load_portfolio;
use creditsim::report::portfolio_out as output;
use creditsim::report::tables::to_parquet;
use std::path::PathBuf;

#[derive(clap::Args)]
#[command(after_help = "Examples:
  creditsim portfolio scenarios/examples/portfolio.toml --trace notebooks-data/traces/portfolio.parquet --accounts notebooks-data/accounts.csv
  creditsim portfolio scenarios/examples/portfolio.toml --trace exports/ --out /tmp/portfolio --format json")]
pub struct Args {
    /// Scenario file: pricing book, horizon, strategies, and the default workspace.
    scenario: PathBuf,
    #[command(flatten)]
    trace: TraceArgs,
    /// Accounts table (CSV: workspace, created, and optionally plan, seats); without it
    /// every workspace is set up like the scenario's [workspace].
    #[arg(long)]
    accounts: Option<PathBuf>,
    /// With --out: the folder also gets workspaces.parquet and workspaces.csv, one row per
    /// workspace and strategy.
    #[command(flatten)]
    report: ReportArgs,
}

pub fn run(args: Args) -> Result<(), Failure> {
    let overrides = args.trace.overrides(None)?;
    let portfolio = load_portfolio(&args.scenario, &overrides, args.accounts.as_deref())?;
    for line in portfolio.import.lines() {
        eprintln!("{line}");
    }
    let case = &portfolio.scenario.case;
    let results = replay_members(
        &case.book,
        case.horizon.end,
        &portfolio.members,
        args.report.threads(),
    )
    .map_err(|e| bad(format_args!("{}: {e}", args.scenario.display())))?;
    let summary = summarise(&results, case.strategies.len());
    let mut provenance = provenance_of(&portfolio.scenario);
    provenance.push("trace", portfolio.import.path.display().to_string());
    if let Some(a) = &args.accounts {
        provenance.push("accounts", a.display().to_string());
    }
    let mut doc = output::summary_doc(&portfolio, &summary);
    doc.set_provenance(&provenance);
    let mut files = Vec::new();
    if args.report.out.is_some() {
        let frame = output::frame(&portfolio, &results);
        files.push(("workspaces.csv".to_string(), output::to_csv(frame.clone())));
        files.push((
            "workspaces.parquet".to_string(),
            to_parquet(frame, &provenance),
        ));
    }
    args.report.emit(&doc, files)
}
