//! Event payloads: `reminder.due` in, `notification.sent` /
//! `notification.failed` out (docs/CONTRACT.md, "Events").
//!
//! Validation errors carry a precise [`PayloadFault`] (which rule of the
//! payload was broken); [`EventError::drop_reason`] says which of the
//! coarser `rejected_events.reason` codes the DROP is stored under, and the
//! precise code leads the stored detail.

mod notification_outcome;
mod reminder_due;

pub use notification_outcome::NotificationOutcome;
pub use reminder_due::ReminderDue;

use std::fmt;

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

/// Cuts untrusted text quoted in error messages, so a hostile payload cannot
/// flood the log.
pub(crate) fn quote(value: &str) -> String {
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

    #[test]
    fn quoting_bounds_length() {
        assert_eq!(quote("sms"), "\"sms\"");
        assert!(quote(&"x".repeat(1000)).len() < 80);
    }
}
