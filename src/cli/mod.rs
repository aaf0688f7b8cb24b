//! The command line: clap lives here and nowhere else. Each command is a module with its
//! arguments and a `run` that returns `Result<(), Failure>`; `main` turns a `Failure` into
//! the exit code (0 ok, 1 expectation mismatch, 2 invalid input) and is the one place that
//! prints "error: ".

mod advise;
mod bench;
mod breakeven;
mod check;
mod docs;
mod floor;
mod impact;
mod portfolio;
mod quote;
mod replay;
mod sensitivity;
mod simulate;
mod trace;
mod validate;

use clap::{Parser, Subcommand};
use creditsim::input::scenario::{load, Scenario};
use creditsim::model::diag::InputError;
use creditsim::report::output::write_set;
use creditsim::report::provenance::Provenance;
use creditsim::report::text::terminal_width;
use creditsim::report::{Doc, Format};
use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "creditsim",
    version,
    about = "Exact simulation and pricing analysis for credit-based billing",
    long_about = "Replays usage through the billing rules (included credits, then prepaid lots, then \
                  flex) under several strategies and reports exact costs.\n\n\
                  Exit codes: 0 success, 1 an expectation did not match (check), 2 invalid input."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Replay a scenario's usage under each strategy and report costs and statements.
    Replay(replay::Args),
    /// Replay every workspace of a trace under every strategy: a portfolio summary, and
    /// with --out one row per workspace and strategy (Parquet and CSV).
    Portfolio(portfolio::Args),
    /// What candidate pricing books do to each customer of a portfolio and to revenue, in
    /// two views (customers keep their setups; customers move to their cheapest): revenue
    /// by kind and month, the change in each bill, the largest movers, refused usage.
    Impact(impact::Args),
    /// Usage traces: write synthetic ones.
    Trace {
        #[command(subcommand)]
        command: trace::Command,
    },
    /// Monte Carlo: draw usage paths from the scenario's [simulation] models, replay every
    /// strategy on each, and report the distribution of cost.
    Simulate(simulate::Args),
    /// Sweep steady usage per month and find every level where the cheapest choice
    /// (scenario strategies, book plans, bundle top-ups) changes, exactly, in economic cost
    /// and in cash.
    Breakeven(breakeven::Args),
    /// Recommend a setup: candidates generated from the pricing book (plans, bundles at
    /// start, top-ups, the vendor's rule, upgrades) raced on the scenario's simulated usage,
    /// the best against the current setup with its saving and confidence.
    Advise(advise::Args),
    /// A one-page cost estimate for a customer profile: the recommendation with its expected
    /// cost and range, the alternatives, charts, payback and assumptions (text, Markdown,
    /// HTML with an optional usage slider, or PDF; English or Japanese).
    Quote(quote::Args),
    /// One parameter at a time (flex price, bundle discounts, included credits, plan fees,
    /// usage, growth, volatility) over a low and a high change, on the same simulated usage:
    /// a tornado of the recommended setup's cost, and where the recommendation changes.
    Sensitivity(sensitivity::Args),
    /// Time a simulation against the floor of drawing its usage alone, per thread count;
    /// report wall time, paths per second and peak memory. See README, "Performance".
    Bench(bench::Args),
    /// Evaluate every [[expect]] block; print mismatches and "N passed, M failed".
    Check(check::Args),
    /// Load and validate scenario and pricing-book files without running them.
    Validate(validate::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(docs::CompletionsArgs),
    /// Print the man page, or write one per command into a folder.
    Man(docs::ManArgs),
}

/// Why a command did not succeed.
#[derive(Debug)]
pub enum Failure {
    /// An expectation did not match (exit 1); the command has already said which.
    Mismatch,
    /// Invalid input (exit 2): the report is printed as it is ("error: ..." and, for a
    /// scenario file, the offending line).
    BadInput(String),
    /// Invalid input already reported by the command (exit 2).
    Reported,
}

/// Invalid input with one message.
pub fn bad(message: impl Display) -> Failure {
    Failure::BadInput(format!("error: {message}"))
}

impl From<InputError> for Failure {
    fn from(e: InputError) -> Failure {
        Failure::BadInput(e.render())
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Replay(args) => replay::run(args),
        Command::Portfolio(args) => portfolio::run(args),
        Command::Impact(args) => impact::run(args),
        Command::Trace { command } => trace::run(command),
        Command::Check(args) => check::run(args),
        Command::Validate(args) => validate::run(args),
        Command::Simulate(args) => simulate::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Breakeven(args) => breakeven::run(args),
        Command::Advise(args) => advise::run(args),
        Command::Quote(args) => quote::run(args),
        Command::Sensitivity(args) => sensitivity::run(args),
        Command::Completions(args) => docs::completions(args),
        Command::Man(args) => docs::man(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Mismatch) => ExitCode::from(1),
        Err(Failure::Reported) => ExitCode::from(2),
        Err(Failure::BadInput(report)) => {
            eprintln!("{report}");
            ExitCode::from(2)
        }
    }
}

