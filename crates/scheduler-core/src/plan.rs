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
pub struct PagePlan {
    /// To record as `skipped` (they do not count against the batch).
    pub skip: Vec<Due>,
    /// To publish, at most `room` of them.
    pub publish: Vec<Due>,
    /// Publishable rows left for a later tick because the batch is full.
    pub deferred: usize,
}

/// Splits a page: every late row is skipped, and the first `room` of the
/// others are published (`scheduler_batch` bounds publishes, not skips).
pub fn plan_page(page: Vec<Due>, now_us: i64, max_lateness_s: i64, room: usize) -> PagePlan {
    let mut plan = PagePlan::default();
    for due in page {
        match decide(now_us, due.remind_at_us, max_lateness_s) {
            Decision::Skip => plan.skip.push(due),
            Decision::Publish if plan.publish.len() < room => plan.publish.push(due),
            Decision::Publish => plan.deferred += 1,
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000;
    const NOW: i64 = 1_796_113_800 * S;

    fn due(age_s: i64) -> Due {
        Due {
            task_id: format!("00000000-0000-0000-0000-{age_s:012}"),
            user_id: "u".into(),
            title: "t".into(),
            due_at_us: None,
            remind_at_us: NOW - age_s * S,
        }
    }

    #[test]
    fn lateness_limit_is_inclusive() {
        assert_eq!(decide(NOW, NOW, 86_400), Decision::Publish);
        assert_eq!(decide(NOW, NOW - 86_400 * S, 86_400), Decision::Publish);
        assert_eq!(decide(NOW, NOW - 86_400 * S - 1, 86_400), Decision::Skip);
        // Zero: only reminders due this very microsecond are sent.
        assert_eq!(decide(NOW, NOW - 1, 0), Decision::Skip);
    }

    #[test]
    fn extreme_values_do_not_overflow() {
        assert_eq!(decide(i64::MAX, i64::MIN, 86_400), Decision::Skip);
        assert_eq!(decide(NOW, NOW, i64::MAX), Decision::Publish);
    }

    #[test]
    fn skips_do_not_count_against_the_batch() {
        let page = vec![due(90_000), due(88_000), due(60), due(30), due(10)];
        let plan = plan_page(page, NOW, 86_400, 2);
        assert_eq!(plan.skip.len(), 2);
        assert_eq!(
            plan.publish
                .iter()
                .map(|d| d.remind_at_us)
                .collect::<Vec<_>>(),
            vec![NOW - 60 * S, NOW - 30 * S],
            "oldest first"
        );
        assert_eq!(plan.deferred, 1);
    }

    #[test]
    fn no_room_publishes_nothing_but_still_skips() {
        let plan = plan_page(vec![due(100_000), due(5)], NOW, 86_400, 0);
        assert_eq!(
            (plan.skip.len(), plan.publish.len(), plan.deferred),
            (1, 0, 1)
        );
    }
}
