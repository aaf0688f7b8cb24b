//! creditsim: exact simulation and pricing analysis for credit-based billing.
//!
//! The library is built in layers, each depending only on those listed before it (see
//! ARCHITECTURE.md; `tests/tidy.rs` enforces it): `model` (amounts, calendar, pricing book)
//! -> `engine` (ledger, strategies, replay) -> `usage` (synthetic models, trace import) ->
//! `analysis` (Monte Carlo, portfolio) -> `input` (files to validated cases) -> `report`
//! (renderers, Parquet, charts). The command line (`src/cli/`) is a front end over them.

pub mod analysis;
pub mod engine;
pub mod input;
pub mod model;
pub mod report;
pub mod usage;
