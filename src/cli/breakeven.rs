//! `creditsim breakeven`: steady usage swept over a range, every choice's cost, and the
//! levels where the cheapest choice changes (`analysis::breakeven`).

use super::{bad, provenance_of, Failure, FormatArg, ReportArgs};
use creditsim::analysis::breakeven::{
    breakeven, default_sweep, Unit, GRID_POINTS_MAX, GRID_POINTS_MIN, UNIT_MICROS,
};
use creditsim::analysis::in_pool;
use creditsim::input::scenario::load;
use creditsim::model::amounts::CREDITS_MAX;
use creditsim::report::breakeven::{breakeven_doc, costs_tidy};
use creditsim::report::breakeven_chart::breakeven_chart;
use creditsim::report::charts::Rendered;
use creditsim::report::doc::Chart;
use rust_decimal::Decimal;
use std::path::PathBuf;
use std::str::FromStr;

#[derive(clap::Args)]
#[command(
    after_help = "What is swept: a steady level of usage per month (credits, or with --metric that \
metric's quantity in its own unit, converted by the rate card as a usage CSV row is), every billing \
month of the horizon getting exactly the level, one event a day, split as evenly as whole \
millionths allow. Compared: the scenario's strategies as written; every plan of the book from the \
start with flex uncapped (so none refuses usage); on the workspace's plan with flex uncapped, \
topping up with each bundle of its cohort when the prepaid balance cannot cover the next day. A \
strategy that refuses usage competes only where it refuses no more than the others (like with like). \
Every level where the cheapest choice changes is found by bisection on the exact ledger, to one \
step, in economic cost and in cash; a tie is not a change, and among choices newly tied the one \
listed first wins.

Default range: 0 to four times the larger of the most included credits any plan grants per month \
and the scenario's own mean monthly usage (100 credits when both are zero).

Examples:
  creditsim breakeven scenarios/examples/inference-quarter.toml
  creditsim breakeven scenarios/examples/steady-inference.toml --to 600 --format html > breakeven.html
  creditsim breakeven scenarios/examples/bursty-training.toml --metric gpu_training_minutes --out /tmp/be"
)]
pub struct Args {
    /// Scenario file (TOML): its book, workspace, horizon and strategies.
    scenario: PathBuf,
    /// Sweep this metric's quantity per month (its own unit) instead of credits.
    #[arg(long, value_name = "NAME")]
    metric: Option<String>,
    /// Lowest level swept, per month.
    #[arg(long, value_name = "LEVEL")]
    from: Option<String>,
    /// Highest level swept, per month (default: see below).
    #[arg(long, value_name = "LEVEL")]
    to: Option<String>,
    /// Resolution of the crossings (default 1 credit or 1 metric unit; down to 0.000001).
    #[arg(long, value_name = "LEVEL")]
    step: Option<String>,
    /// Levels evaluated before bisecting.
    #[arg(long, value_name = "N", default_value_t = 129)]
    grid: usize,
    #[command(flatten)]
    report: ReportArgs,
}

/// A level given on the command line, in millionths: a decimal from 0 to 10^12 with at
/// most 6 decimals.
fn level_micros(flag: &str, text: &str) -> Result<i64, Failure> {
    let d = Decimal::from_str(text.trim())
        .map_err(|_| bad(format_args!("{flag} {text:?}: not a number")))?;
    let micros = d * Decimal::from(UNIT_MICROS);
    if d.is_sign_negative() || micros.fract() != Decimal::ZERO {
        return Err(bad(format_args!(
            "{flag} {text}: a level is a number from 0 with at most 6 decimals"
        )));
    }
    if d > CREDITS_MAX.to_decimal() {
        return Err(bad(format_args!(
            "{flag} {text}: above the limit of 1,000,000,000,000 a month"
        )));
    }
    Ok(i64::try_from(micros.mantissa() / 10i128.pow(micros.scale())).expect("at most 10^18"))
}

pub fn run(args: Args) -> Result<(), Failure> {
    let scenario = load(&args.scenario)?;
    let case = &scenario.case;
    let unit = match &args.metric {
        None => Unit::Credits,
        Some(name) => Unit::Metric(case.book.rates.metric(name).ok_or_else(|| {
            bad(format_args!(
                "--metric: {}",
                case.book.rates.unknown_metric(name)
            ))
        })?),
    };
    let context = |e| bad(format_args!("{}: {e}", scenario.path.display()));
    let mut sweep = default_sweep(case, unit, scenario.usage.total_micros()).map_err(context)?;
    if let Some(step) = &args.step {
        sweep.step_micros = level_micros("--step", step)?;
        if sweep.step_micros == 0 {
            return Err(bad("--step must be above zero"));
        }
    }
    if let Some(from) = &args.from {
        sweep.from_micros = level_micros("--from", from)?;
    }
    match &args.to {
        Some(to) => sweep.to_micros = level_micros("--to", to)?,
        // The default top, rounded up to the step asked for.
        None => {
            let step = sweep.step_micros;
            sweep.to_micros = (sweep.to_micros + step - 1) / step * step;
        }
    }
    if !(GRID_POINTS_MIN..=GRID_POINTS_MAX).contains(&args.grid) {
        return Err(bad(format_args!(
            "--grid must be {GRID_POINTS_MIN}-{GRID_POINTS_MAX}"
        )));
    }
    sweep.grid_points = args.grid;
    let result = in_pool(args.report.threads(), || breakeven(case, sweep)).map_err(context)?;
    let wants_charts = args.report.out.is_some() || args.report.format == FormatArg::Html;
    let rendered = if wants_charts {
        Some(
            breakeven_chart(&scenario, &result)
                .map_err(|e| bad(format_args!("drawing the chart: {e}")))?,
        )
    } else {
        None
    };
    let inline: Vec<Chart> = rendered.iter().map(Rendered::inline).collect();
    let mut doc = breakeven_doc(&scenario, &result, inline);
    doc.set_provenance(&provenance_of(&scenario));
    let mut files = Vec::new();
    if args.report.out.is_some() {
        files.push((
            "costs.csv".to_string(),
            costs_tidy(&scenario, &result).to_csv().into_bytes(),
        ));
        if let Some(chart) = rendered {
            files.push(("breakeven.png".to_string(), chart.png));
            files.push(("breakeven.svg".to_string(), chart.svg.into_bytes()));
        }
    }
    args.report.emit(&doc, files)
}
