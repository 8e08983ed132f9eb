//! The one field reader of event payloads, so that `reminder.due` and
//! `task.completed` are validated by the same code and fail with the same
//! error (docs/CONTRACT.md, "Events": times, task ids and `user_id`s follow
//! one rule in every payload).
//!
//! [`Fields::of`] takes the CloudEvent `data` and yields its object; the
//! typed accessors read one field each and name the field and the broken
//! rule in a [`FieldError`]. Each service maps that error onto its own DROP
//! reason and detail. Never panics, whatever the input.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

use std::borrow::Cow;

use jiff::Timestamp;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::event_time::{parse_event_time, EventTimeError};
use crate::user_id::{check_length, BadLength};

/// One broken rule of a payload: which field, and what was wrong with it.
/// The `Display` text is `<field>: <rule>`, the detail both services keep.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    /// `data` is a string that does not hold JSON.
    #[error("data: is a string but not JSON ({0})")]
    NotJson(String),
    /// `data` (unwrapped) is not a JSON object.
    #[error("data: must be a JSON object")]
    NotObject,
    /// A required field is absent or null.
    #[error("{field}: is required")]
    Missing {
        /// The field.
        field: &'static str,
    },
    /// A field holds another JSON type than the one expected.
    #[error("{field}: must be {expected}")]
    WrongType {
        /// The field.
        field: &'static str,
        /// The expected type, with its article (`a string`, `a boolean`).
        expected: &'static str,
    },
    /// A string that is not a UUID.
    #[error("{field}: must be a UUID, not {value}")]
    NotUuid {
        /// The field.
        field: &'static str,
        /// The offending text, quoted and cut ([`quote`]).
        value: String,
    },
    /// A `user_id` outside 1..=128 characters.
    #[error("{field}: must have 1 to {} characters, has {}", crate::user_id::MAX_CHARS, .length.0)]
    InvalidUserId {
        /// The field.
        field: &'static str,
        /// Its length in characters.
        length: BadLength,
    },
    /// A time that breaks the event-time rule ([`parse_event_time`]).
    #[error("{field}: {value} {why}")]
    InvalidTime {
        /// The field.
        field: &'static str,
        /// The offending text, quoted and cut ([`quote`]).
        value: String,
        /// Which part of the rule it breaks.
        why: EventTimeError,
    },
}

impl FieldError {
    /// The field at fault (`data` when the payload itself is not an object),
    /// so a caller can map a rule of one field to its own code.
    pub fn field(&self) -> &'static str {
        match self {
            FieldError::NotJson(_) | FieldError::NotObject => "data",
            FieldError::Missing { field }
            | FieldError::WrongType { field, .. }
            | FieldError::NotUuid { field, .. }
            | FieldError::InvalidUserId { field, .. }
            | FieldError::InvalidTime { field, .. } => field,
        }
    }
}

/// The object of a CloudEvent `data` payload, read field by field.
#[derive(Debug, Clone, PartialEq)]
pub struct Fields<'a> {
    map: Cow<'a, Map<String, Value>>,
}

impl<'a> Fields<'a> {
    /// The object in `data`. A JSON string holding the object is unwrapped
    /// once, since some publishers put the payload in `data` as a string.
    pub fn of(data: &'a Value) -> Result<Self, FieldError> {
        match data {
            Value::Object(map) => Ok(Fields {
                map: Cow::Borrowed(map),
            }),
            Value::String(text) => match serde_json::from_str(text) {
                Ok(Value::Object(map)) => Ok(Fields {
                    map: Cow::Owned(map),
                }),
                Ok(_) => Err(FieldError::NotObject),
                Err(e) => Err(FieldError::NotJson(e.to_string())),
            },
            _ => Err(FieldError::NotObject),
        }
    }

    /// The field when present and not null: absent and null mean the same.
    pub fn optional(&self, field: &str) -> Option<&Value> {
        self.map.get(field).filter(|v| !v.is_null())
    }

    /// A string field that may be absent or null.
    pub fn optional_str(&self, field: &'static str) -> Result<Option<&str>, FieldError> {
        match self.optional(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(FieldError::WrongType {
                field,
                expected: "a string",
            }),
        }
    }

    /// A required string field (possibly empty).
    pub fn required_str(&self, field: &'static str) -> Result<&str, FieldError> {
        self.optional_str(field)?
            .ok_or(FieldError::Missing { field })
    }

    /// A required UUID (any spelling [`Uuid::try_parse`] accepts).
    pub fn uuid(&self, field: &'static str) -> Result<Uuid, FieldError> {
        let text = self.required_str(field)?;
        Uuid::try_parse(text).map_err(|_| FieldError::NotUuid {
            field,
            value: quote(text),
        })
    }

    /// A required `user_id`: 1 to 128 characters ([`crate::user_id`]).
    pub fn user_id(&self, field: &'static str) -> Result<&str, FieldError> {
        let text = self.required_str(field)?;
        check_length(text).map_err(|length| FieldError::InvalidUserId { field, length })?;
        Ok(text)
    }

    /// A required event time ([`parse_event_time`]).
    pub fn event_time(&self, field: &'static str) -> Result<Timestamp, FieldError> {
        time(field, self.required_str(field)?)
    }

    /// An event time that may be absent or null.
    pub fn optional_event_time(
        &self,
        field: &'static str,
    ) -> Result<Option<Timestamp>, FieldError> {
        self.optional_str(field)?
            .map(|text| time(field, text))
            .transpose()
    }

    /// A required boolean (not a string or number standing for one).
    pub fn boolean(&self, field: &'static str) -> Result<bool, FieldError> {
        self.optional(field)
            .ok_or(FieldError::Missing { field })?
            .as_bool()
            .ok_or(FieldError::WrongType {
                field,
                expected: "a boolean",
            })
    }
}

fn time(field: &'static str, text: &str) -> Result<Timestamp, FieldError> {
    parse_event_time(text).map_err(|why| FieldError::InvalidTime {
        field,
        value: quote(text),
        why,
    })
}

/// Untrusted text quoted for an error message, cut to 64 characters so a
/// hostile payload cannot flood the log or the kept detail.
pub fn quote(value: &str) -> String {
    const MAX: usize = 64;
    if value.chars().count() <= MAX {
        format!("{value:?}")
    } else {
        let cut: String = value.chars().take(MAX).collect();
        format!("{cut:?}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
