//! Unit tests of `payload`, by the part they cover.

mod payload {
    use super::super::*;
    use serde_json::json;

    fn sample() -> Value {
        json!({"id": "6F1C0F5E-8A3B-4C1D-9E2F-0A1B2C3D4E5F", "user": "u-42",
               "at": "2026-12-01T10:02:00+01:00", "flag": true, "text": "", "none": null})
    }

    #[test]
    fn reads_each_type() -> Result<(), FieldError> {
        let data = sample();
        let f = Fields::of(&data)?;
        assert_eq!(
            f.uuid("id")?.hyphenated().to_string(),
            "6f1c0f5e-8a3b-4c1d-9e2f-0a1b2c3d4e5f"
        );
        assert_eq!(f.user_id("user")?, "u-42");
        assert_eq!(f.event_time("at")?.to_string(), "2026-12-01T09:02:00Z");
        assert!(f.boolean("flag")?);
        assert_eq!(f.required_str("text")?, "");
        assert_eq!(f.optional_str("none")?, None);
        assert_eq!(f.optional_str("absent")?, None);
        assert_eq!(f.optional_event_time("none")?, None);
        assert!(f.optional("none").is_none());
        Ok(())
    }

    #[test]
    fn a_string_holding_the_object_is_unwrapped_once() {
        let data = Value::String(sample().to_string());
        assert!(Fields::of(&data).is_ok());
        let twice = Value::String(Value::String(sample().to_string()).to_string());
        assert_eq!(Fields::of(&twice), Err(FieldError::NotObject));
        assert!(matches!(
            Fields::of(&json!("text")),
            Err(FieldError::NotJson(_))
        ));
        for not_object in [json!(null), json!([1]), json!(1), json!("[1]")] {
            let err = Fields::of(&not_object).expect_err("not an object");
            assert_eq!(err.field(), "data", "{not_object}");
        }
    }

    #[test]
    fn each_failure_names_the_field_and_the_rule() -> Result<(), FieldError> {
        let data = json!({"n": 7, "s": "x", "e": "", "long": "é".repeat(129), "none": null});
        let f = Fields::of(&data)?;
        assert_eq!(
            f.required_str("absent"),
            Err(FieldError::Missing { field: "absent" })
        );
        assert_eq!(
            f.required_str("none"),
            Err(FieldError::Missing { field: "none" })
        );
        assert_eq!(
            f.required_str("n").map_err(|e| e.to_string()),
            Err("n: must be a string".to_owned())
        );
        assert_eq!(
            f.boolean("s").map_err(|e| e.to_string()),
            Err("s: must be a boolean".to_owned())
        );
        assert_eq!(
            f.uuid("s").map_err(|e| e.to_string()),
            Err("s: must be a UUID, not \"x\"".to_owned())
        );
        assert_eq!(
            f.user_id("e").map_err(|e| e.to_string()),
            Err("e: must have 1 to 128 characters, has 0".to_owned())
        );
        assert_eq!(f.user_id("long").map_err(|e| e.field()), Err("long"));
        assert_eq!(
            f.event_time("s").map_err(|e| e.to_string()),
            Err("s: \"x\" is not an RFC 3339 time with offset".to_owned())
        );
        assert!(matches!(
            f.optional_event_time("s"),
            Err(FieldError::InvalidTime {
                why: EventTimeError::Syntax,
                ..
            })
        ));
        Ok(())
    }

    #[test]
    fn quoting_bounds_length() {
        assert_eq!(quote("sms"), "\"sms\"");
        assert!(quote(&"x".repeat(1000)).len() < 80);
    }
}

mod user_id {
    use super::super::*;

    #[test]
    fn characters_are_counted_not_bytes() {
        assert_eq!(check_user_id(""), Err(BadUserId(0)));
        assert_eq!(check_user_id(&"ü".repeat(MAX_USER_ID_CHARS)), Ok(()));
        assert_eq!(
            check_user_id(&"u".repeat(MAX_USER_ID_CHARS + 1)),
            Err(BadUserId(129))
        );
        assert_eq!(
            BadUserId(0).to_string(),
            "user_id must have 1 to 128 characters, has 0"
        );
    }
}

mod event_time {
    use super::super::*;

    #[test]
    fn accepts_the_contract_forms() {
        for ok in [
            "2026-12-01T09:00:00Z",
            "2026-12-01T10:00:00+01:00",
            "2026-12-01T09:00:00.123456Z",
            "2026-12-01t09:00:00z",
            "0001-01-01T00:00:00Z",
            "9999-12-30T22:00:00Z",
            "2026-12-01T09:00:00-23:59",
        ] {
            assert!(parse_event_time(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            parse_event_time("2026-12-01T10:00:00+01:00"),
            parse_event_time("2026-12-01T09:00:00Z")
        );
    }

    #[test]
    fn refuses_other_syntax() {
        for bad in [
            "",
            "tomorrow",
            "2026-12-01",
            "2026-12-01T09:00Z",
            "2026-12-01 09:00:00Z",
            "2026-12-01T09:00:00",
            "2026-12-01T09:00:00+0100",
            "2026-12-01T09:00:00+24:00",
            "2026-02-30T00:00:00Z",
            "2026-12-01T24:00:00Z",
            "2026-12-01T09:00:00.Z",
            "2026-12-01T09:00:00Z[Europe/Berlin]",
            "10000-01-01T00:00:00Z",
            "-0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
        ] {
            assert_eq!(parse_event_time(bad), Err(EventTimeError::Syntax), "{bad}");
        }
    }

    #[test]
    fn refuses_instants_postgres_cannot_store() {
        for bad in [
            "0000-01-01T00:00:00Z",
            "0001-01-01T00:00:00+23:59",
            "0000-12-31T23:59:59Z",
        ] {
            assert_eq!(
                parse_event_time(bad),
                Err(EventTimeError::OutOfRange),
                "{bad}"
            );
        }
    }
}
