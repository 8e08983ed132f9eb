//! The series of docs/CONTRACT.md "Metrics", all gauges. Label sets that the
//! tables constrain (channels, statuses, states) are always written, with 0
//! where no row has them, so a series never vanishes from one scrape to the
//! next; rejected events are written as found.

use std::collections::BTreeMap;

use crate::snapshot::{Count, Snapshot};
use crate::text::Family;

/// `deliveries.channel` values (the table's CHECK constraint).
const CHANNELS: [&str; 2] = ["email", "push"];
/// `deliveries.status` values (the table's CHECK constraint).
const STATUSES: [&str; 4] = ["pending", "retrying", "sent", "failed"];
/// `scheduled_reminders.state` values (the table's CHECK constraint).
const STATES: [&str; 2] = ["published", "skipped"];

/// The exposition. `snapshot` is `None` when the tables cannot be read
/// because the schema is not migrated: only `todo_schema_ready` is written
/// then, so the scrape still says why nothing else is there.
pub fn render(snapshot: Option<&Snapshot>, schema_ready: bool) -> String {
    let mut out = String::new();
    if let Some(s) = snapshot {
        let delivery_keys = CHANNELS
            .iter()
            .flat_map(|c| STATUSES.iter().map(move |st| vec![*c, *st]));
        labelled(
            &mut out,
            "todo_deliveries",
            "Rows of the notification delivery log per channel and status.",
            &["channel", "status"],
            delivery_keys,
            &s.deliveries,
        );
        Family::gauge(
            &mut out,
            "todo_outbox_unpublished",
            "Final delivery outcomes whose notification event is not yet published.",
        )
        .sample(&[], s.outbox_unpublished);
        Family::gauge(
            &mut out,
            "todo_outbox_oldest_unpublished_seconds",
            "Seconds since the oldest unpublished final outcome was recorded; 0 when none.",
        )
        .sample(&[], s.outbox_oldest_unpublished_seconds);
        labelled(
            &mut out,
            "todo_rejected_events",
            "Events answered DROP and kept in rejected_events, per topic and reason.",
            &["topic", "reason"],
            std::iter::empty(),
            &s.rejected_events,
        );
        Family::gauge(
            &mut out,
            "todo_generated_tasks",
            "Tasks the recurrence service created (occurrence > 1).",
        )
        .sample(&[], s.generated_tasks);
        Family::gauge(
            &mut out,
            "todo_scheduler_due_backlog",
            "Due reminders of open tasks the scheduler has not yet published or skipped.",
        )
        .sample(&[], s.scheduler_due_backlog);
        Family::gauge(
            &mut out,
            "todo_scheduler_lag_seconds",
            "Age in seconds of the oldest due reminder not yet handled; 0 when none.",
        )
        .sample(&[], s.scheduler_lag_seconds);
        labelled(
            &mut out,
            "todo_scheduled_reminders",
            "Reminders the scheduler recorded, per state.",
            &["state"],
            STATES.iter().map(|st| vec![*st]),
            &s.scheduled_reminders,
        );
    }
    Family::gauge(
        &mut out,
        "todo_schema_ready",
        "1 when the database schema is at the migration this build expects, else 0.",
    )
    .sample(&[], if schema_ready { 1.0 } else { 0.0 });
    out
}

/// A labelled family: every `always` key (0 unless counted), then every
/// counted key, in label order; a key counted twice is summed.
fn labelled<'k>(
    out: &mut String,
    name: &str,
    help: &str,
    label_names: &[&str],
    always: impl Iterator<Item = Vec<&'k str>>,
    counts: &[Count],
) {
    let mut values: BTreeMap<Vec<String>, f64> = always
        .map(|k| (k.into_iter().map(str::to_owned).collect(), 0.0))
        .collect();
    for c in counts.iter().filter(|c| c.key.len() == label_names.len()) {
        *values.entry(c.key.clone()).or_insert(0.0) += c.n;
    }
    let mut family = Family::gauge(out, name, help);
    for (key, n) in &values {
        let labels: Vec<(&str, &str)> = label_names
            .iter()
            .copied()
            .zip(key.iter().map(String::as_str))
            .collect();
        family.sample(&labels, *n);
    }
}

#[cfg(test)]
mod tests;
