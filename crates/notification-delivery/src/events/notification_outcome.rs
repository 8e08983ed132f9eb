//! `notification.sent` / `notification.failed` (topic `notifications`).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::keys::BusinessKey;
use crate::keys::Channel;
use crate::policy::ReasonCode;

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
        NotificationOutcome {
            delivery_id: key.delivery_id(),
            user_id: user_id.to_owned(),
            task_id: key.task_id(),
            channel: key.channel(),
            provider_message_id,
            attempts,
            at,
            reason: None,
        }
    }

    /// A `notification.failed` for the delivery `key`.
    pub fn failed(
        key: &BusinessKey,
        user_id: &str,
        reason: ReasonCode,
        attempts: u32,
        at: Timestamp,
    ) -> Self {
        NotificationOutcome {
            delivery_id: key.delivery_id(),
            user_id: user_id.to_owned(),
            task_id: key.task_id(),
            channel: key.channel(),
            provider_message_id: None,
            attempts,
            at,
            reason: Some(reason),
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
mod tests {
    use serde_json::json;

    use super::*;

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
