//! Unit tests of `events`, by the part they cover.

mod events {
    use super::super::*;

    #[test]
    fn each_reader_rule_has_its_precise_code() {
        let cases = [
            (FieldError::NotJson("x".into()), PayloadFault::MalformedJson),
            (FieldError::NotObject, PayloadFault::SchemaViolation),
            (
                FieldError::Missing { field: "title" },
                PayloadFault::SchemaViolation,
            ),
            (
                FieldError::WrongType {
                    field: "user_id",
                    expected: "a string",
                },
                PayloadFault::SchemaViolation,
            ),
        ];
        for (e, fault) in cases {
            let message = e.to_string();
            let mapped = EventError::from(e);
            assert_eq!(mapped.fault, fault);
            assert_eq!(mapped.drop_detail(), format!("{fault}: {message}"));
        }
    }
}

mod reminder_due {
    use serde_json::json;

    use super::super::*;

    fn valid() -> Value {
        json!({
            "task_id": "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b",
            "user_id": "u-42",
            "title": "Pay rent",
            "due_at": "2026-12-01T09:00:00Z",
            "remind_at": "2026-12-01T08:30:00Z",
            "channels": ["email", "push"]
        })
    }

    fn reason(v: &Value) -> PayloadFault {
        ReminderDue::from_value(v).unwrap_err().fault
    }

    #[test]
    fn parses_the_contract_example() {
        let r = ReminderDue::from_json(valid().to_string().as_bytes()).unwrap();
        assert_eq!(
            r.task_id.to_string(),
            "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
        );
        assert_eq!(r.user_id, "u-42");
        assert_eq!(r.title, "Pay rent");
        assert_eq!(r.due_at, Some("2026-12-01T09:00:00Z".parse().unwrap()));
        assert_eq!(r.remind_at, "2026-12-01T08:30:00Z".parse().unwrap());
        assert_eq!(r.channels, Some(vec![Channel::Email, Channel::Push]));
        // Serialising gives back the same payload.
        assert_eq!(serde_json::to_value(&r).unwrap(), valid());
    }

    #[test]
    fn optional_fields_may_be_absent() {
        let mut v = valid();
        let obj = v.as_object_mut().unwrap();
        obj.remove("due_at");
        obj.remove("channels");
        let r = ReminderDue::from_value(&v).unwrap();
        assert_eq!(r.due_at, None);
        assert_eq!(r.channels, None);
        assert_eq!(r.channels_or(&[Channel::Push]), vec![Channel::Push]);
    }

    #[test]
    fn a_missing_or_null_title_is_a_schema_violation() {
        for title in [None, Some(Value::Null)] {
            let mut v = valid();
            let obj = v.as_object_mut().unwrap();
            match title {
                None => obj.remove("title"),
                Some(t) => obj.insert("title".into(), t),
            };
            let err = ReminderDue::from_value(&v).unwrap_err();
            assert_eq!(err.fault, PayloadFault::SchemaViolation);
            assert!(err.message.contains("title"), "{}", err.message);
        }
    }

    #[test]
    fn times_postgres_cannot_store_are_invalid_timestamps() {
        for at in ["0000-01-01T00:00:00Z", "0001-01-01T00:00:00+23:59"] {
            let mut v = valid();
            v["remind_at"] = json!(at);
            let err = ReminderDue::from_value(&v).unwrap_err();
            assert_eq!(err.fault, PayloadFault::InvalidTimestamp, "{at}");
        }
    }

    #[test]
    fn explicit_channels_win_and_are_deduplicated() {
        let mut v = valid();
        v["channels"] = json!(["push", "push"]);
        let r = ReminderDue::from_value(&v).unwrap();
        assert_eq!(r.channels_or(Channel::ALL), vec![Channel::Push]);
        v["channels"] = json!([]);
        assert_eq!(
            ReminderDue::from_value(&v)
                .unwrap()
                .channels_or(Channel::ALL),
            vec![]
        );
    }

    #[test]
    fn data_as_a_json_string_is_unwrapped() {
        let v = Value::String(valid().to_string());
        assert!(ReminderDue::from_value(&v).is_ok());
        assert_eq!(
            reason(&Value::String("{".into())),
            PayloadFault::MalformedJson
        );
    }

    #[test]
    fn malformed_json() {
        let err = ReminderDue::from_json(b"{\"task_id\":").unwrap_err();
        assert_eq!(err.fault, PayloadFault::MalformedJson);
    }

