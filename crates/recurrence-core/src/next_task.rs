//! What to create after a completion, decided from the task row alone (no
//! I/O, no clock, so a redelivered event decides the same): the next
//! occurrence's number, id, `due_at` and `remind_at`, and the `task.created`
//! payload. Pure: tested natively.

use recurrence_rules::jiff::Timestamp;
use recurrence_rules::{next_occurrence, time_zone, to_rfc3339, Anchor, CompletedTask, Rule};
use serde::Deserialize;
use serde_json::Value;
use todo_contract::RejectReason;
use uuid::Uuid;

/// The columns of the completed task the decision needs, plus the series'
/// first `due_at` (read in the same query; see `store::load_task`).
/// Timestamps are as `to_jsonb` writes them (RFC 3339 with offset).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TaskRow {
    /// `id`.
    pub id: String,
    /// `series_id`; `None` on a series' first task, whose id is the series id.
    pub series_id: Option<String>,
    /// `occurrence`, 1-based.
    pub occurrence: i64,
    /// `due_at`.
    pub due_at: Option<String>,
    /// `remind_at`.
    pub remind_at: Option<String>,
    /// `completed_at`; the event's value is used when this is null.
    pub completed_at: Option<String>,
    /// `recurrence_rule`; null = not recurring.
    pub recurrence_rule: Option<String>,
    /// `recurrence_anchor`: `due` or `completion`.
    pub recurrence_anchor: String,
    /// `timezone`, an IANA name.
    pub timezone: String,
    /// `due_at` of the series' first task, when it still exists.
    pub series_start: Option<String>,
}

/// The row to insert: the rest is copied from the completed task in SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    /// Deterministic: [`occurrence_id`] of `series_id` and `occurrence`.
    pub id: String,
    /// The completed task's `series_id`, or its own id for the first task.
    pub series_id: String,
    /// Always the completed task's `occurrence + 1` (COUNT counts tasks).
    pub occurrence: i32,
    /// RFC 3339 with the zone's offset.
    pub due_at: String,
    /// `due_at` moved by the same duration as before; `None` when the
    /// completed task had no `remind_at` (or no `due_at` to measure from).
    pub remind_at: Option<String>,
}

/// The decision for one completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextTask {
    /// `recurrence_rule` is null: nothing to create.
    NotRecurring,
    /// COUNT reached, UNTIL passed, or the rule has no further date.
    SeriesOver,
    /// Create this occurrence (if it does not exist yet).
    Create(NewTask),
}

/// Why a completion can never produce a task: the reason code and a detail
/// for `rejected_events` and the log line.
pub type Rejection = (RejectReason, String);

/// Fixed namespace of occurrence ids (UUID v5). Never change it: ids already
/// published would no longer match.
pub const OCCURRENCE_NAMESPACE: Uuid = uuid::uuid!("19471010-6798-461c-a0f3-f9731b0c5aff");

/// The id of occurrence `occurrence` of series `series_id`: UUID v5 in
/// [`OCCURRENCE_NAMESPACE`] over the text `"<series_id>:<occurrence>"`
/// (series id lower-case and hyphenated), so any service can compute it,
/// e.g. Python's `uuid.uuid5(ns, f"{series_id}:{n}")`. Every request carrying
/// the same completion thus inserts (and publishes) the same id.
pub fn occurrence_id(series_id: &Uuid, occurrence: i32) -> Uuid {
    let name = format!("{}:{occurrence}", series_id.hyphenated());
    Uuid::new_v5(&OCCURRENCE_NAMESPACE, name.as_bytes())
}

