//! When usage may happen for one workspace.

use crate::model::calendar::{display, midnight, Instant};
use chrono::NaiveDate;

/// When usage may happen: not before the workspace exists or its subscription starts, not
/// at or after the horizon's end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageWindow {
    pub created: NaiveDate,
    pub anchor: Instant,
    pub end: Instant,
}

impl UsageWindow {
    /// Whether usage at `at` is allowed ([`UsageWindow::refuse`] says why not); inlined for
    /// the millions of trace rows that are.
    #[inline]
    pub fn allows(&self, at: Instant) -> bool {
        at >= midnight(self.created) && at >= self.anchor && at < self.end
    }

    pub fn refuse(&self, at: Instant) -> Option<String> {
        if at < midnight(self.created) {
            Some(format!(
                "usage at {} is before the workspace was created ({})",
                display(at),
                self.created
            ))
        } else if at < self.anchor {
            Some(format!(
                "usage at {} is before the subscription starts ({})",
                display(at),
                display(self.anchor)
            ))
        } else if at >= self.end {
            Some(format!(
                "usage at {} is at or after the horizon's end ({})",
                display(at),
                display(self.end)
            ))
        } else {
            None
        }
    }
}