    #[test]
    fn schema_violations() {
        assert_eq!(reason(&json!([1, 2])), PayloadFault::SchemaViolation);
        let mut v = valid();
        v.as_object_mut().unwrap().remove("remind_at");
        assert_eq!(reason(&v), PayloadFault::SchemaViolation);
        let mut v = valid();
        v["user_id"] = json!(42);
        assert_eq!(reason(&v), PayloadFault::SchemaViolation);
        let mut v = valid();
        v["channels"] = json!("email");
        assert_eq!(reason(&v), PayloadFault::SchemaViolation);
        let mut v = valid();
        v["channels"] = json!(["email", 1]);
        assert_eq!(reason(&v), PayloadFault::SchemaViolation);
    }

    #[test]
    fn invalid_values() {
        let mut v = valid();
        v["task_id"] = json!("not-a-uuid");
        assert_eq!(reason(&v), PayloadFault::InvalidTaskId);

        let mut v = valid();
        v["user_id"] = json!("");
        assert_eq!(reason(&v), PayloadFault::InvalidUserId);
        v["user_id"] = json!("ü".repeat(todo_contract::payload::MAX_USER_ID_CHARS));
        assert!(
            ReminderDue::from_value(&v).is_ok(),
            "128 characters are allowed"
        );
        v["user_id"] = json!("u".repeat(todo_contract::payload::MAX_USER_ID_CHARS + 1));
        assert_eq!(reason(&v), PayloadFault::InvalidUserId);

        let mut v = valid();
        v["remind_at"] = json!("2026-12-01 08:30");
        assert_eq!(reason(&v), PayloadFault::InvalidTimestamp);
        let mut v = valid();
        v["due_at"] = json!("tomorrow");
        assert_eq!(reason(&v), PayloadFault::InvalidTimestamp);
    }

    #[test]
    fn unknown_channel_is_its_own_reason() {
        let mut v = valid();
        v["channels"] = json!(["email", "sms"]);
        let err = ReminderDue::from_value(&v).unwrap_err();
        assert_eq!(err.fault, PayloadFault::UnknownChannel);
        assert_eq!(err.fault.as_str(), "unknown_channel");
        assert!(err.message.contains("\"sms\""));
    }

    #[test]
    fn remind_at_is_keyed_at_microseconds() {
        let mut v = valid();
        v["remind_at"] = json!("2026-12-01T08:30:00.123456789Z");
        let r = ReminderDue::from_value(&v).unwrap();
        assert_eq!(r.remind_at.to_string(), "2026-12-01T08:30:00.123456Z");
    }
}

mod notification_outcome {
    use serde_json::json;

    use super::super::*;

    fn key() -> BusinessKey {
        BusinessKey::new(
            "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b".parse().unwrap(),
            "2026-12-01T08:30:00Z".parse().unwrap(),
            Channel::Email,
            "ada@example.com",
        )
    }

    fn at() -> Timestamp {
        "2026-12-01T08:30:02Z".parse().unwrap()
    }

    #[test]
    fn sent_payload_matches_the_contract() {
        let o = NotificationOutcome::sent(&key(), "u-42", Some("re_1".into()), 1, at());
        assert_eq!(o.event_type(), "notification.sent");
        assert_eq!(o.cloudevent_id(), "a532a81a-289a-5697-ace2-8b0b4e7cdb26");
        let v: serde_json::Value = serde_json::to_value(&o).unwrap();
        assert_eq!(
            v,
            json!({
                "delivery_id": "a532a81a-289a-5697-ace2-8b0b4e7cdb26",
                "user_id": "u-42",
                "task_id": "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b",
                "channel": "email",
                "provider_message_id": "re_1",
                "attempts": 1,
                "at": "2026-12-01T08:30:02Z",
                "reason": null,
            })
        );
    }

    #[test]
    fn failed_payload_has_reason() {
        let o = NotificationOutcome::failed(&key(), "u-42", ReasonCode::AttemptsExhausted, 5, at());
        assert_eq!(o.event_type(), "notification.failed");
        let v: serde_json::Value = serde_json::to_value(&o).unwrap();
        assert_eq!(v["reason"], "attempts_exhausted");
        assert_eq!(v["provider_message_id"], serde_json::Value::Null);
        assert_eq!(v["attempts"], 5);
        let back: NotificationOutcome = serde_json::from_value(v).unwrap();
        assert_eq!(back, o);
    }
}
