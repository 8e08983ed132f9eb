//! `reminder.due` (topic `reminders`).

use dapr_pubsub::payload::{quote, Fields};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::{EventError, PayloadFault};
use crate::keys::Channel;

/// A validated `reminder.due` payload.
///
/// Built only through [`ReminderDue::from_json`] / [`ReminderDue::from_value`],
/// so holding one means the contract's rules were checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReminderDue {
    /// The task (a UUID).
    pub task_id: Uuid,
    /// Opaque owner id, 1..=128 characters.
    pub user_id: String,
    /// Task title: required, possibly empty (rendered as "Untitled task").
    pub title: String,
    /// When the task is due, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_at: Option<Timestamp>,
    /// When the reminder fires, cut to microseconds; with `task_id` it
    /// identifies the reminder.
    pub remind_at: Timestamp,
    /// Requested channels, de-duplicated in order; `None` = the subscriber's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channels: Option<Vec<Channel>>,
}

impl ReminderDue {
    /// CloudEvent `type` of this payload.
    pub const EVENT_TYPE: &'static str = "reminder.due";

    /// Parses and validates the CloudEvent `data` bytes.
    pub fn from_json(bytes: &[u8]) -> Result<Self, EventError> {
        let value: Value = serde_json::from_slice(bytes).map_err(|e| {
            EventError::new(
                PayloadFault::MalformedJson,
                format!("payload is not JSON: {e}"),
            )
        })?;
        Self::from_value(&value)
    }

    /// Validates an already parsed `data` value with the shared field
    /// reader ([`Fields`]; a JSON string holding the object is unwrapped
    /// once, since some publishers put the payload in `data` as a string).
    pub fn from_value(value: &Value) -> Result<Self, EventError> {
        let fields = Fields::of(value)?;
        let task_id = fields.uuid("task_id")?;
        let user_id = fields.user_id("user_id")?.to_owned();
        let title = fields.required_str("title")?.to_owned();
        let remind_at = fields.event_time("remind_at")?;
        // Postgres keeps microseconds: the business key must use the instant
        // the row stores, or two spellings of one reminder less than a
        // microsecond apart would get two ids for one unique row.
        let remind_at =
            Timestamp::from_microsecond(remind_at.as_microsecond()).unwrap_or(remind_at);
        let due_at = fields.optional_event_time("due_at")?;
        let channels = match fields.optional("channels") {
            None => None,
            Some(Value::Array(items)) => Some(channels(items)?),
            Some(_) => {
                return Err(EventError::new(
                    PayloadFault::SchemaViolation,
                    "channels must be an array of strings",
                ));
            }
        };
        Ok(ReminderDue {
            task_id,
            user_id,
            title,
            due_at,
            remind_at,
            channels,
        })
    }

    /// The channels to deliver: the event's own list when it has one
    /// (possibly empty), else the subscriber's enabled channels.
    pub fn channels_or(&self, subscriber_channels: &[Channel]) -> Vec<Channel> {
        match &self.channels {
            Some(requested) => requested.clone(),
            None => subscriber_channels.to_vec(),
        }
    }
}

fn channels(items: &[Value]) -> Result<Vec<Channel>, EventError> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let Value::String(name) = item else {
            return Err(EventError::new(
                PayloadFault::SchemaViolation,
                "channels must be an array of strings",
            ));
        };
        let channel: Channel = name.parse().map_err(|_| {
            EventError::new(
                PayloadFault::UnknownChannel,
                format!("channel {} is not \"email\" or \"push\"", quote(name)),
            )
        })?;
        if !out.contains(&channel) {
            out.push(channel);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

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
        assert_eq!(r.channels_or(&Channel::ALL), vec![Channel::Push]);
        v["channels"] = json!([]);
        assert_eq!(
            ReminderDue::from_value(&v)
                .unwrap()
                .channels_or(&Channel::ALL),
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
        v["user_id"] = json!("ü".repeat(dapr_pubsub::user_id::MAX_CHARS));
        assert!(
            ReminderDue::from_value(&v).is_ok(),
            "128 characters are allowed"
        );
        v["user_id"] = json!("u".repeat(dapr_pubsub::user_id::MAX_CHARS + 1));
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
