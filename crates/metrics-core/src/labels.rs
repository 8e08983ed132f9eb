//! The fixed sets every label value comes from (issue 20, item 5): a value
//! read from a table that is not in its set is written as [`OTHER`], so no
//! row, however it got there, can create a new series in Prometheus.
//! `rejected_events.topic` and `.reason` have no CHECK constraint (a
//! rejected event is kept whatever it claims), so these sets are the bound.

use todo_contract::{Channel, DeliveryStatus, RejectReason};

/// The value an unknown label value is written as.
pub const OTHER: &str = "other";

/// `deliveries.channel` values (the table's CHECK constraint).
pub const CHANNELS: &[&str] = Channel::NAMES;
/// `deliveries.status` values (the table's CHECK constraint).
pub const STATUSES: &[&str] = DeliveryStatus::NAMES;
/// The final statuses, the only ones `todo_deliveries_finished_total` counts.
pub const FINAL_STATUSES: &[&str] = &[
    DeliveryStatus::Sent.as_str(),
    DeliveryStatus::Failed.as_str(),
];
/// `scheduled_reminders.state` values (the table's CHECK constraint).
pub const STATES: &[&str] = &["published", "skipped"];
/// The topics of the routes that receive events (`/events/reminders`,
/// `/events/task-events`); a rejected event is kept under its route's topic.
pub const TOPICS: &[&str] = &["reminders", "task-events"];
/// The reason codes of [`RejectReason`], every one a DROP can write.
pub const REASONS: &[&str] = RejectReason::NAMES;
/// The tables retention prunes that `todo_retention_oldest_seconds` reports.
pub const PRUNED_TABLES: &[&str] = &["deliveries", "rejected_events"];

/// `value` if it is in `set`, else [`OTHER`].
pub fn clamp<'a>(value: &'a str, set: &[&'static str]) -> &'a str {
    if set.contains(&value) {
        value
    } else {
        OTHER
    }
}

#[cfg(test)]
mod tests;
