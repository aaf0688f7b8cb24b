//! `creditsim simulate`: Monte Carlo over the scenario's usage models.

use super::{bad, load_simulation, threads_within, Failure, FormatArg};
use creditsim::analysis::montecarlo::{
    simulate, summarise, PathResult, SimConfig, Summary, PATHS_MAX,
};
use creditsim::input::files::write_atomically;
use creditsim::input::scenario::Scenario;
use creditsim::report::{charts, simulate_json, simulate_text, tables};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
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
    format: FormatArg,
    /// Also write summary.json, paths.parquet, fan.parquet and the charts
    /// (cost-distribution and cost-fan, PNG and SVG) into this folder (created if missing).
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<(), Failure> {
    let scenario = load_simulation(
        &args.scenario,
        "nothing to simulate (see scenarios/README.md)",
    )?;
    let spec = scenario
        .simulation
        .as_ref()
        .expect("load_simulation checked it");
    let paths = args.paths.unwrap_or(spec.paths);
    if paths == 0 || paths > PATHS_MAX {
        return Err(bad(format_args!("--paths must be 1-{PATHS_MAX}")));
    }
    let config = SimConfig {
        paths,
        seed: args.seed.unwrap_or(spec.seed),
        threads: threads_within(args.threads)?,
    };
    let bar = progress_bar(paths);
    let results = simulate(&scenario.case, &spec.model, config, &|n| bar.inc(n));
    bar.finish_and_clear();
    let summary = summarise(&scenario.case, config, spec.comparison(), &results);
    if let Some(dir) = args.out {
        write_simulation_files(&dir, &scenario, &summary, &results)?;
    }
    print!("{}", simulate_text(&scenario, &summary, args.format.into()));
    Ok(())
}

/// A progress bar on a terminal's stderr; hidden otherwise (pipes, CI logs).
fn progress_bar(paths: u32) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(u64::from(paths));
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} paths, {elapsed} elapsed, eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// `simulate --out DIR`: every file is rendered in memory first, then each is written
/// atomically, so a failure leaves no half-written file.
fn write_simulation_files(
    dir: &Path,
    scenario: &Scenario,
    summary: &Summary,
    results: &[PathResult],
) -> Result<(), Failure> {
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
        .map_err(|e| bad(format_args!("drawing charts: {e}")))?;
    for chart in rendered {
        files.push((format!("{}.png", chart.name), chart.png));
        files.push((format!("{}.svg", chart.name), chart.svg.into_bytes()));
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| bad(format_args!("{}: cannot create: {e}", dir.display())))?;
    for (name, bytes) in &files {
        write_atomically(&dir.join(name), bytes).map_err(bad)?;
    }
    Ok(())
}
