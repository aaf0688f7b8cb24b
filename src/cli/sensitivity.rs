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
    let files = charts
        .into_iter()
        .flat_map(|c| {
            [
                (format!("{}.png", c.name), c.png),
                (format!("{}.svg", c.name), c.svg.into_bytes()),
            ]
        })
        .collect();
    args.report.emit(&doc, files)
}
