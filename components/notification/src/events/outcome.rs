//! From a provider's answer to the delivery log, the outcome event and the
//! log line.
//!
//! [`Attempt`] is what one call amounted to on either channel; [`settle`]
//! applies the attempt budget (`AttemptPolicy::settle`); [`publish`] sends
//! `notification.sent` / `notification.failed` with the delivery id as
//! CloudEvent id, so a re-publish after a failure is recognisably the same
//! event; [`log_line`] writes the one structured line per delivery with the
//! recipient masked.

use std::time::Duration;

use component_kit::dapr::Sidecar;
use component_kit::log;
use futures::future::{select, Either};
use jiff::Timestamp;
use notification_delivery::{
    mask_email, mask_token, AttemptPolicy, AttemptResult, BusinessKey, Channel, DeliveryStatus,
    NotificationOutcome, ReasonCode, Transient,
};
use serde_json::json;

use super::deadline::Deadline;

/// Deadline of one publish to the sidecar (Dapr's own publish timeout is 5 s).
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(5);

/// What one delivery attempt amounted to, whatever the channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The provider accepted the message.
    Sent {
        /// The provider's id for it.
        provider_message_id: Option<String>,
    },
    /// Worth retrying (429, 5xx, timeouts, transport errors).
    Transient(Transient),
    /// Final failure.
    Failed {
        /// Stable reason code.
        reason: ReasonCode,
        /// The provider's message (for `last_error`).
        detail: String,
    },
}

impl Attempt {
    fn result(&self) -> AttemptResult {
        match self {
            Attempt::Sent { .. } => AttemptResult::Sent,
            Attempt::Transient(_) => AttemptResult::Transient,
            Attempt::Failed { reason, .. } => AttemptResult::Failed(*reason),
        }
    }
}

/// How a claimed delivery ends this time: the row to write and what to
/// tell Dapr.
#[derive(Debug, Clone, PartialEq)]
pub struct Settled {
    /// Status to store.
    pub status: DeliveryStatus,
    /// Failure reason to store and publish.
    pub reason: Option<ReasonCode>,
    /// Provider calls made, this one included.
    pub attempts: u32,
    /// Provider message id of a sent delivery.
    pub provider_message_id: Option<String>,
    /// Provider error text for `last_error`.
    pub last_error: Option<String>,
    /// The provider's `Retry-After`, recorded as `next_attempt_at`.
    pub retry_after: Option<Duration>,
    /// When the outcome was reached (milliseconds, so the stored
    /// `updated_at` and a later re-publish carry the same instant).
    pub at: Timestamp,
    /// Final: publish the outcome event.
    pub publish: bool,
    /// Transient: the event needs a RETRY.
    pub retry: bool,
}

/// Settles one provider call made when `attempts_before` calls were already
/// recorded.
pub fn settle(policy: AttemptPolicy, attempts_before: u32, attempt: Attempt) -> Settled {
    let attempts = attempts_before.saturating_add(1);
    let settlement = policy.settle(attempt.result(), attempts);
    let (provider_message_id, last_error, retry_after) = match attempt {
        Attempt::Sent {
            provider_message_id,
        } => (provider_message_id, None, None),
        Attempt::Transient(t) => (None, Some(t.detail), t.retry_after),
        Attempt::Failed { detail, .. } => (None, Some(detail), None),
    };
    Settled {
        status: settlement.status,
        reason: settlement.reason,
        attempts,
        provider_message_id,
        last_error,
        // Only a delivery that will be retried waits for the provider.
        retry_after: retry_after.filter(|_| settlement.retry_event),
        at: now_ms(),
        publish: settlement.publish_outcome,
        retry: settlement.retry_event,
    }
}

