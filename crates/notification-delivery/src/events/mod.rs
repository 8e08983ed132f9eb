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
pub use reminder_due::{ReminderDue, MAX_USER_ID_CHARS};

use std::fmt;

use dapr_pubsub::RejectReason;
use jiff::Timestamp;

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

/// Parses an RFC 3339 date-time with offset (`2026-12-01T09:00:00Z`,
/// `...+01:00`, optional fraction). Stricter than jiff's Temporal parser on
/// purpose: the contract says RFC 3339, so ISO week dates, bracketed zone
/// annotations or missing seconds are rejected rather than guessed at.
pub fn parse_rfc3339(text: &str) -> Option<Timestamp> {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range)
            .is_some_and(|s| s.iter().all(u8::is_ascii_digit))
    };
    let at = |i: usize, options: &[u8]| b.get(i).is_some_and(|c| options.contains(c));
    let shape_ok = digits(0..4)
        && at(4, b"-")
        && digits(5..7)
        && at(7, b"-")
        && digits(8..10)
        && at(10, b"Tt")
        && digits(11..13)
        && at(13, b":")
        && digits(14..16)
        && at(16, b":")
        && digits(17..19);
    if !shape_ok {
        return None;
    }
    let mut i = 19;
    if at(i, b".") {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    let offset_ok = match b.get(i) {
        Some(b'Z' | b'z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            i + 6 == b.len() && digits(i + 1..i + 3) && at(i + 3, b":") && digits(i + 4..i + 6)
        }
        _ => false,
    };
    if !offset_ok {
        return None;
    }
    text.parse().ok()
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
    fn rfc3339_accepts_the_contract_forms() {
        for ok in [
            "2026-12-01T09:00:00Z",
            "2026-12-01T09:00:00+01:00",
            "2026-12-01t09:00:00.123456z",
            "2026-12-01T09:00:00-05:30",
        ] {
            assert!(parse_rfc3339(ok).is_some(), "{ok}");
        }
        assert_eq!(
            parse_rfc3339("2026-12-01T10:00:00+01:00"),
            parse_rfc3339("2026-12-01T09:00:00Z")
        );
    }

    #[test]
    fn rfc3339_rejects_everything_else() {
        for bad in [
            "",
            "2026-12-01",
            "2026-12-01T09:00Z",
            "2026-12-01T09:00:00",
            "2026-12-01 09:00:00Z",
            "2026-12-01T09:00:00+0100",
            "2026-12-01T09:00:00Z[Europe/Berlin]",
            "2026-12-01T09:00:00.Z",
            "2026-13-01T09:00:00Z",
            "2026-02-30T09:00:00Z",
            "20261201T090000Z",
            "2026-12-01T09:00:00Zjunk",
            "２０２６-12-01T09:00:00Z",
        ] {
            assert!(parse_rfc3339(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn quoting_bounds_length() {
        assert_eq!(quote("sms"), "\"sms\"");
        assert!(quote(&"x".repeat(1000)).len() < 80);
    }
}
