//! Resend: `POST {base}/emails`.
//!
//! Documented shapes: request `{from, to, subject, text, html}` with
//! `Authorization: Bearer <key>` and an optional `Idempotency-Key` header (up
//! to 256 characters, remembered for 24 hours); success `200 {"id": "..."}`;
//! errors `{"statusCode", "name", "message"}`. 429 covers rate limits and
//! daily/monthly quotas; 409 `concurrent_idempotent_requests` means the same
//! key is still in flight and is worth retrying, while 409
//! `invalid_idempotent_request` (same key, different payload) is permanent.

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::json;

use super::{classify_failure, Attempt, EmailAdapter, EmailMessage, RelayConfig};
use crate::provider_http::{post, ProviderRequest, ProviderResponse, RequestError};

/// The Resend adapter (stateless).
#[derive(Debug, Clone, Copy, Default)]
pub struct Resend;

#[derive(Deserialize)]
struct ResendAccepted {
    id: Option<String>,
}

#[derive(Deserialize)]
struct ResendError {
    name: Option<String>,
    message: Option<String>,
}

impl EmailAdapter for Resend {
    fn build_request(
        &self,
        relay: &RelayConfig,
        message: &EmailMessage,
    ) -> Result<ProviderRequest, RequestError> {
        let body = json!({
            "from": relay.from(),
            "to": [message.to],
            "subject": message.subject,
            "text": message.text,
            "html": message.html,
        });
        post(
            &format!("{}/emails", relay.base_url()),
            &[
                ("Authorization", &format!("Bearer {}", relay.api_key())),
                ("Content-Type", "application/json"),
                ("Idempotency-Key", &message.idempotency_key),
            ],
            body.to_string().into_bytes(),
        )
    }

    fn classify(&self, response: &ProviderResponse, now: Timestamp) -> Attempt {
        if response.status().is_success() {
            let id = serde_json::from_slice::<ResendAccepted>(response.body())
                .ok()
                .and_then(|a| a.id)
                .filter(|id| !id.is_empty());
            return Attempt::Sent {
                provider_message_id: id,
            };
        }
        let error = serde_json::from_slice::<ResendError>(response.body()).ok();
        let name = error.as_ref().and_then(|e| e.name.clone());
        let message = error.and_then(|e| match (e.name, e.message) {
            (Some(n), Some(m)) => Some(format!("{n}: {m}")),
            (None, Some(m)) => Some(m),
            (Some(n), None) => Some(n),
            (None, None) => None,
        });
        let in_flight =
            response.status() == 409 && name.as_deref() == Some("concurrent_idempotent_requests");
        classify_failure(response, now, message, in_flight)
    }
}

#[cfg(test)]
mod tests;