/// A claimed delivery that fails without a provider call: its budget is
/// already spent (the limit was lowered since its last attempt:
/// `attempts_exhausted`), or its channel cannot be served.
pub fn fail_without_call(reason: ReasonCode, attempts: u32) -> Settled {
    Settled {
        status: DeliveryStatus::Failed,
        reason: Some(reason),
        attempts,
        provider_message_id: None,
        last_error: None,
        retry_after: None,
        at: now_ms(),
        publish: true,
        retry: false,
    }
}

/// The current time, cut to milliseconds (Postgres keeps microseconds, so
/// the value survives the round trip unchanged).
pub fn now_ms() -> Timestamp {
    let now = Timestamp::now();
    Timestamp::from_millisecond(now.as_millisecond()).unwrap_or(now)
}

/// The outcome event of a final delivery.
#[allow(clippy::too_many_arguments)]
pub fn outcome_event(
    key: &BusinessKey,
    user_id: &str,
    status: DeliveryStatus,
    reason: Option<ReasonCode>,
    provider_message_id: Option<String>,
    attempts: u32,
    at: Timestamp,
) -> NotificationOutcome {
    match (status, reason) {
        (DeliveryStatus::Sent, _) => {
            NotificationOutcome::sent(key, user_id, provider_message_id, attempts, at)
        }
        // A failed row always has a reason; `rejected_by_provider` is the
        // honest fallback should one ever be missing.
        (_, reason) => NotificationOutcome::failed(
            key,
            user_id,
            reason.unwrap_or(ReasonCode::RejectedByProvider),
            attempts,
            at,
        ),
    }
}

/// Publishes `outcome` to `notifications`; `Err` describes the fault.
pub async fn publish(
    sidecar: &Sidecar,
    outcome: &NotificationOutcome,
    traceparent: Option<&str>,
) -> Result<(), String> {
    let payload = serde_json::to_value(outcome).map_err(|e| e.to_string())?;
    let id = outcome.cloudevent_id();
    let call = Box::pin(sidecar.publish(
        NotificationOutcome::TOPIC,
        &id,
        outcome.event_type(),
        &payload,
        traceparent,
    ));
    let raced = select(call, Deadline::after(PUBLISH_TIMEOUT)).await;
    match raced {
        Either::Left((result, _)) => result,
        Either::Right(_) => Err(format!(
            "publish to the sidecar timed out after {}s",
            PUBLISH_TIMEOUT.as_secs()
        )),
    }
}

/// The recipient as it may appear in logs.
pub fn masked_recipient(key: &BusinessKey) -> String {
    match (key.channel(), key.recipient()) {
        (_, "") => String::new(),
        (Channel::Email, address) => mask_email(address),
        (Channel::Push, token) => mask_token(token),
    }
}

/// Provider text with the recipient masked: relays like to quote the
/// address they refused.
pub fn scrub(text: &str, key: &BusinessKey) -> String {
    let recipient = key.recipient();
    if recipient.is_empty() {
        return text.to_owned();
    }
    let mut out = text.replace(recipient, &masked_recipient(key));
    if key.channel() == Channel::Email {
        // Case-insensitive second pass (addresses are quoted as typed).
        let lower = recipient.to_ascii_lowercase();
        if let Some(pos) = out.to_ascii_lowercase().find(&lower) {
            if let Some(found) = out.get(pos..pos + lower.len()) {
                let found = found.to_owned();
                out = out.replace(&found, &masked_recipient(key));
            }
        }
    }
    out
}

/// What happened to one delivery in this request, for the log line.
pub struct LogLine<'a> {
    /// CloudEvent id of the reminder.
    pub event_id: &'a str,
    /// The delivery.
    pub key: &'a BusinessKey,
    /// `key.delivery_id()`.
    pub delivery_id: &'a str,
    /// Status after this request.
    pub status: Option<DeliveryStatus>,
    /// Failure reason.
    pub reason: Option<ReasonCode>,
    /// Provider calls made so far.
    pub attempts: Option<u32>,
    /// `sent`, `failed`, `retrying`, `skipped`, `republished`, `busy`, ...
    pub action: &'a str,
    /// Provider or publish error, scrubbed here.
    pub error: Option<&'a str>,
}

