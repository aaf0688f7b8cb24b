//! The `creditsim` command: parses arguments, calls the library, prints, and is the only
//! place that decides the process's exit code (0 ok, 1 expectation mismatch, 2 bad input).

use clap::{Parser, Subcommand};
use creditsim::check::{check_scenario, run, update_file, ScenarioCheck};
use creditsim::diag::InputError;
use creditsim::files::{expand, kind_of, write_atomically, FileKind};
use creditsim::report::{junit, mismatch_lines, replay_text, Format};
use creditsim::scenario::{load, load_book};
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
        /// Also write summary.json into this folder (created if missing).
        #[arg(long)]
        out: Option<PathBuf>,
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Replay {
            scenario,
            strategy,
            format,
            out,
        } => replay_command(scenario, strategy, format, out),
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
    }
}

fn bad_input(e: &InputError) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(2)
}

fn replay_command(
    path: PathBuf,
    strategy: Option<String>,
    format: Format,
    out: Option<PathBuf>,
) -> ExitCode {
    if path.is_file() && kind_of(&path) == FileKind::PricingBook {
        eprintln!(
            "error: {}: this is a pricing book, not a scenario: name it in a scenario's \
             scenario.pricing_book (see scenarios/README.md)",
            path.display()
        );
        return ExitCode::from(2);
    }
    let scenario = match load(&path) {
        Ok(s) => s,
        Err(e) => return bad_input(&e),
    };
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
                eprintln!(
                    "error: {}: no strategy named \"{name}\" (known: {})",
                    path.display(),
                    known.join(", ")
                );
                return ExitCode::from(2);
            }
        },
    };
    let outcomes = run(&scenario);
    let text = replay_text(&scenario, &outcomes, only, format);
    match out {
        None => print!("{text}"),
        Some(file) => {
            if let Err(e) = write_atomically(&file, text.as_bytes()) {
                eprintln!("error: {e}");
                return ExitCode::from(2);
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
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            }
        }
    }
    let passed: usize = checks.iter().map(|c| c.passed()).sum();
    let failed: usize = checks.iter().map(|c| c.failed()).sum();
    let without = scenarios
        .iter()
        .filter(|s| {
            s.expectations.is_empty()
                && s.simulation
                    .as_ref()
                    .is_none_or(|m| m.expectations.is_empty())
        })
        .count();
    println!(
        "checked {} scenario file(s) ({} without expectations)",
        scenarios.len(),
        without
    );
    println!("{passed} passed, {failed} failed");
    if let Some(p) = junit_path {
        if let Err(e) = write_atomically(&p, junit(&checks).as_bytes()) {
            eprintln!("error: {e}");
            return ExitCode::from(2);
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
                format!(
                    "scenario \"{}\": {} usage event(s), {} strategy(ies), {} expectation block(s)",
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
    let scenario = match load(&path) {
        Ok(s) => s,
        Err(e) => return bad_input(&e),
    };
    let Some(spec) = &scenario.simulation else {
        eprintln!(
            "error: {}: no [simulation] section: nothing to simulate (see scenarios/README.md)",
            path.display()
        );
        return ExitCode::from(2);
    };
    let paths = paths.unwrap_or(spec.paths);
    if paths == 0 || paths > PATHS_MAX {
        eprintln!("error: --paths must be 1-{PATHS_MAX}");
        return ExitCode::from(2);
    }
    if threads == Some(0) {
        eprintln!("error: --threads must be at least 1");
        return ExitCode::from(2);
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
                "{bar:40} {pos}/{len} paths {per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let results = simulate(&scenario, &spec.model, config, &|n| bar.inc(n));
    bar.finish_and_clear();
    let summary = summarise(&scenario, config, spec.baseline, &results);
    if let Some(dir) = out {
        if let Err(e) = std::fs::create_dir_all(&dir) {
            eprintln!("error: {}: cannot create: {e}", dir.display());
            return ExitCode::from(2);
        }
        let json = creditsim::report::simulate_json(&scenario, &summary);
        let text = serde_json::to_string_pretty(&json).expect("JSON values serialise") + "\n";
        if let Err(e) = write_atomically(&dir.join("summary.json"), text.as_bytes()) {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    }
    print!(
        "{}",
        creditsim::report::simulate_text(&scenario, &summary, format)
    );
    ExitCode::SUCCESS
}
