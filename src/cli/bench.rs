//! `creditsim bench`: the benchmark harness (README, "Performance"). It times whole runs of
//! the library against a floor (drawing usage alone; polars reading a trace alone) and is
//! kept here, off every hot path of the library.

use super::{bad, floor, load_simulation, Failure};
use chrono::Datelike;
use creditsim::analysis::advise::{advise, Advice, Constraints, Goal, Objective, RaceConfig};
use creditsim::analysis::montecarlo::Measure;
use creditsim::analysis::montecarlo::{draw_only, simulate, summarise, SimConfig, PATHS_MAX};
use creditsim::analysis::portfolio;
use creditsim::input::scenario::{
    load, load_portfolio, Scenario, TraceOverrides, ADVICE_FINALISTS,
};
use creditsim::model::amounts::Credits;
use creditsim::usage::synthetic::UsageModel;
use creditsim::usage::trace::ImportReport;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(clap::Args)]
#[command(after_help = "Examples:
  creditsim bench scenarios/bench/reference.toml                       # 100,000 paths, 1 and 2 threads
  creditsim bench scenarios/bench/reference.toml --paths 10000 --threads 1,2,4 --repeat 5
  creditsim bench scenarios/bench/reference.toml --trace /tmp/trace-10m.csv --resolution day
  creditsim bench scenarios/bench/reference.toml --advise --paths 20000 --threads 2
  creditsim bench scenarios/bench/reference.toml --trace /tmp/trace-10m.csv --impact scenarios/pricing/credits-book-2027.toml")]
