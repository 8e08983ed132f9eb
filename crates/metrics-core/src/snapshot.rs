//! What one scrape reads from PostgreSQL: the component's single statement
//! returns it as one `jsonb` object, decoded here with serde.

use serde::Deserialize;

/// A row count for one combination of label values.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Count {
    /// The label values, in the order of the family's label names.
    pub key: Vec<String>,
    /// How many rows have them.
    pub n: f64,
}

/// The database's state at scrape time (docs/CONTRACT.md, "Metrics").
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Snapshot {
    /// `deliveries` rows per `[channel, status]`.
    pub deliveries: Vec<Count>,
    /// Final outcomes (`sent`, `failed`) whose event is not yet published.
    pub outbox_unpublished: f64,
    /// `now() - min(updated_at)` of those, in seconds; 0 when none.
    pub outbox_oldest_unpublished_seconds: f64,
    /// `rejected_events` rows per `[topic, reason]`.
    pub rejected_events: Vec<Count>,
    /// Tasks the recurrence service created (`occurrence > 1`).
    pub generated_tasks: f64,
    /// Due reminders not yet published or skipped by the scheduler.
    pub scheduler_due_backlog: f64,
    /// Age of the oldest of them, in seconds; 0 when none.
    pub scheduler_lag_seconds: f64,
    /// `scheduled_reminders` rows per `[state]`.
    pub scheduled_reminders: Vec<Count>,
    /// Deliveries that entered `sent` or `failed`, per `[channel, status]`,
    /// never lowered by deletes (migration 0009's `metric_counts.total`).
    #[serde(default)]
    pub deliveries_finished_total: Vec<Count>,
    /// Events ever kept in `rejected_events`, per `[topic, reason]`.
    #[serde(default)]
    pub rejected_events_total: Vec<Count>,
    /// Reminders ever recorded by the scheduler, per `[state]`.
    #[serde(default)]
    pub scheduled_reminders_total: Vec<Count>,
    /// Occurrences the recurrence service ever created.
    #[serde(default)]
    pub generated_tasks_total: f64,
    /// Per `[table]`: seconds since the oldest row retention could delete
    /// was written (judged like retention); 0 when none.
    #[serde(default)]
    pub retention_oldest_seconds: Vec<Count>,
    /// `max(version)` of `schema_migrations`, for the readiness judgement.
    pub schema_version: Option<String>,
}

#[cfg(test)]
mod tests;