/// Writes the one structured line of a delivery: ids, channel, status,
/// reason, never the address or token in clear.
pub fn log_line(line: LogLine<'_>) {
    let fields = json!({
        "event_id": line.event_id,
        "delivery_id": line.delivery_id,
        "task_id": line.key.task_id().to_string(),
        "channel": line.key.channel().as_str(),
        "recipient": masked_recipient(line.key),
        "status": line.status.map(DeliveryStatus::as_str),
        "reason": line.reason.map(ReasonCode::as_str),
        "attempts": line.attempts,
        "action": line.action,
        "error": line.error.map(|e| scrub(e, line.key)),
    });
    match line.action {
        "busy" | "retrying" | "publish_failed" | "not_recorded" => log::warn("delivery", fields),
        _ => log::info("delivery", fields),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(channel: Channel, recipient: &str) -> BusinessKey {
        BusinessKey::new(
            "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b".parse().unwrap(),
            "2026-12-01T08:30:00Z".parse().unwrap(),
            channel,
            recipient,
        )
    }

    #[test]
    fn transient_then_exhausted() {
        let policy = AttemptPolicy::new(2).unwrap();
        let busy = Transient::transport("HTTP 503");
        let first = settle(policy, 0, Attempt::Transient(busy.clone()));
        assert_eq!(
            (first.status, first.attempts, first.retry, first.publish),
            (DeliveryStatus::Retrying, 1, true, false)
        );
        let last = settle(policy, 1, Attempt::Transient(busy));
        assert_eq!(
            (last.status, last.reason, last.retry, last.publish),
            (
                DeliveryStatus::Failed,
                Some(ReasonCode::AttemptsExhausted),
                false,
                true
            )
        );
    }

    #[test]
    fn sent_and_rejected() {
        let policy = AttemptPolicy::default();
        let sent = settle(
            policy,
            1,
            Attempt::Sent {
                provider_message_id: Some("m-1".into()),
            },
        );
        assert_eq!(
            (sent.status, sent.attempts, sent.publish),
            (DeliveryStatus::Sent, 2, true)
        );
        assert_eq!(sent.provider_message_id.as_deref(), Some("m-1"));
        let rejected = settle(
            policy,
            0,
            Attempt::Failed {
                reason: ReasonCode::RejectedByProvider,
                detail: "bad from".into(),
            },
        );
        assert_eq!(rejected.reason, Some(ReasonCode::RejectedByProvider));
        assert_eq!(rejected.last_error.as_deref(), Some("bad from"));
    }

    #[test]
    fn recipients_are_masked_and_scrubbed() {
        let k = key(Channel::Email, "Ada@Example.com");
        assert_eq!(masked_recipient(&k), "A***@Example.com");
        assert_eq!(
            scrub("ada@example.com is not allowed", &k),
            "A***@Example.com is not allowed"
        );
        let t = key(Channel::Push, "fcm-token-abcdefghijklmnop");
        assert_eq!(
            scrub("token fcm-token-abcdefghijklmnop is bad", &t),
            "token fcm-to… is bad"
        );
        assert_eq!(
            masked_recipient(&BusinessKey::without_recipient(
                k.task_id(),
                k.remind_at(),
                Channel::Push
            )),
            ""
        );
    }

    #[test]
    fn outcome_events() {
        let k = key(Channel::Email, "ada@example.com");
        let at = now_ms();
        let e = outcome_event(
            &k,
            "u-42",
            DeliveryStatus::Sent,
            None,
            Some("m".into()),
            1,
            at,
        );
        assert_eq!(e.event_type(), "notification.sent");
        let f = outcome_event(&k, "u-42", DeliveryStatus::Failed, None, None, 0, at);
        assert_eq!(f.reason, Some(ReasonCode::RejectedByProvider));
    }
}