pub struct Args {
    /// Scenario file with a [simulation] section (the reference workload is
    /// scenarios/bench/reference.toml).
    scenario: PathBuf,
    /// Number of paths (default: the scenario's).
    #[arg(long)]
    paths: Option<u32>,
    /// Thread counts to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    threads: Vec<usize>,
    /// Rounds of measurements. A simulation bench reports each measurement's fastest round
    /// (the least disturbed by whatever else the machine is doing) and each ratio taken
    /// within a round, summarised over the rounds; the other benches the fastest.
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
    /// Instead of the simulation workload, time `advise` (the pilot draw, the candidates,
    /// their race and the finalists on every path) against one plain `simulate` of the
    /// scenario's strategies on the same paths and threads.
    #[arg(long, conflicts_with_all = ["trace", "resolution"])]
    advise: bool,
    /// With --trace: time `impact` of this candidate book on the trace (import, today's
    /// book, both views with the default search), against the plain portfolio run.
    #[arg(long, value_name = "BOOK", requires = "trace")]
    impact: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<(), Failure> {
    if args.repeat == 0 {
        return Err(bad("--repeat must be at least 1"));
    }
    match (&args.trace, &args.impact) {
        (Some(trace), Some(book)) => impact_bench(&args, trace, book),
        (Some(trace), None) => {
            trace_bench(&args.scenario, trace, args.resolution.clone(), args.repeat)
        }
        (None, _) if args.advise => advise_bench(&args),
        (None, _) => simulation_bench(&args),
    }
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

fn simulation_bench(args: &Args) -> Result<(), Failure> {
    let scenario = load_simulation(&args.scenario, "nothing to benchmark")?;
    let spec = scenario
        .simulation
        .as_ref()
        .expect("load_simulation checked it");
    let case = &scenario.case;
    let paths = args.paths.unwrap_or(spec.paths);
    if paths == 0 || paths > PATHS_MAX || args.threads.contains(&0) {
        return Err(bad(format_args!(
            "--paths must be 1-{PATHS_MAX}, every --threads and --repeat at least 1"
        )));
    }
    println!(
        "{}: {} paths x {} days x {} metrics x {} strategies",
        scenario.name,
        paths,
        (case.horizon.end - case.workspace.anchor).num_days(),
        spec.model.metrics.len(),
        case.strategies.len()
    );
    println!(
        "{} round(s); each round times, at every thread count in turn: samplers (each metric \
         drawn at its fixed daily mean by prebuilt samplers), lean floor (the model's \
         distributions, each day's mean, drawn by the leanest loop), draw (the simulation's \
         draw of the same paths: units, exact credits, events), full run (simulate's draw, \
         replay and statistics)",
        args.repeat
    );
    let rounds = time_rounds(&scenario, paths, &args.threads, args.repeat)?;
    print_fastest(&args.threads, &rounds, paths);
    print_round_by_round(&args.threads, &rounds);
    match peak_rss_kib() {
        Some(k) => println!("peak resident memory: {} MiB", k / 1024),
        None => println!("peak resident memory: not available on this platform"),
    }
    Ok(())
}

/// The seconds one round of a simulation benchmark took at one thread count.
#[derive(Debug, Clone, Copy)]
struct SimulationTimes {
    /// The two floors (`floor::samplers`, `floor::model`); `None` for a model they do not
    /// draw (a bootstrap).
    samplers: Option<f64>,
    floor: Option<f64>,
    draw: f64,
    full: f64,
}

impl SimulationTimes {
    /// Each measurement's fastest over `rounds` (the least disturbed by whatever else the
    /// machine was doing).
    fn fastest(rounds: &[SimulationTimes]) -> SimulationTimes {
        let least = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            _ => a.or(b),
        };
        let first = rounds[0];
        rounds[1..].iter().fold(first, |t, r| SimulationTimes {
            samplers: least(t.samplers, r.samplers),
            floor: least(t.floor, r.floor),
            draw: t.draw.min(r.draw),
            full: t.full.min(r.full),
        })
    }
}

/// The table of each measurement's fastest round, one row per thread count, and the full
/// run's speed-up between the first and last thread count.
fn print_fastest(threads: &[usize], rounds: &[Vec<SimulationTimes>], paths: u32) {
    println!("fastest of the rounds:");
    println!(
        "threads  samplers (s)  lean floor (s)  draw (s)  full run (s)  paths/s  \
         draw / samplers  draw / floor  full / draw"
    );
    let mut full_seconds = Vec::new();
    for (&threads, rounds) in threads.iter().zip(rounds) {
        let t = SimulationTimes::fastest(rounds);
        let seconds = |s: Option<f64>| s.map_or("n/a".into(), |s| format!("{s:.2}"));
        let ratio = |s: Option<f64>| s.map_or("n/a".into(), |s| format!("{:.2}", t.draw / s));
        println!(
            "{threads:>7}  {:>12}  {:>14}  {:>8.2}  {:>12.2}  {:>7.0}  {:>15}  {:>12}  {:>11.2}",
            seconds(t.samplers),
            seconds(t.floor),
            t.draw,
            t.full,
            f64::from(paths) / t.full,
            ratio(t.samplers),
            ratio(t.floor),
            t.full / t.draw
        );
        full_seconds.push((threads, t.full));
    }
    if let [(t1, s1), .., (tn, sn)] = full_seconds[..] {
        println!(
            "full run speed-up from {t1} to {tn} threads: {:.2}x (linear: {:.2}x)",
            s1 / sn,
            tn as f64 / t1 as f64
        );
    }
}

/// The same ratios taken within each round and summarised over the rounds (median, least,
/// most). The two sides of a ratio ran seconds apart in the same round, so a machine that
/// slows down for a while (a shared one does) slows both, where the fastest of each may come
/// from different rounds.
fn print_round_by_round(threads: &[usize], rounds: &[Vec<SimulationTimes>]) {
    println!(
        "round by round, median (least-most) of {} round(s):",
        rounds[0].len()
    );
    println!("threads  draw / floor        full / draw");
    let spread = |ratios: Vec<f64>, unit: &str| match median_and_range(ratios) {
        Some((median, least, most)) => format!("{median:.2}{unit} ({least:.2}-{most:.2}{unit})"),
        None => "n/a".to_string(),
    };
    for (&threads, rounds) in threads.iter().zip(rounds) {
        let floor = rounds
            .iter()
            .filter_map(|r| Some(r.draw / r.floor?))
            .collect();
        let full = rounds.iter().map(|r| r.full / r.draw).collect();
        println!(
            "{threads:>7}  {:<18}  {}",
            spread(floor, ""),
            spread(full, "")
        );
    }
    if let ([t1, .., tn], [r1, .., rn]) = (threads, rounds) {
        let speed_ups = r1.iter().zip(rn).map(|(a, b)| a.full / b.full).collect();
        println!(
            "full run speed-up from {t1} to {tn} threads: {}",
            spread(speed_ups, "x")
        );
    }
}

/// The median (the mean of the middle two of an even count), least and most of `values`.
fn median_and_range(mut values: Vec<f64>) -> Option<(f64, f64, f64)> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let median = (values[(n - 1) / 2] + values[n / 2]) / 2.0;
    Some((median, values[0], values[n - 1]))
}

