use super::*;
use serde_json::json;

fn valid() -> Value {
    json!({"task_id": "6F1C0F5E-8A3B-4C1D-9E2F-0A1B2C3D4E5F", "user_id": "u-42",
           "completed_at": "2026-12-01T10:02:00+01:00", "has_recurrence": true, "extra": 1})
}

fn field_of(data: Value) -> &'static str {
    parse(&data).expect_err("must be rejected").field()
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
    assert_eq!(field_of(json!("[1]")), "data");
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

#[test]
fn a_string_holding_the_payload_is_read_like_reminder_due() {
    let p = parse(&Value::String(valid().to_string())).expect("unwrapped once");
    assert_eq!(p.task_id, "6f1c0f5e-8a3b-4c1d-9e2f-0a1b2c3d4e5f");
}
