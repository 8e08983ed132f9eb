//! Event payloads: `reminder.due` in, `notification.sent` /
//! `notification.failed` out (docs/CONTRACT.md, "Events").
//!
//! Payload fields are read with the reader both services share
//! ([`todo_contract::payload`]); its [`FieldError`] becomes a precise
//! [`PayloadFault`] (which rule of the payload was broken) here.
//! [`EventError::drop_reason`] says which of the coarser
//! `rejected_events.reason` codes the DROP is stored under, and the precise
//! code leads the stored detail.

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use todo_contract::payload::{quote, FieldError, Fields};
use todo_contract::RejectReason;
use uuid::Uuid;

use crate::keys::{BusinessKey, Channel};
use crate::policy::ReasonCode;

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

/// The payload published after each final delivery outcome.
///
/// `reason` is `null` exactly when the delivery was sent, which is also what
/// decides the CloudEvent type ([`NotificationOutcome::event_type`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationOutcome {
    /// The delivery (see [`BusinessKey::delivery_id`]).
    pub delivery_id: Uuid,
    /// Owner of the task.
    pub user_id: String,
    /// The task.
    pub task_id: Uuid,
    /// `email` or `push`.
    pub channel: Channel,
    /// The provider's id of the sent message, if any.
    pub provider_message_id: Option<String>,
    /// Provider calls made for this delivery.
    pub attempts: u32,
    /// When the outcome was reached (RFC 3339, UTC).
    pub at: Timestamp,
    /// Failure reason; `null` on success.
    pub reason: Option<ReasonCode>,
}

impl NotificationOutcome {
    /// Dapr topic the outcome is published to.
    pub const TOPIC: &'static str = "notifications";
    /// CloudEvent type of a success.
    pub const SENT: &'static str = "notification.sent";
    /// CloudEvent type of a failure.
    pub const FAILED: &'static str = "notification.failed";

    /// A `notification.sent` for the delivery `key`.
    pub fn sent(
        key: &BusinessKey,
        user_id: &str,
        provider_message_id: Option<String>,
        attempts: u32,
        at: Timestamp,
    ) -> Self {
        Self::of(key, user_id, attempts, at, provider_message_id, None)
    }

    /// A `notification.failed` for the delivery `key`.
    pub fn failed(
        key: &BusinessKey,
        user_id: &str,
        reason: ReasonCode,
        attempts: u32,
        at: Timestamp,
    ) -> Self {
        Self::of(key, user_id, attempts, at, None, Some(reason))
    }

    /// The outcome of the delivery `key`; `reason` is `None` exactly when
    /// it was sent.
    fn of(
        key: &BusinessKey,
        user_id: &str,
        attempts: u32,
        at: Timestamp,
        provider_message_id: Option<String>,
        reason: Option<ReasonCode>,
    ) -> Self {
        NotificationOutcome {
            delivery_id: key.delivery_id(),
            user_id: user_id.to_owned(),
            task_id: key.task_id(),
            channel: key.channel(),
            provider_message_id,
            attempts,
            at,
            reason,
        }
    }

    /// `notification.sent` or `notification.failed`.
    pub fn event_type(&self) -> &'static str {
        if self.reason.is_none() {
            Self::SENT
        } else {
            Self::FAILED
        }
    }

    /// CloudEvent id for publishing: the delivery id, because each delivery
    /// has exactly one final outcome; a re-publish after a crash carries the
    /// same id and downstream consumers can de-duplicate on it.
    pub fn cloudevent_id(&self) -> String {
        self.delivery_id.to_string()
    }
}

#[cfg(test)]
mod tests;