/// Times `repeat` rounds; each round times, at every thread count in turn, the two floors,
/// the draw alone and a full run. Every measurement of a round is taken within a minute or
/// two of the others, so a machine that slows down or speeds up slows all of them alike.
/// Returns each thread count's rounds, in the order of `threads`.
fn time_rounds(
    scenario: &Scenario,
    paths: u32,
    threads: &[usize],
    repeat: u32,
) -> Result<Vec<Vec<SimulationTimes>>, Failure> {
    let mut rounds = vec![Vec::new(); threads.len()];
    for _ in 0..repeat {
        for (&threads, times) in threads.iter().zip(&mut rounds) {
            times.push(time_round(scenario, paths, threads)?);
        }
    }
    Ok(rounds)
}

/// The seconds `floor` took, `None` when the floor draws nothing.
fn timed(floor: impl FnOnce() -> Option<f64>) -> Option<f64> {
    let started = Instant::now();
    let drawn = std::hint::black_box(floor());
    let seconds = started.elapsed().as_secs_f64();
    drawn.map(|_| seconds)
}

/// One round at one thread count: the two floors, the draw alone and a full run, in turn.
fn time_round(scenario: &Scenario, paths: u32, threads: usize) -> Result<SimulationTimes, Failure> {
    let (case, spec) = (
        &scenario.case,
        scenario.simulation.as_ref().expect("checked"),
    );
    let config = SimConfig {
        paths,
        seed: spec.seed,
        threads: Some(threads),
    };
    let days = case.days();
    let first_weekday = case
        .workspace
        .anchor
        .date()
        .weekday()
        .num_days_from_monday() as usize;
    let (model, seed) = (&spec.model, spec.seed);
    let samplers = timed(|| floor::samplers(model, days, paths, seed, threads));
    let floor = timed(|| floor::model(model, first_weekday, days, paths, seed, threads));
    let started = Instant::now();
    let demanded = draw_only(case, &spec.model, config);
    let draw = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let results = simulate(case, &spec.model, config, &|_| {}).map_err(bad)?;
    let summary = summarise(case, config, spec.comparison(), &results);
    let full = started.elapsed().as_secs_f64();
    // Both drew the same usage: the draw measured the full run's draws.
    let replayed: Credits = results.paths.iter().map(|r| r.demanded).sum();
    assert_eq!(
        demanded, replayed,
        "draw-only and full runs drew the same usage"
    );
    drop(results);
    std::hint::black_box(summary);
    Ok(SimulationTimes {
        samplers,
        floor,
        draw,
        full,
    })
}

/// polars reading the whole file into a frame with the types it infers: the floor a trace
/// import is measured against.
fn polars_read_alone(trace: &Path) -> Result<polars::prelude::DataFrame, Failure> {
    use polars::prelude::{CsvReadOptions, ParquetReader, SerReader};
    let is_parquet = trace.extension().is_some_and(|e| e == "parquet");
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
    frame.map_err(|e| bad(format_args!("{}: {e}", trace.display())))
}

