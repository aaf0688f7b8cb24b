//! `[[expect_breakeven]]` blocks: crossings of `creditsim breakeven` a scenario pins, checked
//! by `creditsim check` on the default sweep (from zero to the default top, one unit a step).
//!
//! ```toml
//! [[expect_breakeven]]
//! measure = "cash"            # or "economic_cost"
//! level = 64                  # from this level a month on, `to` is the cheapest
//! from = "core-monthly"       # the cheapest one step below
//! to = "growth-monthly"
//! metric = "gpu_training_minutes"   # optional: the level is this metric's quantity a month
//! ```
//!
//! Choice names are those `breakeven` compares (`analysis::breakeven::choices`): the
//! scenario's strategies, the book's plan ids, and "top up <bundle id>".

use super::raw::RawBreakevenExpect;
use crate::analysis::breakeven::{choices, Unit, UNIT_MICROS};
use crate::analysis::montecarlo::Measure;
use crate::analysis::Case;
use crate::model::amounts::CREDITS_MAX;
use crate::model::diag::{InputError, Source};
use rust_decimal::Decimal;
use toml::Spanned;

/// One pinned crossing, its names resolved to indices of `choices(case)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakevenExpectation {
    /// 1-based line of the block.
    pub line: usize,
    pub measure: Measure,
    pub unit: Unit,
    pub level_micros: i64,
    pub from: usize,
    pub to: usize,
}

/// Validates the scenario's `[[expect_breakeven]]` blocks against its case.
pub(super) fn build(
    source: &Source,
    raw: &[Spanned<RawBreakevenExpect>],
    case: &Case,
) -> Result<Vec<BreakevenExpectation>, InputError> {
    if raw.is_empty() {
        return Ok(Vec::new());
    }
    let names: Vec<String> = choices(case).into_iter().map(|c| c.name).collect();
    raw.iter()
        .map(|block| {
            let r = block.get_ref();
            let choice = |name: &Spanned<String>| {
                names
                    .iter()
                    .position(|n| n == name.get_ref())
                    .ok_or_else(|| {
                        source.error(
                            name.span(),
                            format!(
                                "unknown choice \"{}\" (breakeven compares: {})",
                                crate::model::diag::shown(name.get_ref()),
                                names.join(", ")
                            ),
                        )
                    })
            };
            let (from, to) = (choice(&r.from)?, choice(&r.to)?);
            if from == to {
                return Err(source.error(r.to.span(), "from and to name the same choice"));
            }
            Ok(BreakevenExpectation {
                line: source.line_column(block.span().start).0,
                measure: measure(source, &r.measure)?,
                unit: unit(source, case, r.metric.as_ref())?,
                level_micros: level(source, &r.level)?,
                from,
                to,
            })
        })
        .collect()
}

fn measure(source: &Source, m: &Spanned<String>) -> Result<Measure, InputError> {
    match m.get_ref().as_str() {
        "economic_cost" => Ok(Measure::Economic),
        "cash" => Ok(Measure::Cash),
        other => Err(source.error(
            m.span(),
            format!(
                "unknown measure \"{}\" (known: economic_cost, cash)",
                crate::model::diag::shown(other)
            ),
        )),
    }
}

fn unit(source: &Source, case: &Case, m: Option<&Spanned<String>>) -> Result<Unit, InputError> {
    let Some(m) = m else {
        return Ok(Unit::Credits);
    };
    let rates = &case.book.rates;
    rates
        .metric(m.get_ref())
        .map(Unit::Metric)
        .ok_or_else(|| source.error(m.span(), rates.unknown_metric(m.get_ref())))
}

/// A level a month in millionths: 0 to 10^12, at most 6 decimals.
fn level(source: &Source, l: &Spanned<super::values::Dec>) -> Result<i64, InputError> {
    let d = l.get_ref().0;
    let micros = d * Decimal::from(UNIT_MICROS);
    if d.is_sign_negative() || micros.fract() != Decimal::ZERO || d > CREDITS_MAX.to_decimal() {
        return Err(source.error(
            l.span(),
            "level is a number from 0 to 1,000,000,000,000 with at most 6 decimals",
        ));
    }
    Ok(
        i64::try_from(micros.trunc().mantissa() / 10i128.pow(micros.trunc().scale()))
            .expect("at most 10^18"),
    )
}
