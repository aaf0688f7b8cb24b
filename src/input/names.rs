//! Names written in a scenario file, resolved against what the scenario defines.

use crate::engine::strategy::Strategy;
use crate::model::diag::{InputError, Source};

/// The index of the strategy called `name`, or an error at `span` listing the known ones.
pub fn strategy_index(
    source: &Source,
    strategies: &[Strategy],
    name: &str,
    span: std::ops::Range<usize>,
) -> Result<usize, InputError> {
    strategies
        .iter()
        .position(|s| s.name == name)
        .ok_or_else(|| {
            source.error(
                span,
                format!(
                    "unknown strategy \"{name}\" (known: {})",
                    known_strategies(strategies)
                ),
            )
        })
}

/// The strategies' names, for error messages: "a, b, c".
pub fn known_strategies(strategies: &[Strategy]) -> String {
    let names: Vec<&str> = strategies.iter().map(|s| s.name.as_str()).collect();
    names.join(", ")
}