fn trace_bench(
    path: &Path,
    trace: &Path,
    resolution: Option<String>,
    repeat: u32,
) -> Result<(), Failure> {
    let overrides = TraceOverrides {
        file: Some(trace.to_path_buf()),
        resolution,
        ..TraceOverrides::default()
    };
    let runs = time_trace_runs(path, trace, &overrides, repeat)?;
    let mib = |k: Option<u64>| k.map_or("n/a".to_string(), |k| format!("{} MiB", k / 1024));
    let report = &runs.report;
    assert_eq!(report.rows as usize, runs.read_rows, "both read every row");
    println!(
        "{}: {} rows, {} workspaces, {} strategies, {} resolution ({} usage events)",
        trace.display(),
        report.rows,
        runs.workspaces,
        runs.strategies,
        report.resolution.name(),
        report.events
    );
    println!(
        "fastest of {repeat} run(s) each, alternating, {} threads",
        rayon::current_num_threads()
    );
    println!("                              wall (s)   rows/s       peak memory");
    println!(
        "polars read alone           {:>10.2}   {:>10.0}   {}",
        runs.read_s,
        runs.read_rows as f64 / runs.read_s,
        mib(runs.read_peak)
    );
    println!(
        "import + replay (creditsim) {:>10.2}   {:>10.0}   {}",
        runs.full_s,
        report.rows as f64 / runs.full_s,
        mib(runs.full_peak)
    );
    println!("ratio to the read alone: {:.2}", runs.full_s / runs.read_s);
    Ok(())
}

/// The fastest of a trace benchmark's runs, and what the last import read.
struct TraceRuns {
    full_s: f64,
    /// Peak memory of the first import + replay, in KiB.
    full_peak: Option<u64>,
    read_s: f64,
    /// Peak memory of the largest read alone, in KiB.
    read_peak: Option<u64>,
    read_rows: usize,
    report: ImportReport,
    workspaces: usize,
    strategies: usize,
}

/// Times `repeat` rounds of importing and replaying the trace, then polars reading it alone.
fn time_trace_runs(
    path: &Path,
    trace: &Path,
    overrides: &TraceOverrides,
    repeat: u32,
) -> Result<TraceRuns, Failure> {
    // The two runs alternate, so a machine that slows down or speeds up (a shared one does)
    // slows both alike. creditsim's peak memory is taken from its first run, before polars
    // has left memory to the allocator.
    let (mut full_s, mut full_peak) = (f64::INFINITY, None);
    let (mut read_s, mut read_peak, mut read_rows) = (f64::INFINITY, None, 0);
    let mut last = None;
    for round in 0..repeat {
        reset_peak_rss();
        let started = Instant::now();
        let loaded = load_portfolio(path, overrides, None)?;
        let case = &loaded.scenario.case;
        let results =
            portfolio::run(&case.book, case.horizon.end, &loaded.members, None).map_err(bad)?;
        let summary = portfolio::summarise(&results, case.strategies.len());
        full_s = full_s.min(started.elapsed().as_secs_f64());
        if round == 0 {
            full_peak = peak_rss_kib();
        }
        last = Some((
            loaded.import.clone(),
            loaded.members.len(),
            case.strategies.len(),
        ));
        std::hint::black_box(summary);
        drop(results);
        drop(loaded);
        reset_peak_rss();
        let started = Instant::now();
        let frame = polars_read_alone(trace)?;
        read_s = read_s.min(started.elapsed().as_secs_f64());
        read_rows = frame.height();
        drop(frame);
        read_peak = read_peak.max(peak_rss_kib());
    }
    let (report, workspaces, strategies) = last.expect("at least one run");
    Ok(TraceRuns {
        full_s,
        full_peak,
        read_s,
        read_peak,
        read_rows,
        report,
        workspaces,
        strategies,
    })
}

/// What `bench --advise` holds advise to: a search over every candidate of the book costs at
/// most this many plain simulations of the scenario (issue 13: "a few times one simulate").
const ADVISE_FLOOR: f64 = 5.0;

