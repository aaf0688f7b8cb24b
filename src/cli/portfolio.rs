//! `creditsim portfolio`: every workspace of a trace under every strategy.

use super::trace::TraceArgs;
use super::{bad, threads_within, Failure};
use creditsim::analysis::portfolio::{run as replay_members, summarise};
use creditsim::input::files::write_atomically;
use creditsim::input::scenario::load_portfolio;
use creditsim::report::portfolio_out as output;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Scenario file: pricing book, horizon, strategies, and the default workspace.
    scenario: PathBuf,
    #[command(flatten)]
    trace: TraceArgs,
    /// Accounts table (CSV: workspace, created, and optionally plan, seats); without it
    /// every workspace is set up like the scenario's [workspace].
    #[arg(long)]
    accounts: Option<PathBuf>,
    /// Write the table here: .parquet or .csv (atomically).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Worker threads (default: one per core). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// The summary as a table or JSON.
    #[arg(long, value_enum, default_value = "table")]
    format: SummaryFormat,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum SummaryFormat {
    Table,
    Json,
}

pub fn run(args: Args) -> Result<(), Failure> {
    let overrides = args.trace.overrides(None)?;
    let threads = threads_within(args.threads)?;
    let parquet = match &args.out {
        None => None,
        Some(p) => match p.extension().and_then(|e| e.to_str()) {
            Some("parquet") => Some(true),
            Some("csv") => Some(false),
            _ => {
                return Err(bad(format_args!(
                    "{}: --out must end in .parquet or .csv",
                    p.display()
                )))
            }
        },
    };
    let portfolio = load_portfolio(&args.scenario, &overrides, args.accounts.as_deref())?;
    for line in portfolio.import.lines() {
        eprintln!("{line}");
    }
    let case = &portfolio.scenario.case;
    let results = replay_members(&case.book, case.horizon.end, &portfolio.members, threads);
    let summary = summarise(&results, case.strategies.len());
    if let (Some(file), Some(parquet)) = (&args.out, parquet) {
        let frame = output::frame(&portfolio, &results);
        let bytes = if parquet {
            creditsim::report::tables::to_parquet(frame)
        } else {
            output::to_csv(frame)
        };
        write_atomically(file, &bytes).map_err(bad)?;
    }
    match args.format {
        SummaryFormat::Table => print!("{}", output::summary_text(&portfolio, &summary)),
        SummaryFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&output::summary_json(&portfolio, &summary))
                .expect("JSON values serialise")
        ),
    }
    Ok(())
}