/// A scenario file, or a customer profile as the scenario it reads into.
fn load_scenario_or_profile(path: &Path) -> Result<Scenario, Failure> {
    use creditsim::input::files::{kind_of, FileKind};
    Ok(match kind_of(path) {
        FileKind::Profile => creditsim::input::profile::load(path)?.scenario,
        _ => load(path)?,
    })
}

/// Loads a scenario that must have a `[simulation]` section; `nothing` says what is then
/// missing.
fn load_simulation(path: &Path, nothing: &str) -> Result<Scenario, Failure> {
    let scenario = load_scenario_or_profile(path)?;
    if scenario.simulation.is_none() {
        return Err(bad(format_args!(
            "{}: no [simulation] section: {nothing}",
            path.display()
        )));
    }
    Ok(scenario)
}

/// The simulation `--paths`, `--seed` and `--threads` ask for, the scenario's `spec` filling
/// what they leave out.
fn sim_config(
    spec: &creditsim::input::simulation::SimulationSpec,
    paths: Option<u32>,
    seed: Option<u64>,
    threads: Option<usize>,
) -> Result<creditsim::analysis::montecarlo::SimConfig, Failure> {
    use creditsim::analysis::montecarlo::PATHS_MAX;
    let paths = paths.unwrap_or(spec.paths);
    if paths == 0 || paths > PATHS_MAX {
        return Err(bad(format_args!("--paths must be 1-{PATHS_MAX}")));
    }
    Ok(creditsim::analysis::montecarlo::SimConfig {
        paths,
        seed: seed.unwrap_or(spec.seed),
        threads,
    })
}

/// The report formats, as flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FormatArg {
    /// Text for a terminal, tables fitted to its width (100 columns when not a terminal).
    Table,
    Markdown,
    /// One self-contained page (inline CSS and charts; nothing fetched).
    Html,
    /// The full result, amounts as exact decimal strings.
    Json,
    /// One tidy table: one row per observation.
    Csv,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Table => Format::Table,
            FormatArg::Markdown => Format::Markdown,
            FormatArg::Html => Format::Html,
            FormatArg::Json => Format::Json,
            FormatArg::Csv => Format::Csv,
        }
    }
}

/// Most worker threads `--threads` accepts.
const THREADS_MAX: u16 = 256;

/// The flags every analysis command shares, with one meaning everywhere.
#[derive(clap::Args)]
struct ReportArgs {
    /// What stdout gets.
    #[arg(long, value_enum, default_value = "table")]
    format: FormatArg,
    /// Also write the whole result into this folder: report.html, summary.json, summary.csv
    /// and the command's tables and charts. The set appears whole (an earlier run's set in
    /// the folder is replaced as a whole; a folder holding other files is refused).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Worker threads (default: one per core). Results never depend on it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=i64::from(THREADS_MAX)))]
    threads: Option<u16>,
}

impl ReportArgs {
    fn threads(&self) -> Option<usize> {
        self.threads.map(usize::from)
    }

    /// Writes the `--out` set (the document's renderings and `files`), then prints the
    /// document in `--format`: on any error nothing is printed and no set is left.
    fn emit(&self, doc: &Doc, mut files: Vec<(String, Vec<u8>)>) -> Result<(), Failure> {
        if let Some(dir) = &self.out {
            for (name, format) in [
                ("report.html", Format::Html),
                ("summary.json", Format::Json),
                ("summary.csv", Format::Csv),
            ] {
                files.push((name.to_string(), doc.render(format, 0).into_bytes()));
            }
            write_set(dir, &files).map_err(bad)?;
        }
        print!("{}", doc.render(self.format.into(), terminal_width()));
        Ok(())
    }
}

/// The command line as given (the program as `creditsim`, wherever it was run from), for
/// provenance: arguments with spaces or quotes are quoted.
pub(super) fn command_line() -> String {
    std::iter::once("creditsim".to_string())
        .chain(std::env::args().skip(1))
        .map(|a| {
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || "'\"\\$`".contains(c)) {
                format!("'{}'", a.replace('\'', "'\\''"))
            } else {
                a
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a scenario's results came from: this command line and the scenario's input files.
fn provenance_of(scenario: &Scenario) -> Provenance {
    provenance_of_inputs(&scenario.inputs)
}

/// Each chart as the two files `--out` writes: NAME.png and NAME.svg.
fn chart_files(
    charts: Vec<creditsim::report::charts::Rendered>,
) -> impl Iterator<Item = (String, Vec<u8>)> {
    charts.into_iter().flat_map(|c| {
        [
            (format!("{}.png", c.name), c.png),
            (format!("{}.svg", c.name), c.svg.into_bytes()),
        ]
    })
}

/// This command line and the input files read, with their SHA-256.
fn provenance_of_inputs(inputs: &[creditsim::input::scenario::InputFile]) -> Provenance {
    let mut p = Provenance::new(&command_line());
    for input in inputs {
        p.input(&input.role, &input.path, &input.sha256);
    }
    p
}
