//! The `task.completed` payload (docs/CONTRACT.md, "Events"), validated field by
//! field so that a DROP names what was wrong. Pure: tested natively.

use recurrence_rules::jiff::Timestamp;
use serde_json::Value;
use uuid::Uuid;

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

/// Why a payload was rejected: the field and what is wrong with it, kept as
/// the `detail` of the `rejected_events` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    /// The offending field (`data` when the payload is not an object).
    pub field: &'static str,
    /// What was expected.
    pub problem: &'static str,
}

impl std::fmt::Display for SchemaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.problem)
    }
}

/// Validates `data` of a `task.completed` event: `task_id` a UUID,
/// `user_id` 1..=128 characters, `completed_at` RFC 3339 with an offset,
/// `has_recurrence` a boolean. Unknown extra fields are allowed (publishers
/// may add some).
pub fn parse(data: &Value) -> Result<TaskCompleted, SchemaError> {
    let Value::Object(map) = data else {
        return Err(SchemaError {
            field: "data",
            problem: "must be a JSON object",
        });
    };
    let field = |name: &'static str| {
        map.get(name).filter(|v| !v.is_null()).ok_or(SchemaError {
            field: name,
            problem: "is required",
        })
    };
    let text = |name: &'static str| {
        field(name)?.as_str().ok_or(SchemaError {
            field: name,
            problem: "must be a string",
        })
    };
    let task_id = Uuid::try_parse(text("task_id")?).map_err(|_| SchemaError {
        field: "task_id",
        problem: "must be a UUID",
    })?;
    let user_id = text("user_id")?;
    if dapr_pubsub::user_id::check_length(user_id).is_err() {
        return Err(SchemaError {
            field: "user_id",
            problem: "must be 1 to 128 characters",
        });
    }
    let completed_at =
        dapr_pubsub::parse_event_time(text("completed_at")?).map_err(|why| SchemaError {
            field: "completed_at",
            problem: match why {
                dapr_pubsub::EventTimeError::Syntax => "must be an RFC 3339 time with an offset",
                dapr_pubsub::EventTimeError::OutOfRange => {
                    "must be on or after 0001-01-01T00:00:00Z"
                }
            },
        })?;
    let has_recurrence = field("has_recurrence")?.as_bool().ok_or(SchemaError {
        field: "has_recurrence",
        problem: "must be a boolean",
    })?;
    Ok(TaskCompleted {
        task_id: task_id.hyphenated().to_string(),
        completed_at,
        has_recurrence,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn valid() -> Value {
        json!({"task_id": "6F1C0F5E-8A3B-4C1D-9E2F-0A1B2C3D4E5F", "user_id": "u-42",
               "completed_at": "2026-12-01T10:02:00+01:00", "has_recurrence": true, "extra": 1})
    }

    fn field_of(data: Value) -> &'static str {
        parse(&data).expect_err("must be rejected").field
    }

    #[test]
    fn reads_a_valid_payload() {
        let p = parse(&valid()).expect("valid");
        assert_eq!(p.task_id, "6f1c0f5e-8a3b-4c1d-9e2f-0a1b2c3d4e5f");
        assert_eq!(p.completed_at.to_string(), "2026-12-01T09:02:00Z");
        assert!(p.has_recurrence);
    }

    #[test]
    fn each_violation_names_its_field() {
        let with = |k: &str, v: Value| {
            let mut d = valid();
            d[k] = v;
            d
        };
        let without = |k: &str| {
            let mut d = valid();
            d.as_object_mut().map(|m| m.remove(k));
            d
        };
        assert_eq!(field_of(json!(null)), "data");
        assert_eq!(field_of(json!([1])), "data");
        assert_eq!(field_of(json!("text")), "data");
        for k in ["task_id", "user_id", "completed_at", "has_recurrence"] {
            assert_eq!(field_of(without(k)), k);
            assert_eq!(field_of(with(k, Value::Null)), k);
        }
        assert_eq!(field_of(with("task_id", json!("not-a-uuid"))), "task_id");
        assert_eq!(field_of(with("task_id", json!(42))), "task_id");
        assert_eq!(field_of(with("user_id", json!(""))), "user_id");
        assert_eq!(field_of(with("user_id", json!("é".repeat(129)))), "user_id");
        assert!(parse(&with("user_id", json!("é".repeat(128)))).is_ok());
        assert_eq!(field_of(with("user_id", json!(7))), "user_id");
        for bad in ["2026-12-01T10:02:00", "yesterday", "2026-13-01T00:00:00Z"] {
            assert_eq!(field_of(with("completed_at", json!(bad))), "completed_at");
        }
        assert_eq!(
            field_of(with("has_recurrence", json!("true"))),
            "has_recurrence"
        );
        let err = parse(&with("has_recurrence", json!(1))).expect_err("rejected");
        assert_eq!(err.to_string(), "has_recurrence: must be a boolean");
    }
}
