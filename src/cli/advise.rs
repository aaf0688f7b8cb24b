//! `creditsim advise`: which setup the customer should choose (`analysis::advise`).

use super::{bad, provenance_of, Failure, ReportArgs};
use creditsim::analysis::advise::{advise, Constraints, Goal, Objective, RaceConfig};
use creditsim::analysis::montecarlo::{Measure, SimConfig, PATHS_MAX};
use creditsim::input::scenario::ADVICE_FINALISTS;
use creditsim::model::amounts::Money;
use creditsim::report::advise::advise_doc;
use rust_decimal::Decimal;
use std::path::PathBuf;
use std::str::FromStr;

#[derive(Clone, Copy, clap::ValueEnum)]
enum ObjectiveArg {
    Mean,
    P90,
    Cvar95,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum MeasureArg {
    Economic,
    Cash,
}

#[derive(clap::Args)]
#[command(
    after_help = "The current setup is the scenario's baseline strategy ([simulation] \
baseline; its first strategy without one), or --current. Usage: the scenario's [simulation] model; \
without one, a weekly block bootstrap of its own usage (2000 paths, seed 1 unless given). Candidates are generated from the pricing book for the workspace's \
cohort, with the current setup's flex setting; they race on the scenario's usage model (a \
bootstrap of a trace works too) on common random numbers, the clearly worse dropped round by \
round, and the finalists run against the current setup over all paths. Same seed, same advice, \
on any thread count.

Examples:
  creditsim advise scenarios/examples/steady-inference.toml
  creditsim advise scenarios/examples/growing-team.toml --objective p90 --measure cash
  creditsim advise scenarios/examples/prospect-bootstrap.toml --max-upfront 500 --format html > advice.html"
)]
pub struct Args {
    /// Scenario file (with a [simulation] section, or usage of its own to resample), or a
    /// customer profile (scenarios/README.md, "Customer profile").
    scenario: PathBuf,
    /// The strategy that is the customer's current setup (default: the scenario's baseline).
    #[arg(long, value_name = "NAME")]
    current: Option<String>,
    #[command(flatten)]
    advice: AdviceFlags,
    #[command(flatten)]
    report: ReportArgs,
}

/// What advice optimises, within which limits, on how many paths: shared by `advise` and
/// `quote`.
#[derive(clap::Args)]
pub struct AdviceFlags {
    /// What to minimise.
    #[arg(long, value_enum, default_value = "mean")]
    objective: ObjectiveArg,
    /// In which cost.
    #[arg(long, value_enum, default_value = "economic")]
    measure: MeasureArg,
    /// Most usage a recommendation may refuse, in percent of the usage (default: no more
    /// than the current setup refuses).
    #[arg(long, value_name = "PERCENT")]
    max_blocked_percent: Option<String>,
    /// Most a recommendation may charge on its first day (plan fee and purchases at start).
    #[arg(long, value_name = "AMOUNT")]
    max_upfront: Option<String>,
    /// Finalists measured against the current setup on every path.
    #[arg(long, default_value_t = ADVICE_FINALISTS)]
    finalists: usize,
    /// Paths (default: the scenario's).
    #[arg(long)]
    paths: Option<u32>,
    /// Master seed (default: the scenario's).
    #[arg(long)]
    seed: Option<u64>,
}

fn decimal(flag: &str, text: &str) -> Result<Decimal, Failure> {
    Decimal::from_str(text.trim())
        .ok()
        .filter(|d| !d.is_sign_negative())
        .ok_or_else(|| bad(format_args!("{flag} {text:?}: not a number from 0")))
}

fn constraints(args: &AdviceFlags) -> Result<Constraints, Failure> {
    let max_blocked_ppm = match &args.max_blocked_percent {
        None => None,
        Some(text) => {
            let percent = decimal("--max-blocked-percent", text)?;
            if percent > Decimal::from(100) {
                return Err(bad("--max-blocked-percent must be 0-100"));
            }
            let ppm = (percent * Decimal::from(10_000)).floor();
            Some(u32::try_from(ppm.mantissa() / 10i128.pow(ppm.scale())).expect("at most 10^6"))
        }
    };
    let max_upfront = match &args.max_upfront {
        None => None,
        Some(text) => Some(
            Money::from_decimal(decimal("--max-upfront", text)?)
                .map_err(|e| bad(format_args!("--max-upfront {text}: {e}")))?,
        ),
    };
    Ok(Constraints {
        max_blocked_ppm,
        max_upfront,
    })
}

impl AdviceFlags {
    /// The goal, the constraints and the race's configuration, on `usage`'s paths and seed
    /// unless the flags give others.
    pub fn race(
        &self,
        usage: &creditsim::input::scenario::AdviceModel<'_>,
        threads: Option<usize>,
    ) -> Result<(Goal, Constraints, RaceConfig), Failure> {
        let paths = self.paths.unwrap_or(usage.paths);
        if paths == 0 || paths > PATHS_MAX {
            return Err(bad(format_args!("--paths must be 1-{PATHS_MAX}")));
        }
        if self.finalists == 0 || self.finalists > 10 {
            return Err(bad("--finalists must be 1-10"));
        }
        let sim = SimConfig {
            paths,
            seed: self.seed.unwrap_or(usage.seed),
            threads,
        };
        let goal = Goal {
            objective: match self.objective {
                ObjectiveArg::Mean => Objective::Mean,
                ObjectiveArg::P90 => Objective::P90,
                ObjectiveArg::Cvar95 => Objective::Cvar95,
            },
            measure: match self.measure {
                MeasureArg::Economic => Measure::Economic,
                MeasureArg::Cash => Measure::Cash,
            },
        };
        Ok((
            goal,
            constraints(self)?,
            RaceConfig::new(sim, self.finalists),
        ))
    }
}

pub fn run(args: Args) -> Result<(), Failure> {
    let scenario = super::load_scenario_or_profile(&args.scenario)?;
    let case = &scenario.case;
    let usage = scenario
        .advice_model()
        .ok_or_else(|| bad("the horizon has no whole day to resample"))?;
    let current = match &args.current {
        None => usage.baseline,
        Some(name) => case
            .strategies
            .iter()
            .position(|s| &s.name == name)
            .ok_or_else(|| bad(format_args!("--current: no strategy named {name:?}")))?,
    };
    let (goal, constraints, config) = args.advice.race(&usage, args.report.threads())?;
    let advice = advise(case, &usage.model, current, goal, constraints, config)
        .map_err(|e| bad(format_args!("{}: {e}", scenario.path.display())))?;
    let mut provenance = provenance_of(&scenario);
    provenance.push("seed", config.sim.seed.to_string());
    provenance.push("paths", config.sim.paths.to_string());
    let mut doc = advise_doc(&scenario, &advice);
    doc.set_provenance(&provenance);
    args.report.emit(&doc, Vec::new())
}
