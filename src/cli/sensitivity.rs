//! `creditsim sensitivity`: one parameter at a time over a low and a high change, on common
//! random numbers (`analysis::sensitivity`).

use super::{bad, load_simulation, provenance_of, Failure, ReportArgs};
use creditsim::analysis::montecarlo::Measure;
use creditsim::analysis::sensitivity::{check_range, sensitivity, Parameter, PARAMETERS};
use creditsim::report::sensitivity::sensitivity_doc;
use rust_decimal::Decimal;
use std::path::PathBuf;
use std::str::FromStr;

#[derive(clap::Args)]
#[command(after_help = "Parameters (change from the base; default range):
  flex_price       every flex price, percent (-20,20)
  bundle_discount  every bundle's discount, percentage points (-5,5)
  included_credits every plan's included credits, percent (-20,20)
  plan_fees        every plan's fee and seat fee, percent (-20,20)
  usage            usage: every metric's mean or history day, percent (-30,30)
  growth           every metric's growth a month, percentage points (-2,2)
  volatility       every spread (day to day and activity), percent (-50,50)
Without --vary, all of them at their default ranges (growth and volatility only for a
usage model; a resampled history has neither).

Examples:
  creditsim sensitivity scenarios/examples/steady-inference.toml
  creditsim sensitivity scenarios/examples/growing-team.toml --vary flex_price=-40,40 --vary usage=-50,50")]
pub struct Args {
    /// Scenario with a [simulation] section; its strategies are the setups compared.
    scenario: PathBuf,
    /// A parameter and its low and high change, NAME=LOW,HIGH (repeatable; default: the
    /// scenario's [sensitivity] table, else every parameter at its default range).
    #[arg(long, value_name = "NAME=LOW,HIGH")]
    vary: Vec<String>,
    /// Paths (default: the scenario's).
    #[arg(long)]
    paths: Option<u32>,
    /// Master seed (default: the scenario's).
    #[arg(long)]
    seed: Option<u64>,
    /// Compare the setups `advise` measures (the current setup and its finalists, found at
    /// the base) instead of the scenario's strategies.
    #[arg(long)]
    advise: bool,
    /// Mean economic cost (default) or mean cash.
    #[arg(long, value_parser = ["economic", "cash"], default_value = "economic")]
    measure: String,
    /// The effect on a portfolio's total revenue instead: SCENARIO's trace (with --trace and
    /// --accounts as `portfolio` takes them) or a segments file, both of `impact`'s views.
    /// Parameters: flex_price, bundle_discount, included_credits, plan_fees, usage.
    #[arg(long, conflicts_with_all = ["advise", "paths", "seed"])]
    portfolio: bool,
    #[command(flatten)]
    trace: super::trace::TraceArgs,
    /// With --portfolio: the accounts table (CSV: workspace, created, plan, seats).
    #[arg(long, requires = "portfolio")]
    accounts: Option<PathBuf>,
    /// With --portfolio: most setups tried per customer when re-optimising.
    #[arg(long, default_value_t = creditsim::analysis::impact::SEARCH_DEFAULT, requires = "portfolio",
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    search: u32,
    #[command(flatten)]
    report: ReportArgs,
}

/// `NAME=LOW,HIGH` as a parameter and its range.
fn range(text: &str) -> Result<(Parameter, Decimal, Decimal), Failure> {
    let wrong = |why: &str| bad(format_args!("--vary {text:?}: {why}"));
    let (name, values) = text
        .split_once('=')
        .ok_or_else(|| wrong("expected NAME=LOW,HIGH, like flex_price=-20,20"))?;
    let p = Parameter::from_name(name.trim()).ok_or_else(|| {
        let known: Vec<&str> = PARAMETERS.iter().map(|p| p.name()).collect();
        wrong(&format!("unknown parameter (known: {})", known.join(", ")))
    })?;
    let (lo, hi) = values
        .split_once(',')
        .ok_or_else(|| wrong("expected two changes, LOW,HIGH"))?;
    let number = |s: &str| Decimal::from_str(s.trim().trim_start_matches('+'));
    let (lo, hi) = match (number(lo), number(hi)) {
        (Ok(lo), Ok(hi)) => (lo, hi),
        _ => return Err(wrong("the changes must be numbers")),
    };
    check_range(p, lo, hi).map_err(|why| wrong(&why))?;
    Ok((p, lo, hi))
}

/// The current setup and the finalists `advise` measures at the base, as strategies.
fn advised(
    scenario: &creditsim::input::scenario::Scenario,
    sim: creditsim::analysis::montecarlo::SimConfig,
    measure: Measure,
) -> Result<Vec<creditsim::engine::strategy::Strategy>, Failure> {
    use creditsim::analysis::advise::{advise, Constraints, Goal, Objective, RaceConfig};
    let spec = scenario
        .simulation
        .as_ref()
        .expect("load_simulation checked it");
    let goal = Goal {
        objective: Objective::Mean,
        measure,
    };
    let no_limits = Constraints {
        max_blocked_ppm: None,
        max_upfront: None,
    };
    let config = RaceConfig::new(sim, creditsim::input::scenario::ADVICE_FINALISTS);
    let advice = advise(
        &scenario.case,
        &spec.model,
        spec.baseline,
        goal,
        no_limits,
        config,
    )
    .map_err(|e| bad(format_args!("{}: {e}", scenario.path.display())))?;
    Ok((0..advice.summary.strategies.len())
        .map(|k| {
            advice.candidates[advice.candidate_of_row(k)]
                .strategy
                .clone()
        })
        .collect())
}

