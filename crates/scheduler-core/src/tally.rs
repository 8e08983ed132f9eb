//! The answer of `POST /scheduler/tick`:
//! `{"published", "skipped", "failed", "remaining"}`.

use serde::Serialize;

/// Counts of one tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Tally {
    /// Reminders the sidecar accepted (204) and that were recorded.
    pub published: u64,
    /// Reminders recorded `skipped` (too late).
    pub skipped: u64,
    /// 1 when a publish failed (the tick stops there), else 0.
    pub failed: u64,
    /// Due reminders left for later ticks, the failed one included.
    pub remaining: u64,
}

impl Tally {
    /// Whether the tick did or found anything worth a log line.
    pub fn is_quiet(&self) -> bool {
        *self == Tally::default()
    }
}

#[cfg(test)]
mod tests;
