//! The e-mail channel: one relay call through the configured adapter.

use jiff::Timestamp;
use notification_delivery::{
    BusinessKey, EmailMessage, EmailOutcome, ReasonCode, RelayConfig, ReminderContent, Transient,
};

use super::http;
use super::outcome::Attempt;

/// Sends the reminder e-mail of `key`. The delivery id travels as the
/// idempotency key (Resend's `Idempotency-Key`), so even a re-send after a
/// lost outcome write is collapsed by the provider.
pub async fn send(
    relay: &RelayConfig,
    key: &BusinessKey,
    content: &ReminderContent,
    traceparent: Option<&str>,
) -> Attempt {
    let message = EmailMessage::for_reminder(key, content);
    let request = relay.build_request(&message).with_traceparent(traceparent);
    let response = match http::call(request).await {
        Ok(response) => response,
        Err(e) => return Attempt::Transient(Transient::transport(&e)),
    };
    match relay.classify(&response, Timestamp::now()) {
        EmailOutcome::Sent {
            provider_message_id,
        } => Attempt::Sent {
            provider_message_id,
        },
        EmailOutcome::Transient(t) => Attempt::Transient(t),
        EmailOutcome::Permanent(p) => Attempt::Failed {
            reason: ReasonCode::RejectedByProvider,
            detail: p.detail,
        },
    }
}
