//! creditsim: exact simulation and pricing analysis for credit-based billing.
//!
//! Data flows through the parts in this order (see ARCHITECTURE.md):
//! `scenario` (files to validated types) -> `replay` (usage through the `ledger` under a
//! `strategy`) -> `check` / `report`. `amounts`, `calendar` and `pricing` are the vocabulary
//! everything shares.

pub mod amounts;
pub mod calendar;
pub mod check;
pub mod diag;
pub mod files;
pub mod ledger;
pub mod portfolio;
pub mod pricing;
pub mod replay;
pub mod report;
pub mod scenario;
pub mod sim;
pub mod strategy;
pub mod trace;
pub mod usage;
