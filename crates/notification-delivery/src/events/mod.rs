//! Event payloads: `reminder.due` in, `notification.sent` /
//! `notification.failed` out (docs/CONTRACT.md, "Events").
//!
//! Payload fields are read with the reader both services share
//! ([`dapr_pubsub::payload`]); its [`FieldError`] becomes a precise
//! [`PayloadFault`] (which rule of the payload was broken) here.
//! [`EventError::drop_reason`] says which of the coarser
//! `rejected_events.reason` codes the DROP is stored under, and the precise
//! code leads the stored detail.

mod notification_outcome;
mod reminder_due;

pub use notification_outcome::NotificationOutcome;
pub use reminder_due::ReminderDue;

use std::fmt;

use dapr_pubsub::payload::FieldError;
use dapr_pubsub::RejectReason;

/// Which rule of a `reminder.due` payload was broken (the event is dropped;
/// the code leads the `detail` of its `rejected_events` row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PayloadFault {
    /// The payload is not JSON.
    MalformedJson,
    /// Wrong shape: not an object, a required field missing or of the wrong type.
    SchemaViolation,
    /// `task_id` is not a UUID.
    InvalidTaskId,
    /// `user_id` is empty or longer than 128 characters.
    InvalidUserId,
    /// A time is not RFC 3339 with an offset.
    InvalidTimestamp,
    /// `channels` names something other than `email` / `push`.
    UnknownChannel,
}

impl PayloadFault {
    /// The stable snake_case code.
    pub fn as_str(self) -> &'static str {
        match self {
            PayloadFault::MalformedJson => "malformed_json",
            PayloadFault::SchemaViolation => "schema_violation",
            PayloadFault::InvalidTaskId => "invalid_task_id",
            PayloadFault::InvalidUserId => "invalid_user_id",
            PayloadFault::InvalidTimestamp => "invalid_timestamp",
            PayloadFault::UnknownChannel => "unknown_channel",
        }
    }
}

impl fmt::Display for PayloadFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rejected event: the code for `rejected_events` and a human sentence
/// for the structured log line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{fault}: {message}")]
pub struct EventError {
    /// Which rule was broken.
    pub fault: PayloadFault,
    /// What exactly was wrong (field name, offending value truncated).
    pub message: String,
}

impl EventError {
    /// The `rejected_events.reason` of the DROP: `malformed_json` when the
    /// payload is not JSON at all, else `schema_violation`.
    pub fn drop_reason(&self) -> RejectReason {
        match self.fault {
            PayloadFault::MalformedJson => RejectReason::MalformedJson,
            _ => RejectReason::SchemaViolation,
        }
    }

    /// The detail kept with the DROP: the precise code, then the message.
    pub fn drop_detail(&self) -> String {
        format!("{}: {}", self.fault.as_str(), self.message)
    }

    pub(crate) fn new(fault: PayloadFault, message: impl Into<String>) -> Self {
        EventError {
            fault,
            message: message.into(),
        }
    }
}

/// The shared reader's error as a `reminder.due` fault: the rule picks the
/// precise code, the message is the reader's `<field>: <rule>`.
impl From<FieldError> for EventError {
    fn from(e: FieldError) -> Self {
        let fault = match &e {
            FieldError::NotJson(_) => PayloadFault::MalformedJson,
            FieldError::NotObject | FieldError::Missing { .. } | FieldError::WrongType { .. } => {
                PayloadFault::SchemaViolation
            }
            FieldError::NotUuid { .. } => PayloadFault::InvalidTaskId,
            FieldError::InvalidUserId { .. } => PayloadFault::InvalidUserId,
            FieldError::InvalidTime { .. } => PayloadFault::InvalidTimestamp,
        };
        EventError::new(fault, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