fn advise_bench(args: &Args) -> Result<(), Failure> {
    let scenario = load(&args.scenario)?;
    let usage = scenario
        .advice_model()
        .ok_or_else(|| bad("the horizon has no whole day to resample"))?;
    let case = &scenario.case;
    let paths = args.paths.unwrap_or(usage.paths);
    if paths == 0 || paths > PATHS_MAX || args.threads.contains(&0) {
        return Err(bad(format_args!(
            "--paths must be 1-{PATHS_MAX}, every --threads and --repeat at least 1"
        )));
    }
    println!(
        "{}: advise (mean economic cost, current setup \"{}\") against simulate, {paths} paths \
         x {} days, seed {}",
        scenario.name,
        case.strategies[usage.baseline].name,
        case.days(),
        usage.seed
    );
    println!(
        "fastest of {} run(s) each, alternating; advise: the pilot draw, the candidates, their \
         race and the finalists on every path; simulate: the scenario's {} strategies on the \
         same paths",
        args.repeat,
        case.strategies.len()
    );
    println!("threads  advise (s)  simulate (s)  advise / simulate");
    let mut advice: Option<Advice> = None;
    let mut worst: f64 = 0.0;
    for &threads in &args.threads {
        let t = time_advise(
            &scenario,
            &usage.model,
            usage.baseline,
            paths,
            usage.seed,
            threads,
            args.repeat,
        )?;
        let ratio = t.advise / t.simulate;
        worst = worst.max(ratio);
        println!(
            "{threads:>7}  {:>10.2}  {:>12.2}  {ratio:>17.2}",
            t.advise, t.simulate
        );
        same_advice(advice.as_ref(), &t.advice);
        advice = Some(t.advice);
    }
    let advice = advice.expect("at least one thread count");
    print_workload(&scenario, &advice, paths);
    let held = if worst <= ADVISE_FLOOR {
        "held"
    } else {
        "NOT held"
    };
    println!("floor: advise within {ADVISE_FLOOR}x one simulate: {held} (worst {worst:.2}x)");
    Ok(())
}

/// Same seed, same advice on any thread count and in every repeat: what advise promises,
/// checked on the benchmark's own runs.
fn same_advice(before: Option<&Advice>, now: &Advice) {
    if let Some(b) = before {
        assert_eq!(b.race, now.race, "the race is the same on every run");
        assert_eq!(
            b.recommended, now.recommended,
            "the advice is the same on every run"
        );
        assert_eq!(
            b.summary, now.summary,
            "the finalists' statistics are the same"
        );
    }
}

/// What advise did: candidates, rounds, replays of the race and of the final measurement,
/// against the replays of one simulate.
fn print_workload(scenario: &Scenario, advice: &Advice, paths: u32) {
    let rounds: Vec<String> = advice
        .race
        .rounds
        .iter()
        .map(|r| format!("{} paths: {} -> {}", r.paths, r.candidates, r.left))
        .collect();
    let finals = u64::from(advice.summary.paths) * advice.summary.strategies.len() as u64;
    let simulate = u64::from(paths) * scenario.case.strategies.len() as u64;
    println!(
        "candidates: {} (the current setup and {} from the book); pilot paths drawn: {}",
        advice.candidates.len(),
        advice.candidates.len() - 1,
        advice.pilot_paths
    );
    println!("race: {} round(s): {}", rounds.len(), rounds.join("; "));
    println!(
        "replays (one setup on one path): race {}, final measurement {} ({} setups x {} \
         paths), advise in all {}; simulate {} ({} strategies x {paths} paths)",
        advice.race.replays,
        finals,
        advice.summary.strategies.len(),
        advice.summary.paths,
        advice.race.replays + finals,
        simulate,
        scenario.case.strategies.len(),
    );
    println!(
        "recommended: \"{}\"",
        advice.candidates[advice.recommended].strategy.name
    );
}

/// The fastest of advise's and simulate's runs at one thread count, and the advice.
struct AdviseTimes {
    advise: f64,
    simulate: f64,
    advice: Advice,
}

