//! `creditsim impact`: what candidate pricing books do to each customer of a portfolio and
//! to revenue, keeping their setups and moving to their cheapest (`analysis::impact`).

use super::trace::TraceArgs;
use super::{bad, provenance_of_inputs, Failure, ReportArgs};
use creditsim::analysis::impact::{impact, SEARCH_DEFAULT};
use creditsim::input::impact::{load_impact, ImpactFiles};
use creditsim::report::impact::impact_doc;
use creditsim::report::impact_charts::CANDIDATE_BOOKS_MAX;
use creditsim::report::impact_out::{customers_frame, revenue_frame};
use creditsim::report::portfolio_out::to_csv;
use creditsim::report::tables::to_parquet;
use std::path::PathBuf;

#[derive(clap::Args)]
#[command(
    after_help = "Each customer's current setup is the scenario's first strategy (or --current) on
their own plan and seats from the accounts table. Plans, cohorts and bundles carry over
to a candidate book by name; a migration table renames them:

  [plans]
  \"core-monthly\" = \"starter-monthly\"
  [cohorts]
  \"before-2026-03-28\" = \"legacy\"
  [bundles]                        # in every cohort
  \"b40\" = \"b50\"

Examples:
  creditsim impact scenarios/examples/portfolio.toml --after scenarios/pricing/credits-book-2027.toml --trace notebooks-data/traces/portfolio.parquet --accounts notebooks-data/accounts.csv
  creditsim impact scenarios/examples/portfolio.toml --after A.toml --after B.toml --trace T.parquet --accounts accounts.csv --out /tmp/impact"
)]
pub struct Args {
    /// Scenario: horizon, strategies, the default workspace, and the trace ([usage.trace] or
    /// --trace); or a segments file (customer profiles and how many customers each stands
    /// for, see scenarios/segments/customer-mix.toml).
    scenario: PathBuf,
    /// Candidate pricing book (repeatable, up to 8: every candidate against the same
    /// baseline, on the same usage).
    #[arg(long = "after", value_name = "BOOK", required = true)]
    after: Vec<PathBuf>,
    /// Today's pricing book (default: the scenario's).
    #[arg(long, value_name = "BOOK")]
    before: Option<PathBuf>,
    /// Migration table (TOML): once for every candidate book, or once per --after in order.
    #[arg(long = "migration", value_name = "FILE")]
    migration: Vec<PathBuf>,
    /// The scenario's strategy that is every customer's current setup (default: the first).
    #[arg(long, value_name = "STRATEGY")]
    current: Option<String>,
    /// Most setups tried per customer and book when re-optimising.
    #[arg(long, default_value_t = SEARCH_DEFAULT, value_parser = clap::value_parser!(u32).range(1..=1000))]
    search: u32,
    #[command(flatten)]
    trace: TraceArgs,
    /// Accounts table (CSV: workspace, created, and optionally plan, seats).
    #[arg(long)]
    accounts: Option<PathBuf>,
    /// With --out: the folder also gets customers.parquet (one row per customer, book and
    /// view), revenue.parquet (per book, view and month), their CSV, and the charts.
    #[command(flatten)]
    report: ReportArgs,
}

pub fn run(args: Args) -> Result<(), Failure> {
    if args.after.len() > CANDIDATE_BOOKS_MAX {
        return Err(bad(format_args!(
            "{} candidate books: at most {CANDIDATE_BOOKS_MAX} in one run",
            args.after.len()
        )));
    }
    let overrides = args.trace.overrides(None)?;
    let loaded = load_impact(&ImpactFiles {
        scenario: &args.scenario,
        overrides: &overrides,
        accounts: args.accounts.as_deref(),
        current_book: args.before.as_deref(),
        candidate_books: &args.after,
        migrations: &args.migration,
        current_strategy: args.current.as_deref(),
        search_max: args.search as usize,
    })?;
    if let Some(import) = &loaded.import {
        for line in import.lines() {
            eprintln!("{line}");
        }
    }
    let results = impact(&loaded.input, args.report.threads())
        .map_err(|e| bad(format_args!("{}: {e}", args.scenario.display())))?;
    let mut provenance = provenance_of_inputs(&loaded.inputs);
    if let Some(import) = &loaded.import {
        provenance.push("trace", import.path.display().to_string());
    }
    if let Some(a) = &args.accounts {
        provenance.push("accounts", a.display().to_string());
    }
    let (mut doc, charts) = impact_doc(&loaded, &results).map_err(bad)?;
    doc.set_provenance(&provenance);
    let mut files = Vec::new();
    if args.report.out.is_some() {
        let book_files = book_files(&loaded, &args);
        let customers = customers_frame(&loaded, &results, &book_files);
        let revenue = revenue_frame(&loaded, &results, &book_files).map_err(bad)?;
        files.push(("customers.csv".to_string(), to_csv(customers.clone())));
        files.push((
            "customers.parquet".to_string(),
            to_parquet(customers, &provenance),
        ));
        files.push(("revenue.csv".to_string(), to_csv(revenue.clone())));
        files.push((
            "revenue.parquet".to_string(),
            to_parquet(revenue, &provenance),
        ));
        files.extend(super::chart_files(charts));
    }
    args.report.emit(&doc, files)
}

/// The file of each book, today's first, as the tables name them.
fn book_files(loaded: &creditsim::input::impact::LoadedImpact, args: &Args) -> Vec<String> {
    let current = (loaded.inputs.iter())
        .find(|i| i.role == "pricing book")
        .map_or_else(
            || args.scenario.display().to_string(),
            |i| i.path.display().to_string(),
        );
    std::iter::once(current)
        .chain(args.after.iter().map(|p| p.display().to_string()))
        .collect()
}
