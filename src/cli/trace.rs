//! `creditsim trace generate`, and the trace flags `replay` and `portfolio` share.

use super::{bad, load_simulation, Failure};
use creditsim::analysis::montecarlo::PATHS_MAX;
use creditsim::input::scenario::TraceOverrides;
use creditsim::report::trace_generate::{generate, GenerateConfig, ROWS_PER_DAY_MAX};
use std::path::PathBuf;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Write a synthetic trace (CSV or Parquet, by extension) from the scenario's
    /// [simulation] usage model: workspace k's usage is Monte Carlo path k (same seed).
    Generate(GenerateArgs),
}

#[derive(clap::Args)]
#[command(after_help = "Examples:
  creditsim trace generate scenarios/examples/steady-inference.toml --out /tmp/one.csv
  creditsim trace generate scenarios/examples/portfolio.toml --out /tmp/base.parquet --workspaces 20 --rows-per-day 4")]
pub struct GenerateArgs {
    /// Scenario file with a [simulation] section.
    scenario: PathBuf,
    /// The trace to write: .csv or .parquet.
    #[arg(long)]
    out: PathBuf,
    /// Workspaces (paths) to write; with more than one the trace has a workspace column.
    #[arg(long, default_value_t = 1)]
    workspaces: u32,
    /// Rows each metric's daily quantity is split into, at random times of the day.
    #[arg(long, default_value_t = 1)]
    rows_per_day: u32,
    /// Master seed (default: the scenario's).
    #[arg(long)]
    seed: Option<u64>,
}

pub fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Generate(args) => generate_command(args),
    }
}

fn generate_command(args: GenerateArgs) -> Result<(), Failure> {
    let path = &args.scenario;
    let scenario = load_simulation(path, "no usage model to generate from")?;
    let spec = scenario
        .simulation
        .as_ref()
        .expect("load_simulation checked it");
    if spec.model.bootstrap.is_some() {
        return Err(bad(format_args!(
            "{}: trace generate draws from [[simulation.model]]; this scenario resamples a history (its trace is already one)",
            path.display()
        )));
    }
    if args.workspaces == 0 || args.workspaces > PATHS_MAX {
        return Err(bad(format_args!("--workspaces must be 1-{PATHS_MAX}")));
    }
    if args.rows_per_day == 0 || args.rows_per_day > ROWS_PER_DAY_MAX {
        return Err(bad(format_args!(
            "--rows-per-day must be 1-{ROWS_PER_DAY_MAX}"
        )));
    }
    let config = GenerateConfig {
        workspaces: args.workspaces,
        rows_per_day: args.rows_per_day,
        seed: args.seed.unwrap_or(spec.seed),
    };
    let mut provenance = super::provenance_of(&scenario);
    provenance.push("seed", config.seed.to_string());
    provenance.push("workspaces", args.workspaces.to_string());
    let rows = generate(&scenario, &spec.model, config, &args.out, &provenance).map_err(bad)?;
    eprintln!(
        "{}: {rows} rows, {} workspace(s), seed {}",
        args.out.display(),
        args.workspaces,
        config.seed
    );
    Ok(())
}

/// Where usage comes from when it is a trace, and how to read it.
#[derive(clap::Args, Default)]
pub struct TraceArgs {
    /// Usage from this trace (CSV or Parquet event log, or a folder of them, one workspace per
    /// file) instead of the scenario's usage.
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Map a column of the trace: timestamp=NAME, metric=NAME, quantity=NAME or
    /// workspace=NAME (repeatable).
    #[arg(long = "column", value_name = "ROLE=NAME")]
    columns: Vec<String>,
    /// "iso" (default), "unix", "unix_ms", or a strftime pattern like "%d/%m/%Y %H:%M".
    #[arg(long)]
    timestamp_format: Option<String>,
    /// Zone of timestamps written without an offset: UTC (default), an offset like +09:00
    /// (-12:00 to +14:00), or an IANA name like Asia/Tokyo.
    #[arg(long)]
    timezone: Option<String>,
    /// "event" (every row at its instant, the default) or "day" (rows summed per day).
    #[arg(long)]
    resolution: Option<String>,
    /// Field delimiter of a CSV trace (default ",").
    #[arg(long)]
    delimiter: Option<char>,
    /// Skip invalid rows instead of failing, and report how many and which.
    #[arg(long)]
    skip_invalid: bool,
}

impl TraceArgs {
    pub fn overrides(&self, only_workspace: Option<String>) -> Result<TraceOverrides, Failure> {
        let mut o = TraceOverrides {
            file: self.trace.clone(),
            timestamp_format: self.timestamp_format.clone(),
            timezone: self.timezone.clone(),
            resolution: self.resolution.clone(),
            delimiter: self.delimiter,
            skip_invalid: self.skip_invalid,
            only_workspace,
            ..TraceOverrides::default()
        };
        for c in &self.columns {
            let Some((role, name)) = c.split_once('=') else {
                return Err(bad(format_args!(
                    "--column {c}: expected ROLE=NAME, like timestamp=event_time"
                )));
            };
            let slot = match role {
                "timestamp" => &mut o.timestamp,
                "metric" => &mut o.metric,
                "quantity" => &mut o.quantity,
                "workspace" => &mut o.workspace,
                _ => {
                    return Err(bad(format_args!(
                        "--column {c}: unknown role \"{role}\" (known: timestamp, metric, quantity, workspace)"
                    )))
                }
            };
            *slot = Some(name.to_string());
        }
        Ok(o)
    }
}
