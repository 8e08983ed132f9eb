//! The fixed sets every label value comes from (issue 20, item 5): a value
//! read from a table that is not in its set is written as [`OTHER`], so no
//! row, however it got there, can create a new series in Prometheus.
//! `rejected_events.topic` and `.reason` have no CHECK constraint (a
//! rejected event is kept whatever it claims), so these sets are the bound.

/// The value an unknown label value is written as.
pub const OTHER: &str = "other";

/// `deliveries.channel` values (the table's CHECK constraint).
pub const CHANNELS: [&str; 2] = ["email", "push"];
/// `deliveries.status` values (the table's CHECK constraint).
pub const STATUSES: [&str; 4] = ["pending", "retrying", "sent", "failed"];
/// The final statuses, the only ones `todo_deliveries_finished_total` counts.
pub const FINAL_STATUSES: [&str; 2] = ["sent", "failed"];
/// `scheduled_reminders.state` values (the table's CHECK constraint).
pub const STATES: [&str; 2] = ["published", "skipped"];
/// The topics of the routes that receive events (`/events/reminders`,
/// `/events/task-events`); a rejected event is kept under its route's topic.
pub const TOPICS: [&str; 2] = ["reminders", "task-events"];
/// The reason codes of `dapr_pubsub::RejectReason` (a test in this crate
/// fails to compile when a reason is added there and not here).
pub const REASONS: [&str; 8] = [
    "malformed_json",
    "not_a_cloudevent",
    "schema_violation",
    "unknown_task",
    "invalid_rule",
    "unknown_timezone",
    "unstorable_text",
    "too_large",
];
/// The tables retention prunes that `todo_retention_oldest_seconds` reports.
pub const PRUNED_TABLES: [&str; 2] = ["deliveries", "rejected_events"];

/// `value` if it is in `set`, else [`OTHER`].
pub fn clamp<'a>(value: &'a str, set: &[&'static str]) -> &'a str {
    if set.contains(&value) {
        value
    } else {
        OTHER
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dapr_pubsub::RejectReason;

    /// Exhaustive on purpose (no `_` arm): a new reason is a compile error
    /// here until it is added to [`REASONS`].
    fn listed(reason: RejectReason) -> bool {
        match reason {
            RejectReason::MalformedJson
            | RejectReason::NotACloudEvent
            | RejectReason::SchemaViolation
            | RejectReason::UnknownTask
            | RejectReason::InvalidRule
            | RejectReason::UnknownTimezone
            | RejectReason::UnstorableText
            | RejectReason::TooLarge => REASONS.contains(&reason.as_str()),
        }
    }

    #[test]
    fn every_reject_reason_is_in_the_set() {
        for reason in [
            RejectReason::MalformedJson,
            RejectReason::NotACloudEvent,
            RejectReason::SchemaViolation,
            RejectReason::UnknownTask,
            RejectReason::InvalidRule,
            RejectReason::UnknownTimezone,
            RejectReason::UnstorableText,
            RejectReason::TooLarge,
        ] {
            assert!(listed(reason), "{reason} missing from REASONS");
        }
    }

    #[test]
    fn unknown_values_become_other_and_known_ones_stay() {
        assert_eq!(clamp("reminders", &TOPICS), "reminders");
        assert_eq!(clamp("x-3f9a", &TOPICS), OTHER);
        assert_eq!(clamp("Reminders", &TOPICS), OTHER);
        assert_eq!(clamp("", &REASONS), OTHER);
        assert_eq!(clamp("too_large", &REASONS), "too_large");
    }
}