/// The ranges swept: --vary's, else the scenario's [sensitivity] table, else every
/// parameter that applies at its default range.
fn ranges_of(
    args: &Args,
    scenario: &creditsim::input::scenario::Scenario,
) -> Result<Vec<(Parameter, Decimal, Decimal)>, Failure> {
    let spec = scenario
        .simulation
        .as_ref()
        .expect("load_simulation checked it");
    let history = spec.model.bootstrap.is_some();
    let ranges = if args.vary.is_empty() && !scenario.sensitivity.is_empty() {
        scenario.sensitivity.clone()
    } else if args.vary.is_empty() {
        (PARAMETERS.into_iter())
            .filter(|p| !(history && matches!(p, Parameter::Growth | Parameter::Volatility)))
            .map(|p| {
                let (lo, hi) = p.default_range();
                (p, lo, hi)
            })
            .collect()
    } else {
        args.vary
            .iter()
            .map(|t| range(t))
            .collect::<Result<Vec<_>, _>>()?
    };
    let moot = ranges
        .iter()
        .find(|(p, ..)| history && matches!(p, Parameter::Growth | Parameter::Volatility));
    if let Some((p, ..)) = moot {
        return Err(bad(format_args!(
            "--vary {}: the scenario resamples a history, which has no growth or spread to move",
            p.name()
        )));
    }
    Ok(ranges)
}

pub fn run(args: Args) -> Result<(), Failure> {
    use creditsim::input::files::{kind_of, FileKind};
    if args.portfolio || kind_of(&args.scenario) == FileKind::Segments {
        return portfolio_run(&args);
    }
    let scenario = load_simulation(
        &args.scenario,
        "nothing to simulate (see scenarios/README.md)",
    )?;
    let spec = scenario
        .simulation
        .as_ref()
        .expect("load_simulation checked it");
    let ranges = ranges_of(&args, &scenario)?;
    let sim = super::sim_config(spec, args.paths, args.seed, args.report.threads())?;
    let paths = sim.paths;
    let measure = if args.measure == "cash" {
        Measure::Cash
    } else {
        Measure::Economic
    };
    let mut scenario = scenario.clone();
    if args.advise {
        scenario.case.strategies = advised(&scenario, sim, measure)?;
    }
    let result = sensitivity(&scenario.case, &spec.model, sim, measure, &ranges)
        .map_err(|e| bad(format_args!("{}: {e}", scenario.path.display())))?;
    let (mut doc, charts) = sensitivity_doc(&scenario, &result).map_err(bad)?;
    if args.advise {
        doc.blocks.insert(
            0,
            creditsim::report::doc::Block::Note(
                "The setups compared are the current setup and the finalists `advise` measures \
                 at the base (not the scenario's strategies)."
                    .to_string(),
            ),
        );
    }
    let mut provenance = provenance_of(&scenario);
    provenance.push("seed", sim.seed.to_string());
    provenance.push("paths", paths.to_string());
    doc.set_provenance(&provenance);
    let files = super::chart_files(charts).collect();
    args.report.emit(&doc, files)
}

/// `--portfolio`: the portfolio's total revenue over each parameter's range.
fn portfolio_run(args: &Args) -> Result<(), Failure> {
    use creditsim::analysis::revenue_sensitivity::{revenue_sensitivity, PORTFOLIO_PARAMETERS};
    use creditsim::input::impact::{load_impact, ImpactFiles};
    use creditsim::report::revenue_sensitivity::{revenue_sensitivity_doc, Subject};
    let overrides = args.trace.overrides(None)?;
    let mut loaded = load_impact(&ImpactFiles {
        scenario: &args.scenario,
        overrides: &overrides,
        accounts: args.accounts.as_deref(),
        current_book: None,
        candidate_books: &[],
        migrations: &[],
        current_strategy: None,
        search_max: args.search as usize,
    })?;
    let ranges = if args.vary.is_empty() {
        (PORTFOLIO_PARAMETERS.iter())
            .map(|p| {
                let (lo, hi) = p.default_range();
                (*p, lo, hi)
            })
            .collect()
    } else {
        let ranges = (args.vary.iter())
            .map(|t| range(t))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some((p, ..)) = ranges
            .iter()
            .find(|(p, ..)| !PORTFOLIO_PARAMETERS.contains(p))
        {
            return Err(bad(format_args!(
                "--vary {}: a portfolio's revenue is swept over the book and the usage, not a usage model's {}",
                p.name(),
                p.name()
            )));
        }
        ranges
    };
    let rs = revenue_sensitivity(&mut loaded.input, &ranges, args.report.threads())
        .map_err(|e| bad(format_args!("{}: {e}", args.scenario.display())))?;
    let book = &loaded.input.current_book;
    let weight: u128 = loaded
        .input
        .customers
        .iter()
        .map(|c| u128::from(c.weight))
        .sum();
    let subject = Subject {
        title: &loaded.title,
        currency: &book.currency,
        digits: book.minor_digits,
        customers: (weight / u128::from(loaded.input.weight_per)).to_string(),
    };
    let (mut doc, charts) = revenue_sensitivity_doc(&subject, &rs).map_err(bad)?;
    doc.set_provenance(&super::provenance_of_inputs(&loaded.inputs));
    let files = super::chart_files(charts).collect();
    args.report.emit(&doc, files)
}