/// Times `repeat` rounds of advise and a plain simulate, in turn, so that a machine that
/// slows down or speeds up slows both alike.
fn time_advise(
    scenario: &Scenario,
    model: &UsageModel,
    current: usize,
    paths: u32,
    seed: u64,
    threads: usize,
    repeat: u32,
) -> Result<AdviseTimes, Failure> {
    let case = &scenario.case;
    let sim = SimConfig {
        paths,
        seed,
        threads: Some(threads),
    };
    let goal = Goal {
        objective: Objective::Mean,
        measure: Measure::Economic,
    };
    let constraints = Constraints {
        max_blocked_ppm: None,
        max_upfront: None,
    };
    let config = RaceConfig::new(sim, ADVICE_FINALISTS);
    let (mut advise_s, mut simulate_s, mut last) = (f64::INFINITY, f64::INFINITY, None);
    for _ in 0..repeat {
        let started = Instant::now();
        let advice = advise(case, model, current, goal, constraints, config).map_err(bad)?;
        advise_s = advise_s.min(started.elapsed().as_secs_f64());
        same_advice(last.as_ref(), &advice);
        last = Some(advice);
        let started = Instant::now();
        let results = simulate(case, model, sim, &|_| {}).map_err(bad)?;
        let comparison = creditsim::analysis::montecarlo::Comparison::exact(current);
        let summary = summarise(case, sim, comparison, &results);
        simulate_s = simulate_s.min(started.elapsed().as_secs_f64());
        std::hint::black_box(summary);
    }
    Ok(AdviseTimes {
        advise: advise_s,
        simulate: simulate_s,
        advice: last.expect("at least one run"),
    })
}

/// `impact` of one candidate book on a trace: import and replay of every workspace under
/// today's book and both views (the re-optimised one searching the default number of
/// setups), timed against importing and replaying the scenario's strategies alone.
fn impact_bench(args: &Args, trace: &Path, book: &Path) -> Result<(), Failure> {
    use creditsim::analysis::impact::{impact, SEARCH_DEFAULT};
    use creditsim::input::impact::{load_impact, ImpactFiles};
    let overrides = TraceOverrides {
        file: Some(trace.to_path_buf()),
        resolution: args.resolution.clone(),
        ..TraceOverrides::default()
    };
    let after = [book.to_path_buf()];
    let (mut impact_s, mut impact_peak, mut customers) = (f64::INFINITY, None, 0);
    for round in 0..args.repeat {
        reset_peak_rss();
        let started = Instant::now();
        let loaded = load_impact(&ImpactFiles {
            scenario: &args.scenario,
            overrides: &overrides,
            accounts: None,
            current_book: None,
            candidate_books: &after,
            migrations: &[],
            current_strategy: None,
            search_max: SEARCH_DEFAULT as usize,
        })?;
        let results = impact(&loaded.input, None).map_err(bad)?;
        impact_s = impact_s.min(started.elapsed().as_secs_f64());
        if round == 0 {
            impact_peak = peak_rss_kib();
        }
        customers = results.len();
        std::hint::black_box(results);
    }
    let portfolio = time_trace_runs(&args.scenario, trace, &overrides, args.repeat)?;
    let mib = |k: Option<u64>| k.map_or("n/a".to_string(), |k| format!("{} MiB", k / 1024));
    println!(
        "{}: {} rows, {customers} workspaces, {} resolution; candidate book {}",
        trace.display(),
        portfolio.report.rows,
        portfolio.report.resolution.name(),
        book.display()
    );
    println!(
        "fastest of {} run(s) each, {} threads",
        args.repeat,
        rayon::current_num_threads()
    );
    println!("                                          wall (s)   workspaces/s   peak memory");
    println!(
        "portfolio: import + {} strategies          {:>8.2}   {:>12.0}   {}",
        portfolio.strategies,
        portfolio.full_s,
        customers as f64 / portfolio.full_s,
        mib(portfolio.full_peak)
    );
    println!(
        "impact: import + today + 2 views          {:>8.2}   {:>12.0}   {}",
        impact_s,
        customers as f64 / impact_s,
        mib(impact_peak)
    );
    println!(
        "ratio to the portfolio run: {:.2}",
        impact_s / portfolio.full_s
    );
    Ok(())
}
