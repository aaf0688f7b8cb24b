//! The one thing every analysis works on: a pricing book, one workspace, a horizon and the
//! strategies to compare. Built by `input` from files, or by hand in tests; an analysis never
//! sees the file it came from.

use crate::engine::ledger::Workspace;
use crate::engine::strategy::Strategy;
use crate::model::calendar::Period;
use crate::model::pricing::{Cohort, PricingBook};
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct Case {
    pub book: Arc<PricingBook>,
    pub workspace: Workspace,
    pub horizon: Period,
    /// At least one; compared on the same usage.
    pub strategies: Vec<Strategy>,
}

impl Case {
    pub fn cohort(&self) -> &Cohort {
        &self.book.cohorts[self.workspace.cohort.0]
    }

    /// Whole days from the subscription's start to the horizon's end: what usage is drawn
    /// over (a horizon ending mid-day draws nothing for its partial last day).
    pub fn days(&self) -> u32 {
        (self.horizon.end - self.workspace.anchor).num_days().max(0) as u32
    }
}