/// Decides what follows the completed `row`. `event_completed_at` is used
/// when the row has no `completed_at`.
///
/// With anchor `due` but no `due_at`, the series falls back to anchor
/// `completion` (there is no schedule to keep). `remind_at` keeps its exact
/// duration before `due_at`.
pub fn next_task(row: &TaskRow, event_completed_at: Timestamp) -> Result<NextTask, Rejection> {
    let Some(rule_text) = row.recurrence_rule.as_deref() else {
        return Ok(NextTask::NotRecurring);
    };
    let rule = Rule::parse(rule_text).map_err(|e| (RejectReason::InvalidRule, e.to_string()))?;
    let tz =
        time_zone(&row.timezone).map_err(|e| (RejectReason::UnknownTimezone, e.to_string()))?;
    let anchor = row
        .recurrence_anchor
        .parse::<Anchor>()
        .map_err(|e| (RejectReason::InvalidRule, e.to_string()))?;
    let due_at = instant(row.due_at.as_deref(), "due_at")?;
    let completed_at =
        instant(row.completed_at.as_deref(), "completed_at")?.unwrap_or(event_completed_at);
    let (anchor, due) = match due_at {
        Some(due) => (anchor, due),
        None => (Anchor::Completion, completed_at),
    };
    let occurrence = u32::try_from(row.occurrence).unwrap_or(1);
    let task = CompletedTask {
        due_at: due,
        occurrence,
        completed_at,
        series_start: instant(row.series_start.as_deref(), "series start due_at")?,
    };
    let next = next_occurrence(&rule, &tz, anchor, &task)
        .map_err(|e| (RejectReason::InvalidRule, format!("{}: {e}", e.code())))?;
    let Some(next) = next else {
        return Ok(NextTask::SeriesOver);
    };
    let number = i32::try_from(next.occurrence).map_err(|_| {
        (
            RejectReason::InvalidRule,
            "occurrence_overflow: occurrence number overflow".to_owned(),
        )
    })?;
    let series_id = row.series_id.as_deref().unwrap_or(&row.id);
    let series_uuid = Uuid::try_parse(series_id).map_err(|_| {
        (
            RejectReason::SchemaViolation,
            format!("tasks.series_id {series_id:?} is not a UUID"),
        )
    })?;
    let remind_at = match (due_at, instant(row.remind_at.as_deref(), "remind_at")?) {
        (Some(due), Some(remind)) => {
            let lead = remind.duration_since(due);
            let moved = next.due_at.timestamp().checked_add(lead).map_err(|_| {
                (
                    RejectReason::SchemaViolation,
                    "remind_at: moved out of range".to_owned(),
                )
            })?;
            Some(moved.to_string())
        }
        _ => None,
    };
    Ok(NextTask::Create(NewTask {
        id: occurrence_id(&series_uuid, number).hyphenated().to_string(),
        series_id: series_uuid.hyphenated().to_string(),
        occurrence: number,
        due_at: to_rfc3339(&next.due_at),
        remind_at,
    }))
}

/// A timestamp column: `None` when null; a value no instant can hold (such
/// as Postgres' `infinity`) can never be planned from, so it is rejected.
fn instant(value: Option<&str>, column: &str) -> Result<Option<Timestamp>, Rejection> {
    value
        .map(|text| {
            text.parse::<Timestamp>().map_err(|_| {
                (
                    RejectReason::SchemaViolation,
                    format!("tasks.{column} {text:?} is not a finite time"),
                )
            })
        })
        .transpose()
}

/// The timestamp columns of `tasks`, normalised in the payload.
const TIME_COLUMNS: [&str; 5] = [
    "due_at",
    "remind_at",
    "completed_at",
    "created_at",
    "updated_at",
];

/// The `task.created` payload: every column of the stored row (the
/// `tasks` table, docs/CONTRACT.md "Tables"), `id` renamed `task_id`, times as RFC 3339 in UTC so the
/// payload is the same whatever the server's `TimeZone` setting (a
/// republish after a RETRY sends identical bytes). Returns the payload and
/// the task id (the CloudEvent id).
pub fn task_created_payload(row: Value) -> Option<(String, Value)> {
    let Value::Object(mut map) = row else {
        return None;
    };
    let id = map.remove("id")?;
    let task_id = id.as_str()?.to_owned();
    map.insert("task_id".to_owned(), id);
    for column in TIME_COLUMNS {
        if let Some(Value::String(text)) = map.get_mut(column) {
            if let Ok(at) = text.parse::<Timestamp>() {
                *text = at.to_string();
            }
        }
    }
    Some((task_id, Value::Object(map)))
}

#[cfg(test)]
mod tests;
