//! `creditsim simulate`: Monte Carlo over the scenario's usage models.

use super::{bad, load_simulation, provenance_of, Failure, FormatArg, ReportArgs};
use creditsim::analysis::montecarlo::{simulate, summarise, PathResult, Summary};
use creditsim::input::scenario::Scenario;
use creditsim::report::charts::Rendered;
use creditsim::report::doc::Chart;
use creditsim::report::provenance::Provenance;
use creditsim::report::simulate::simulate_doc;
use creditsim::report::{charts, tables};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(clap::Args)]
#[command(after_help = "Examples:
  creditsim simulate scenarios/examples/steady-inference.toml
  creditsim simulate scenarios/examples/growing-team.toml --paths 5000 --seed 7 --out /tmp/growing
  creditsim simulate scenarios/examples/bursty-training.toml --format html > bursty.html")]
pub struct Args {
    /// Scenario file with a [simulation] section.
    scenario: PathBuf,
    /// Number of paths (default: the scenario's, else 1000).
    #[arg(long)]
    paths: Option<u32>,
    /// Master seed (default: the scenario's, else 1). Path i draws from (seed, i) alone.
    #[arg(long)]
    seed: Option<u64>,
    #[command(flatten)]
    report: ReportArgs,
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
    let config = super::sim_config(spec, args.paths, args.seed, args.report.threads())?;
    let paths = config.paths;
    let bar = progress_bar(paths);
    let results = simulate(&scenario.case, &spec.model, config, &|n| bar.inc(n));
    bar.finish_and_clear();
    let results = results.map_err(|e| bad(format_args!("{}: {e}", scenario.path.display())))?;
    let summary = summarise(&scenario.case, config, spec.comparison(), &results);
    let mut provenance = provenance_of(&scenario);
    provenance.push("seed", config.seed.to_string());
    provenance.push("paths", paths.to_string());
    let wants_charts = args.report.out.is_some() || args.report.format == FormatArg::Html;
    let rendered = if wants_charts {
        charts::charts(&scenario, &summary, &results.paths)
            .map_err(|e| bad(format_args!("drawing charts: {e}")))?
    } else {
        Vec::new()
    };
    let inline: Vec<Chart> = rendered.iter().map(Rendered::inline).collect();
    let mut doc = simulate_doc(&scenario, &summary, inline);
    doc.set_provenance(&provenance);
    let files = if args.report.out.is_some() {
        output_files(&scenario, &summary, &results.paths, rendered, &provenance)
    } else {
        Vec::new()
    };
    args.report.emit(&doc, files)
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

/// `--out DIR`'s tables and charts (the report and summaries are added by `emit`).
fn output_files(
    scenario: &Scenario,
    summary: &Summary,
    results: &[PathResult],
    rendered: Vec<charts::Rendered>,
    provenance: &Provenance,
) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = vec![
        (
            "paths.parquet".into(),
            tables::paths_parquet(scenario, summary, results, provenance),
        ),
        (
            "fan.parquet".into(),
            tables::fan_parquet(scenario, summary, provenance),
        ),
    ];
    files.extend(super::chart_files(rendered));
    files
}
