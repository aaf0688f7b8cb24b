//! Scenario, pricing-book and accounts files in, validated domain types out; the composition
//! root. Every input error is found here (or by the trace import it calls), located by file
//! and line/column or row/column.

pub mod accounts;
mod book;
pub mod check;
pub mod expect;
pub mod expect_advice;
pub mod expect_breakeven;
pub mod files;
pub mod impact;
mod inline_events;
pub mod names;
pub mod profile;
pub mod raw;
pub mod scenario;
pub mod segments;
pub mod simulation;
mod trace_spec;
mod usage_csv;
pub mod values;
