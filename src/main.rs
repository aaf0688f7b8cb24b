//! The `creditsim` command: parses arguments, calls the library, prints, and is the only
//! place that decides the process's exit code (0 ok, 1 expectation mismatch, 2 bad input).

use clap::{Parser, Subcommand};
use creditsim::check::{check_scenario, run, update_file, ScenarioCheck};
use creditsim::files::{expand, kind_of, write_atomically, FileKind};
use creditsim::report::{junit, mismatch_lines, replay_text, Format};
use creditsim::scenario::{load, load_book, load_with, TraceOverrides};
use std::path::PathBuf;
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
    Replay {
        /// Scenario file (TOML).
        scenario: PathBuf,
        /// Only this strategy (default: all, side by side).
        #[arg(long)]
        strategy: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
        /// Write the report to this file (atomically) instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        trace: TraceArgs,
        /// Replay only this workspace of a trace with a workspace column.
        #[arg(long)]
        workspace: Option<String>,
    },
    /// Replay every workspace of a trace under every strategy: one row per workspace and
    /// strategy (Parquet or CSV) and a portfolio summary on stdout.
    Portfolio {
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
    },
    /// Usage traces: write synthetic ones.
    Trace {
        #[command(subcommand)]
        command: TraceCommand,
    },
    /// Monte Carlo: draw usage paths from the scenario's [simulation] models, replay every
    /// strategy on each, and report the distribution of cost.
    Simulate {
        /// Scenario file with a [simulation] section.
        scenario: PathBuf,
        /// Number of paths (default: the scenario's, else 1000).
        #[arg(long)]
        paths: Option<u32>,
        /// Master seed (default: the scenario's, else 1).
        #[arg(long)]
        seed: Option<u64>,
        /// Worker threads (default: one per core). Results do not depend on it.
        #[arg(long)]
        threads: Option<usize>,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
        /// Also write summary.json, paths.parquet, fan.parquet and the charts
        /// (cost-distribution and cost-fan, PNG and SVG) into this folder (created if missing).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Time a simulation against the floor of drawing its usage alone, per thread count;
    /// report wall time, paths per second and peak memory. See README, "Performance".
    Bench {
        /// Scenario file with a [simulation] section (the reference workload is
        /// scenarios/bench/reference.toml).
        scenario: PathBuf,
        /// Number of paths (default: the scenario's).
        #[arg(long)]
        paths: Option<u32>,
        /// Thread counts to measure, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "1,2")]
        threads: Vec<usize>,
        /// Runs of each measurement; the fastest is reported (the least disturbed by
        /// whatever else the machine is doing).
        #[arg(long, default_value_t = 3)]
        repeat: u32,
        /// Instead of a simulation, time importing this trace (CSV or Parquet) and replaying
        /// every workspace under the scenario's strategies, against polars reading the file
        /// alone (see README, "Performance").
        #[arg(long)]
        trace: Option<PathBuf>,
        /// With --trace: "event" (default) or "day".
        #[arg(long)]
        resolution: Option<String>,
    },
    /// Evaluate every [[expect]] block; print mismatches and "N passed, M failed".
    Check {
        /// Scenario files or folders (searched for *.toml).
        #[arg(default_value = "scenarios")]
        paths: Vec<PathBuf>,
        /// Also write JUnit XML here.
        #[arg(long)]
        junit: Option<PathBuf>,
        /// Rewrite mismatched expected values with the computed ones, keeping comments.
        #[arg(long)]
        update: bool,
    },
    /// Load and validate scenario and pricing-book files without running them.
    Validate {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

#[derive(Subcommand)]
enum TraceCommand {
    /// Write a synthetic trace (CSV or Parquet, by extension) from the scenario's
    /// [simulation] usage model: workspace k's usage is Monte Carlo path k (same seed).
    Generate {
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
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum SummaryFormat {
    Table,
    Json,
}

/// Where usage comes from when it is a trace, and how to read it.
#[derive(clap::Args, Default)]
struct TraceArgs {
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
    /// Zone of timestamps written without an offset: UTC (default), +09:00, Asia/Tokyo.
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
    fn overrides(&self, only_workspace: Option<String>) -> Result<TraceOverrides, String> {
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
                return Err(format!(
                    "--column {c}: expected ROLE=NAME, like timestamp=event_time"
                ));
            };
            let slot = match role {
                "timestamp" => &mut o.timestamp,
                "metric" => &mut o.metric,
                "quantity" => &mut o.quantity,
                "workspace" => &mut o.workspace,
                _ => {
                    return Err(format!(
                        "--column {c}: unknown role \"{role}\" (known: timestamp, metric, quantity, workspace)"
                    ))
                }
            };
            *slot = Some(name.to_string());
        }
        Ok(o)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Replay {
            scenario,
            strategy,
            format,
            out,
            trace,
            workspace,
        } => match trace.overrides(workspace) {
            Ok(o) => replay_command(scenario, strategy, format, out, &o),
            Err(e) => bad_input(e),
        },
        Command::Portfolio {
            scenario,
            trace,
            accounts,
            out,
            threads,
            format,
        } => match trace.overrides(None) {
            Ok(o) => portfolio_command(&scenario, &o, accounts.as_deref(), out, threads, format),
            Err(e) => bad_input(e),
        },
        Command::Trace {
            command:
                TraceCommand::Generate {
                    scenario,
                    out,
                    workspaces,
                    rows_per_day,
                    seed,
                },
        } => generate_command(&scenario, &out, workspaces, rows_per_day, seed),
        Command::Check {
            paths,
            junit,
            update,
        } => check_command(&paths, junit, update),
        Command::Validate { paths } => validate_command(&paths),
        Command::Simulate {
            scenario,
            paths,
            seed,
            threads,
            format,
            out,
        } => simulate_command(scenario, paths, seed, threads, format, out),
        Command::Bench {
            scenario,
            repeat,
            trace: Some(trace),
            resolution,
            ..
        } => trace_bench_command(&scenario, &trace, resolution, repeat),
        Command::Bench {
            scenario,
            paths,
            threads,
            repeat,
            trace: None,
            ..
        } => bench_command(scenario, paths, &threads, repeat),
    }
}

/// Loads a scenario that must have a `[simulation]` section; `nothing` says what is then
/// missing.
fn load_simulation(
    path: &std::path::Path,
    nothing: &str,
) -> Result<creditsim::scenario::Scenario, ExitCode> {
    let scenario = load(path).map_err(|e| bad_input(&e))?;
    if scenario.simulation.is_none() {
        return Err(bad_input(format_args!(
            "{}: no [simulation] section: {nothing}",
            path.display()
        )));
    }
    Ok(scenario)
}

/// Reports invalid input (exit 2): the one place that prints "error: ".
fn bad_input(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(2)
}

fn replay_command(
    path: PathBuf,
    strategy: Option<String>,
    format: Format,
    out: Option<PathBuf>,
    overrides: &TraceOverrides,
) -> ExitCode {
    if path.is_file() && kind_of(&path) == FileKind::PricingBook {
        return bad_input(format_args!(
            "{}: this is a pricing book, not a scenario: name it in a scenario's \
             scenario.pricing_book (see scenarios/README.md)",
            path.display()
        ));
    }
    let scenario = match load_with(&path, overrides) {
        Ok(s) => s,
        Err(e) => return bad_input(&e),
    };
    if let Some(report) = &scenario.import {
        for line in report.lines() {
            eprintln!("{line}");
        }
    }
    let only = match strategy {
        None => None,
        Some(name) => match scenario.strategies.iter().position(|s| s.name == name) {
            Some(i) => Some(i),
            None => {
                let known: Vec<&str> = scenario
                    .strategies
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect();
                return bad_input(format_args!(
                    "{}: no strategy named \"{name}\" (known: {})",
                    path.display(),
                    known.join(", ")
                ));
            }
        },
    };
    let outcomes = run(&scenario);
    let text = replay_text(&scenario, &outcomes, only, format);
    match out {
        None => print!("{text}"),
        Some(file) => {
            if let Err(e) = write_atomically(&file, text.as_bytes()) {
                return bad_input(e);
            }
        }
    }
    ExitCode::SUCCESS
}

fn check_command(paths: &[PathBuf], junit_path: Option<PathBuf>, update: bool) -> ExitCode {
    let files = match expand(paths) {
        Ok(f) => f,
        Err(e) => return bad_input(&e),
    };
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
        return ExitCode::from(2);
    }
    let checks: Vec<ScenarioCheck> = scenarios.iter().map(check_scenario).collect();
    let mut unfixable = 0;
    for (c, s) in checks.iter().zip(&scenarios) {
        for line in mismatch_lines(c) {
            println!("{line}");
        }
        if update && c.failed() > 0 {
            match update_file(c, &s.book) {
                Ok(n) => {
                    println!("updated {n} expected value(s) in {}", c.path.display());
                    unfixable += c.failed() - n;
                }
                Err(e) => {
                    return bad_input(e);
                }
            }
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
    if let Some(p) = junit_path {
        if let Err(e) = write_atomically(&p, junit(&checks).as_bytes()) {
            return bad_input(e);
        }
    }
    let remaining = if update { unfixable } else { failed };
    if remaining > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn validate_command(paths: &[PathBuf]) -> ExitCode {
    let files = match expand(paths) {
        Ok(f) => f,
        Err(e) => return bad_input(&e),
    };
    let mut bad = 0;
    for f in &files {
        let result = match kind_of(f) {
            FileKind::PricingBook => load_book(f).map(|b| format!("pricing book \"{}\"", b.name)),
            FileKind::Scenario => load(f).map(|s| {
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
                    s.strategies.len(),
                    s.expectations.len()
                )
            }),
        };
        match result {
            Ok(what) => println!("ok: {}: {what}", f.display()),
            Err(e) => {
                eprintln!("error: {e}");
                bad += 1;
            }
        }
    }
    if bad > 0 {
        eprintln!("{bad} of {} file(s) invalid", files.len());
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

fn simulate_command(
    path: PathBuf,
    paths: Option<u32>,
    seed: Option<u64>,
    threads: Option<usize>,
    format: Format,
    out: Option<PathBuf>,
) -> ExitCode {
    use creditsim::sim::{simulate, summarise, SimConfig, PATHS_MAX};
    use std::io::IsTerminal;
    let scenario = match load_simulation(&path, "nothing to simulate (see scenarios/README.md)") {
        Ok(s) => s,
        Err(code) => return code,
    };
    let spec = scenario
        .simulation
        .as_ref()
        .expect("load_simulation checked it");
    let paths = paths.unwrap_or(spec.paths);
    if paths == 0 || paths > PATHS_MAX {
        return bad_input(format_args!("--paths must be 1-{PATHS_MAX}"));
    }
    if threads == Some(0) {
        return bad_input("--threads must be at least 1");
    }
    let config = SimConfig {
        paths,
        seed: seed.unwrap_or(spec.seed),
        threads,
    };
    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(u64::from(paths));
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} paths, {elapsed} elapsed, eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let results = simulate(&scenario, &spec.model, config, &|n| bar.inc(n));
    bar.finish_and_clear();
    let summary = summarise(&scenario, config, spec.comparison(), &results);
    if let Some(dir) = out {
        if let Err(code) = write_simulation_files(&dir, &scenario, &summary, &results) {
            return code;
        }
    }
    print!(
        "{}",
        creditsim::report::simulate_text(&scenario, &summary, format)
    );
    ExitCode::SUCCESS
}

/// `simulate --out DIR`: every file is rendered in memory first, then each is written
/// atomically, so a failure leaves no half-written file.
fn write_simulation_files(
    dir: &std::path::Path,
    scenario: &creditsim::scenario::Scenario,
    summary: &creditsim::sim::Summary,
    results: &[creditsim::sim::PathResult],
) -> Result<(), ExitCode> {
    use creditsim::report::{charts, simulate_json, tables};
    let json = simulate_json(scenario, summary);
    let mut files: Vec<(String, Vec<u8>)> = vec![
        (
            "summary.json".into(),
            (serde_json::to_string_pretty(&json).expect("JSON values serialise") + "\n")
                .into_bytes(),
        ),
        (
            "paths.parquet".into(),
            tables::paths_parquet(scenario, summary, results),
        ),
        ("fan.parquet".into(), tables::fan_parquet(scenario, summary)),
    ];
    let rendered = charts::charts(scenario, summary, results)
        .map_err(|e| bad_input(format_args!("drawing charts: {e}")))?;
    for chart in rendered {
        files.push((format!("{}.png", chart.name), chart.png));
        files.push((format!("{}.svg", chart.name), chart.svg.into_bytes()));
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| bad_input(format_args!("{}: cannot create: {e}", dir.display())))?;
    for (name, bytes) in &files {
        write_atomically(&dir.join(name), bytes).map_err(bad_input)?;
    }
    Ok(())
}

/// Starts measuring the peak resident memory afresh (Linux: resets VmHWM); false where
/// that is not possible, and then the peak is the process's so far.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Peak resident memory of this process so far, in KiB (Linux; `None` elsewhere).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn bench_command(path: PathBuf, paths: Option<u32>, threads: &[usize], repeat: u32) -> ExitCode {
    use creditsim::sim::{draw_only, simulate, summarise, SimConfig, PATHS_MAX};
    use std::time::Instant;
    let scenario = match load_simulation(&path, "nothing to benchmark") {
        Ok(s) => s,
        Err(code) => return code,
    };
    let spec = scenario
        .simulation
        .as_ref()
        .expect("load_simulation checked it");
    let paths = paths.unwrap_or(spec.paths);
    if paths == 0 || paths > PATHS_MAX || threads.contains(&0) || repeat == 0 {
        return bad_input(format_args!(
            "--paths must be 1-{PATHS_MAX}, every --threads and --repeat at least 1"
        ));
    }
    println!(
        "{}: {} paths x {} days x {} metrics x {} strategies",
        scenario.name,
        paths,
        (scenario.horizon.end - scenario.workspace.anchor).num_days(),
        spec.model.metrics.len(),
        scenario.strategies.len()
    );
    println!(
        "fastest of {repeat} run(s) each; a full run is simulate's draw, replay and statistics"
    );
    println!("threads  draw only (s)  full run (s)  paths/s  full / draw");
    let mut full_seconds = Vec::new();
    for &t in threads {
        let config = SimConfig {
            paths,
            seed: spec.seed,
            threads: Some(t),
        };
        let (mut draw, mut full) = (f64::INFINITY, f64::INFINITY);
        for _ in 0..repeat {
            let started = Instant::now();
            let demanded = draw_only(&scenario, &spec.model, config);
            draw = draw.min(started.elapsed().as_secs_f64());
            let started = Instant::now();
            let results = simulate(&scenario, &spec.model, config, &|_| {});
            let summary = summarise(&scenario, config, spec.comparison(), &results);
            full = full.min(started.elapsed().as_secs_f64());
            // Both drew the same usage: the floor measured the same draws.
            let replayed: creditsim::amounts::Credits = results.iter().map(|r| r.demanded).sum();
            assert_eq!(
                demanded, replayed,
                "draw-only and full runs drew the same usage"
            );
            drop(results);
            std::hint::black_box(summary);
        }
        println!(
            "{t:>7}  {draw:>13.2}  {full:>12.2}  {:>7.0}  {:>11.2}",
            f64::from(paths) / full,
            full / draw
        );
        full_seconds.push((t, full));
    }
    if let [(t1, s1), .., (tn, sn)] = full_seconds[..] {
        println!(
            "speed-up from {t1} to {tn} threads: {:.2}x (linear: {:.2}x)",
            s1 / sn,
            tn as f64 / t1 as f64
        );
    }
    match peak_rss_kib() {
        Some(k) => println!("peak resident memory: {} MiB", k / 1024),
        None => println!("peak resident memory: not available on this platform"),
    }
    ExitCode::SUCCESS
}

fn portfolio_command(
    path: &std::path::Path,
    overrides: &TraceOverrides,
    accounts: Option<&std::path::Path>,
    out: Option<PathBuf>,
    threads: Option<usize>,
    format: SummaryFormat,
) -> ExitCode {
    use creditsim::report::portfolio as output;
    if threads == Some(0) {
        return bad_input("--threads must be at least 1");
    }
    let kind = match &out {
        None => None,
        Some(p) => match p.extension().and_then(|e| e.to_str()) {
            Some("parquet") => Some(true),
            Some("csv") => Some(false),
            _ => {
                return bad_input(format_args!(
                    "{}: --out must end in .parquet or .csv",
                    p.display()
                ))
            }
        },
    };
    let portfolio = match creditsim::scenario::load_portfolio(path, overrides, accounts) {
        Ok(p) => p,
        Err(e) => return bad_input(&e),
    };
    for line in portfolio.import.lines() {
        eprintln!("{line}");
    }
    let results = creditsim::portfolio::run(&portfolio, threads);
    let summary = creditsim::portfolio::summarise(&results, portfolio.scenario.strategies.len());
    if let (Some(file), Some(parquet)) = (&out, kind) {
        let frame = output::frame(&portfolio, &results);
        let bytes = if parquet {
            creditsim::report::tables::to_parquet(frame)
        } else {
            output::to_csv(frame)
        };
        if let Err(e) = write_atomically(file, &bytes) {
            return bad_input(e);
        }
    }
    match format {
        SummaryFormat::Table => print!("{}", output::summary_text(&portfolio, &summary)),
        SummaryFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&output::summary_json(&portfolio, &summary))
                .expect("JSON values serialise")
        ),
    }
    ExitCode::SUCCESS
}

fn generate_command(
    path: &std::path::Path,
    out: &std::path::Path,
    workspaces: u32,
    rows_per_day: u32,
    seed: Option<u64>,
) -> ExitCode {
    use creditsim::sim::PATHS_MAX;
    use creditsim::trace::generate::{generate, GenerateConfig, ROWS_PER_DAY_MAX};
    let scenario = match load_simulation(path, "no usage model to generate from") {
        Ok(s) => s,
        Err(code) => return code,
    };
    let spec = scenario
        .simulation
        .as_ref()
        .expect("load_simulation checked it");
    if spec.model.bootstrap.is_some() {
        return bad_input(format_args!(
            "{}: trace generate draws from [[simulation.model]]; this scenario resamples a history (its trace is already one)",
            path.display()
        ));
    }
    if workspaces == 0 || workspaces > PATHS_MAX {
        return bad_input(format_args!("--workspaces must be 1-{PATHS_MAX}"));
    }
    if rows_per_day == 0 || rows_per_day > ROWS_PER_DAY_MAX {
        return bad_input(format_args!("--rows-per-day must be 1-{ROWS_PER_DAY_MAX}"));
    }
    let config = GenerateConfig {
        workspaces,
        rows_per_day,
        seed: seed.unwrap_or(spec.seed),
    };
    match generate(&scenario, &spec.model, config, out) {
        Ok(rows) => {
            eprintln!(
                "{}: {rows} rows, {workspaces} workspace(s), seed {}",
                out.display(),
                config.seed
            );
            ExitCode::SUCCESS
        }
        Err(e) => bad_input(e),
    }
}

fn trace_bench_command(
    path: &std::path::Path,
    trace: &std::path::Path,
    resolution: Option<String>,
    repeat: u32,
) -> ExitCode {
    use polars::prelude::{CsvReadOptions, ParquetReader, SerReader};
    use std::time::Instant;
    if repeat == 0 {
        return bad_input("--repeat must be at least 1");
    }
    let overrides = TraceOverrides {
        file: Some(trace.to_path_buf()),
        resolution,
        ..TraceOverrides::default()
    };
    let is_parquet = trace.extension().is_some_and(|e| e == "parquet");
    let mib = |k: Option<u64>| k.map_or("n/a".to_string(), |k| format!("{} MiB", k / 1024));
    // The two runs alternate, so a machine that slows down or speeds up (a shared one does)
    // slows both alike. creditsim's peak memory is taken from its first run, before polars
    // has left memory to the allocator.
    let (mut full_s, mut full_peak) = (f64::INFINITY, None);
    let (mut read_s, mut read_peak, mut read_rows) = (f64::INFINITY, None, 0);
    let mut last = None;
    for round in 0..repeat {
        reset_peak_rss();
        let started = Instant::now();
        let portfolio = match creditsim::scenario::load_portfolio(path, &overrides, None) {
            Ok(p) => p,
            Err(e) => return bad_input(&e),
        };
        let results = creditsim::portfolio::run(&portfolio, None);
        let summary =
            creditsim::portfolio::summarise(&results, portfolio.scenario.strategies.len());
        full_s = full_s.min(started.elapsed().as_secs_f64());
        if round == 0 {
            full_peak = peak_rss_kib();
        }
        last = Some((
            portfolio.import.clone(),
            portfolio.members.len(),
            portfolio.scenario.strategies.len(),
        ));
        std::hint::black_box(summary);
        drop(results);
        drop(portfolio);
        // polars reading the whole file into a frame with the types it infers: the floor.
        reset_peak_rss();
        let started = Instant::now();
        let frame = if is_parquet {
            std::fs::File::open(trace)
                .map_err(|e| e.to_string())
                .and_then(|f| ParquetReader::new(f).finish().map_err(|e| e.to_string()))
        } else {
            CsvReadOptions::default()
                .with_has_header(true)
                .try_into_reader_with_file_path(Some(trace.to_path_buf()))
                .and_then(|r| r.finish())
                .map_err(|e| e.to_string())
        };
        let frame = match frame {
            Ok(f) => f,
            Err(e) => return bad_input(format_args!("{}: {e}", trace.display())),
        };
        read_s = read_s.min(started.elapsed().as_secs_f64());
        read_rows = frame.height();
        drop(frame);
        read_peak = read_peak.max(peak_rss_kib());
    }
    let (report, workspaces, strategies) = last.expect("at least one run");
    assert_eq!(report.rows as usize, read_rows, "both read every row");
    println!(
        "{}: {} rows, {} workspaces, {} strategies, {} resolution ({} usage events)",
        trace.display(),
        report.rows,
        workspaces,
        strategies,
        report.resolution.name(),
        report.events
    );
    println!(
        "fastest of {repeat} run(s) each, alternating, {} threads",
        rayon::current_num_threads()
    );
    println!("                              wall (s)   rows/s       peak memory");
    println!(
        "polars read alone           {read_s:>10.2}   {:>10.0}   {}",
        read_rows as f64 / read_s,
        mib(read_peak)
    );
    println!(
        "import + replay (creditsim) {full_s:>10.2}   {:>10.0}   {}",
        report.rows as f64 / full_s,
        mib(full_peak)
    );
    println!("ratio to the read alone: {:.2}", full_s / read_s);
    ExitCode::SUCCESS
}
