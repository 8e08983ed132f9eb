//! Retention (docs/CONTRACT.md, "Tables", "Retention"): the decisions of
//! `POST /retention/prune` without Spin: its two variables, how old a row
//! must be per table, when the answer's `remaining` needs counting, and the
//! answer itself.
//!
//! The component runs one `DELETE` per table per call, each its own
//! transaction of at most `retention_batch` rows, oldest first; the SQL and
//! the locking argument are in `components/scheduler/src/retention/`.

use serde::Serialize;

/// Default of `retention_days`.
pub const DEFAULT_DAYS: u32 = 30;
/// Default of `retention_batch`.
pub const DEFAULT_BATCH: u32 = 5_000;
/// Largest accepted batch: a batch is one transaction, and writers that
/// touch one of its rows (or its counter rows) wait for it, so a batch must
/// stay short (0.2-0.5 s per 5,000 deliveries on a loaded 2-core machine,
/// `bench/retention_prune.sh`).
pub const MAX_BATCH: u32 = 100_000;
/// Largest accepted `retention_days` (about 100 years): keeps every age
/// computation far from overflow.
pub const MAX_DAYS: u32 = 36_500;

const DAY_S: i64 = 86_400;

/// A retention variable that does not hold a usable value: names the
/// variable and what it must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidRetention {
    /// `retention_days`.
    #[error("retention_days must be an integer from 0 (keep everything) to {MAX_DAYS}")]
    Days,
    /// `retention_batch`.
    #[error("retention_batch must be an integer from 1 to {MAX_BATCH}")]
    Batch,
}

/// Validated settings of one prune call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Final rows older than this many days are pruned; 0 keeps everything.
    pub days: u32,
    /// Rows deleted per table per call at most; at least 1.
    pub batch: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            days: DEFAULT_DAYS,
            batch: DEFAULT_BATCH,
        }
    }
}

impl Retention {
    /// Parses the two variables' text; the error names the variable.
    pub fn parse(days: &str, batch: &str) -> Result<Retention, InvalidRetention> {
        let days = days
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|d| *d <= MAX_DAYS)
            .ok_or(InvalidRetention::Days)?;
        let batch = batch
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|b| (1..=MAX_BATCH).contains(b))
            .ok_or(InvalidRetention::Batch)?;
        Ok(Retention { days, batch })
    }

    /// `retention_days = 0`: nothing is pruned (and no statement runs).
    pub fn keeps_everything(&self) -> bool {
        self.days == 0
    }

    /// Minimum age, in seconds, of a prunable `deliveries` or
    /// `rejected_events` row.
    pub fn age_s(&self) -> i64 {
        i64::from(self.days) * DAY_S
    }

    /// Minimum age, in seconds, of a prunable `scheduled_reminders` row:
    /// `retention_days`, but never less than the scheduler's lateness
    /// limit. A recorded reminder is at least as old as its `remind_at`,
    /// so once it is older than the lateness limit the scheduler would only
    /// ever record it `skipped` again, never publish it, even if its task
    /// were reopened or its `remind_at` set back (docs/CONTRACT.md, "Scheduler"). This is what
    /// makes "pruning never makes the scheduler publish a reminder again"
    /// hold without a lock on `tasks`.
    pub fn reminder_age_s(&self, max_lateness_s: i64) -> i64 {
        self.age_s().max(max_lateness_s.saturating_add(1))
    }
}

/// Recorded reminders one call examines at most, per row it may delete:
/// most old records belong to tasks left open (kept), so the sweep of
/// `scheduled_reminders` reads a bounded window per call, continuing where
/// the last call stopped, instead of walking the whole history each time.
pub const REMINDER_SCAN_FACTOR: u32 = 2;

impl Retention {
    /// How many recorded reminders one call examines at most (at least the
    /// batch, so a window full of prunable rows still fills the batch).
    pub fn reminder_scan(&self) -> u32 {
        self.batch.saturating_mul(REMINDER_SCAN_FACTOR)
    }
}

/// Whether a table's prunable rows must be counted for `remaining`: only
/// when its batch came back full. A batch that deleted fewer rows than it
/// could found nothing more that was old enough (rows another call held
/// locked at that moment excepted), so the common hourly call costs one
/// statement per table and no count.
pub fn needs_count(deleted: u64, batch: u32) -> bool {
    deleted >= u64::from(batch)
}

/// Rows deleted per table by one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Deleted {
    /// Final, published `deliveries`.
    pub deliveries: u64,
    /// `rejected_events`.
    pub rejected_events: u64,
    /// `scheduled_reminders` whose task is completed, deleted or re-reminded.
    pub scheduled_reminders: u64,
}

impl Deleted {
    /// Rows deleted over all tables.
    pub fn total(&self) -> u64 {
        self.deliveries + self.rejected_events + self.scheduled_reminders
    }
}

/// The answer of `POST /retention/prune`:
/// `{"deleted": {...}, "remaining": n}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct PruneAnswer {
    /// What this call deleted.
    pub deleted: Deleted,
    /// Prunable rows left for later calls, over all tables; 0 when none.
    pub remaining: u64,
}

impl PruneAnswer {
    /// Whether the call did or found anything worth a log line.
    pub fn is_quiet(&self) -> bool {
        *self == PruneAnswer::default()
    }
}

#[cfg(test)]
mod tests;
