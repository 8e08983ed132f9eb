//! What a tick does with one page of due reminders (oldest first): skip the
//! ones too late to be useful, publish the rest up to the batch bound.

use crate::reminder::Due;

/// The fate of one due reminder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Publish `reminder.due` now.
    Publish,
    /// Older than the lateness limit: record `skipped`, never publish (so
    /// turning the scheduler on over an old database sends no flood).
    Skip,
}

/// Skip when `remind_at` is more than `max_lateness_s` seconds before
/// `now` (both from the database clock, so pods with a skewed clock decide
/// alike); exactly at the limit is still published.
pub fn decide(now_us: i64, remind_at_us: i64, max_lateness_s: i64) -> Decision {
    let late_us = now_us.saturating_sub(remind_at_us);
    if late_us > max_lateness_s.saturating_mul(1_000_000) {
        Decision::Skip
    } else {
        Decision::Publish
    }
}

/// One page split by [`decide`], in the page's order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PageSplit {
    /// To record as `skipped` (they do not count against the batch).
    pub skip: Vec<Due>,
    /// To publish, at most `room` of them.
    pub publish: Vec<Due>,
    /// Publishable rows left for a later tick because the batch is full.
    pub deferred: usize,
}

/// Splits a page: every late row is skipped, and the first `room` of the
/// others are published (`scheduler_batch` bounds publishes, not skips).
pub fn split_page(page: Vec<Due>, now_us: i64, max_lateness_s: i64, room: usize) -> PageSplit {
    let mut split = PageSplit::default();
    for due in page {
        match decide(now_us, due.remind_at_us, max_lateness_s) {
            Decision::Skip => split.skip.push(due),
            Decision::Publish if split.publish.len() < room => split.publish.push(due),
            Decision::Publish => split.deferred += 1,
        }
    }
    split
}

#[cfg(test)]
mod tests;
