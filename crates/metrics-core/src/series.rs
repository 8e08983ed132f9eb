//! The series of docs/CONTRACT.md "Metrics" (gauges, unchanged), the
//! `_total` counters next to them (issue 20: a gauge of rows drops when
//! retention deletes rows, so `rate()` needs a counter that deletes do not
//! lower) and `todo_retention_oldest_seconds`.
//!
//! Every label value comes from a fixed set ([`crate::labels`]): each
//! combination of a set is always written (0 where no row has it), so a
//! series never vanishes from one scrape to the next and a counter exists
//! before its first increment; a value outside its set is written as
//! `other`, so a hostile row cannot create series.

use std::collections::BTreeMap;

use crate::labels::{
    clamp, CHANNELS, FINAL_STATUSES, PRUNED_TABLES, REASONS, STATES, STATUSES, TOPICS,
};
use crate::snapshot::{Count, Snapshot};
use crate::text::Family;

/// Gauge or counter.
#[derive(Clone, Copy)]
enum Kind {
    Gauge,
    Counter,
}

/// One labelled family: its name, help, kind, and per label its name and
/// the fixed set of its values.
struct Labelled<'a> {
    name: &'a str,
    help: &'a str,
    kind: Kind,
    labels: &'a [(&'a str, &'a [&'static str])],
}

/// The exposition. `snapshot` is `None` when the tables cannot be read
/// because the schema is not migrated: only `todo_schema_ready` is written
/// then, so the scrape still says why nothing else is there.
pub fn render(snapshot: Option<&Snapshot>, schema_ready: bool) -> String {
    let mut out = String::new();
    if let Some(s) = snapshot {
        contract_gauges(&mut out, s);
        counters(&mut out, s);
    }
    Family::gauge(
        &mut out,
        "todo_schema_ready",
        "1 when the database schema is at the migration this build expects, else 0.",
    )
    .sample(&[], if schema_ready { 1.0 } else { 0.0 });
    out
}

const DELIVERY_LABELS: [(&str, &[&str]); 2] = [("channel", CHANNELS), ("status", STATUSES)];
const REJECTED_LABELS: [(&str, &[&str]); 2] = [("topic", TOPICS), ("reason", REASONS)];
const STATE_LABELS: [(&str, &[&str]); 1] = [("state", STATES)];

/// The contract's series, as they were.
fn contract_gauges(out: &mut String, s: &Snapshot) {
    labelled(
        out,
        &Labelled {
            name: "todo_deliveries",
            help: "Rows of the notification delivery log per channel and status.",
            kind: Kind::Gauge,
            labels: &DELIVERY_LABELS,
        },
        &s.deliveries,
    );
    Family::gauge(
        out,
        "todo_outbox_unpublished",
        "Final delivery outcomes whose notification event is not yet published.",
    )
    .sample(&[], s.outbox_unpublished);
    Family::gauge(
        out,
        "todo_outbox_oldest_unpublished_seconds",
        "Seconds since the oldest unpublished final outcome was recorded; 0 when none.",
    )
    .sample(&[], s.outbox_oldest_unpublished_seconds);
    labelled(
        out,
        &Labelled {
            name: "todo_rejected_events",
            help: "Events answered DROP and kept in rejected_events, per topic and reason.",
            kind: Kind::Gauge,
            labels: &REJECTED_LABELS,
        },
        &s.rejected_events,
    );
    Family::gauge(
        out,
        "todo_generated_tasks",
        "Tasks the recurrence service created (occurrence > 1).",
    )
    .sample(&[], s.generated_tasks);
    Family::gauge(
        out,
        "todo_scheduler_due_backlog",
        "Due reminders of open tasks the scheduler has not yet published or skipped.",
    )
    .sample(&[], s.scheduler_due_backlog);
    Family::gauge(
        out,
        "todo_scheduler_lag_seconds",
        "Age in seconds of the oldest due reminder not yet handled; 0 when none.",
    )
    .sample(&[], s.scheduler_lag_seconds);
    labelled(
        out,
        &Labelled {
            name: "todo_scheduled_reminders",
            help: "Reminders the scheduler recorded, per state.",
            kind: Kind::Gauge,
            labels: &STATE_LABELS,
        },
        &s.scheduled_reminders,
    );
}

/// The counters for `rate()`, and the retention gauge.
fn counters(out: &mut String, s: &Snapshot) {
    labelled(
        out,
        &Labelled {
            name: "todo_deliveries_finished_total",
            help: "Deliveries that reached a final status (sent or failed), per channel and status; deletes do not lower it.",
            kind: Kind::Counter,
            labels: &[("channel", CHANNELS), ("status", FINAL_STATUSES)],
        },
        &s.deliveries_finished_total,
    );
    labelled(
        out,
        &Labelled {
            name: "todo_rejected_events_total",
            help: "Events answered DROP and kept, per route topic and reason; deletes do not lower it.",
            kind: Kind::Counter,
            labels: &REJECTED_LABELS,
        },
        &s.rejected_events_total,
    );
    labelled(
        out,
        &Labelled {
            name: "todo_scheduled_reminders_total",
            help: "Reminders the scheduler recorded, per state; deletes do not lower it.",
            kind: Kind::Counter,
            labels: &STATE_LABELS,
        },
        &s.scheduled_reminders_total,
    );
    Family::counter(
        out,
        "todo_generated_tasks_total",
        "Tasks the recurrence service created; deletes do not lower it.",
    )
    .sample(&[], s.generated_tasks_total);
    labelled(
        out,
        &Labelled {
            name: "todo_retention_oldest_seconds",
            help: "Seconds since the oldest row retention may delete was written (final published deliveries by updated_at, rejected events by received_at); 0 when none.",
            kind: Kind::Gauge,
            labels: &[("table", PRUNED_TABLES)],
        },
        &s.retention_oldest_seconds,
    );
}

/// A labelled family: every combination of the label sets (0 unless
/// counted), then every counted key with its values clamped to the sets,
/// in label order; a key counted twice (or clamped onto another) is summed.
fn labelled(out: &mut String, family: &Labelled<'_>, counts: &[Count]) {
    let mut values: BTreeMap<Vec<&str>, f64> = BTreeMap::new();
    let mut keys: Vec<Vec<&str>> = vec![Vec::new()];
    for (_, set) in family.labels {
        keys = keys
            .into_iter()
            .flat_map(|k| {
                set.iter().map(move |v| {
                    let mut k = k.clone();
                    k.push(*v);
                    k
                })
            })
            .collect();
    }
    for key in keys {
        values.insert(key, 0.0);
    }
    for c in counts.iter().filter(|c| c.key.len() == family.labels.len()) {
        let key: Vec<&str> = c
            .key
            .iter()
            .zip(family.labels)
            .map(|(value, (_, set))| clamp(value, set))
            .collect();
        *values.entry(key).or_insert(0.0) += c.n;
    }
    let mut f = match family.kind {
        Kind::Gauge => Family::gauge(out, family.name, family.help),
        Kind::Counter => Family::counter(out, family.name, family.help),
    };
    for (key, n) in &values {
        let labels: Vec<(&str, &str)> = family
            .labels
            .iter()
            .map(|(name, _)| *name)
            .zip(key.iter().copied())
            .collect();
        f.sample(&labels, *n);
    }
}

#[cfg(test)]
mod tests;
