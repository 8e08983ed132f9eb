//! The `task.completed` payload (docs/CONTRACT.md, "Events"), validated field by
//! field so that a DROP names what was wrong. Pure: tested natively.

use recurrence_rules::jiff::Timestamp;
use serde_json::Value;
use todo_contract::payload::{FieldError, Fields};

/// The CloudEvent type this service acts on; every other type is ignored.
pub const TASK_COMPLETED: &str = "task.completed";

/// A valid `task.completed` payload. The event is only the trigger: the
/// task row is authoritative, but `completed_at` fills in when the row has
/// none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskCompleted {
    /// `task_id`, canonical (lower-case, hyphenated) for SQL and logs.
    pub task_id: String,
    /// `completed_at`.
    pub completed_at: Timestamp,
    /// `has_recurrence`: `false` means nothing to do.
    pub has_recurrence: bool,
}

/// Validates `data` of a `task.completed` event with the shared field
/// reader ([`Fields`]): `task_id` a UUID, `user_id` 1..=128 characters,
/// `completed_at` RFC 3339 with an offset, `has_recurrence` a boolean.
/// Unknown extra fields are allowed (publishers may add some). The error
/// names the field and the rule; it is kept as the `detail` of the
/// `schema_violation` row in `rejected_events`.
pub fn parse(data: &Value) -> Result<TaskCompleted, FieldError> {
    let fields = Fields::of(data)?;
    let task_id = fields.uuid("task_id")?;
    fields.user_id("user_id")?;
    let completed_at = fields.event_time("completed_at")?;
    let has_recurrence = fields.boolean("has_recurrence")?;
    Ok(TaskCompleted {
        task_id: task_id.hyphenated().to_string(),
        completed_at,
        has_recurrence,
    })
}

#[cfg(test)]
mod tests;
