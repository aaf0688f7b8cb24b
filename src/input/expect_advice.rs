//! `[[expect_advice]]` blocks: what `creditsim advise` recommends for a scenario, checked by
//! `creditsim check` (one `analysis::advise::advise` run per block).
//!
//! ```toml
//! [[expect_advice]]
//! recommended = "core-annual + 1 x b250 at start"   # the setup advise names, as in its table
//! saving_at_least = "500.00"   # its mean saving against the current setup, in the goal's measure
//! objective = "mean"           # optional: mean (default), p90, cvar95
//! measure = "economic"         # optional: economic (default; or economic_cost), cash
//! current = "flex only"        # optional: a scenario strategy (default: its baseline)
//! paths = 2000                 # optional: instead of the scenario's (or the bootstrap's) paths
//! seed = 7                     # optional: instead of its seed
//! ```
//!
//! Either `recommended` or `saving_at_least` or both. The candidates' names are only known
//! once the pilot paths are drawn (their counts are sized on the usage), so `recommended` is
//! compared when `check` runs; every other key is validated here, where it can be located.

use super::book::BookContext;
use super::raw::RawAdviceExpect;
use super::values::{count, seed, Count};
use crate::analysis::advise::{Goal, Objective};
use crate::analysis::montecarlo::{Measure, PATHS_MAX};
use crate::engine::strategy::Strategy;
use crate::model::amounts::Money;
use crate::model::diag::shown;
use crate::model::diag::InputError;
use toml::Spanned;

/// One pinned recommendation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdviceExpectation {
    /// 1-based line of the block.
    pub line: usize,
    /// The recommended setup's name, as `advise` prints it.
    pub recommended: Option<String>,
    /// The least mean saving of the recommendation against the current setup.
    pub saving_at_least: Option<Money>,
    pub goal: Goal,
    /// The current setup, a strategy of the case; `None`: the scenario's baseline.
    pub current: Option<usize>,
    pub paths: Option<u32>,
    pub seed: Option<u64>,
}

/// Validates the scenario's `[[expect_advice]]` blocks. `usable` says whether advice has usage
/// to race on: a `[simulation]` section, or usage of the scenario's own to resample.
pub(super) fn build(
    cx: &BookContext<'_>,
    raw: &[Spanned<RawAdviceExpect>],
    strategies: &[Strategy],
    usable: bool,
) -> Result<Vec<AdviceExpectation>, InputError> {
    raw.iter()
        .map(|block| {
            let r = block.get_ref();
            if !usable {
                return cx.err(
                    block.span(),
                    "[[expect_advice]] needs a [simulation] section or usage of the scenario's \
                     own to resample",
                );
            }
            if r.recommended.is_none() && r.saving_at_least.is_none() {
                return cx.err(
                    block.span(),
                    "[[expect_advice]] pins nothing: give recommended, saving_at_least or both",
                );
            }
            Ok(AdviceExpectation {
                line: cx.source.line_column(block.span().start).0,
                recommended: recommended(cx, r.recommended.as_ref())?,
                saving_at_least: r
                    .saving_at_least
                    .as_ref()
                    .map(|s| cx.charged_money(s, "saving_at_least"))
                    .transpose()?,
                goal: Goal {
                    objective: objective(cx, r.objective.as_ref())?,
                    measure: measure(cx, r.measure.as_ref())?,
                },
                current: r
                    .current
                    .as_ref()
                    .map(|c| {
                        super::names::strategy_index(cx.source, strategies, c.get_ref(), c.span())
                    })
                    .transpose()?,
                paths: paths(cx, r.paths.as_ref())?,
                seed: r.seed.as_ref().map(|s| seed(cx.source, s)).transpose()?,
            })
        })
        .collect()
}

fn recommended(
    cx: &BookContext<'_>,
    name: Option<&Spanned<String>>,
) -> Result<Option<String>, InputError> {
    match name {
        Some(n) if n.get_ref().trim().is_empty() => cx.err(
            n.span(),
            "recommended is empty: write the setup's name as advise prints it",
        ),
        Some(n) => Ok(Some(n.get_ref().clone())),
        None => Ok(None),
    }
}

fn objective(cx: &BookContext<'_>, o: Option<&Spanned<String>>) -> Result<Objective, InputError> {
    const KNOWN: [Objective; 3] = [Objective::Mean, Objective::P90, Objective::Cvar95];
    let Some(o) = o else {
        return Ok(Objective::Mean);
    };
    KNOWN
        .into_iter()
        .find(|k| k.name() == o.get_ref())
        .map_or_else(
            || {
                cx.err(
                    o.span(),
                    format!(
                        "unknown objective \"{}\" (known: mean, p90, cvar95)",
                        shown(o.get_ref())
                    ),
                )
            },
            Ok,
        )
}

/// `economic` as `advise --measure` writes it; `economic_cost` as the other expect blocks do.
fn measure(cx: &BookContext<'_>, m: Option<&Spanned<String>>) -> Result<Measure, InputError> {
    match m.map(|m| (m.get_ref().as_str(), m.span())) {
        None | Some(("economic" | "economic_cost", _)) => Ok(Measure::Economic),
        Some(("cash", _)) => Ok(Measure::Cash),
        Some((other, span)) => cx.err(
            span,
            format!(
                "unknown measure \"{}\" (known: economic, cash)",
                shown(other)
            ),
        ),
    }
}

fn paths(cx: &BookContext<'_>, p: Option<&Count>) -> Result<Option<u32>, InputError> {
    p.map(|p| count(cx.source, "paths", p, 1..=PATHS_MAX))
        .transpose()
}
