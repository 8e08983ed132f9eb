//! Twilio SendGrid v3: `POST {base}/v3/mail/send`.
//!
//! Documented shapes: `Authorization: Bearer <key>`; body with
//! `personalizations[].to[].email`, `from {email, name}`, `subject` and
//! `content[]` where `text/plain` must precede `text/html`; success is
//! `202 Accepted` with an empty body and the message id in `X-Message-Id`;
//! errors are `{"errors": [{"message", "field", "help"}]}`. SendGrid has no
//! idempotency key, so the delivery id travels in `custom_args` (echoed in
//! event webhooks) for correlation.

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{classify_failure, split_mailbox, Attempt, EmailAdapter, EmailMessage, RelayConfig};
use crate::provider_http::{header, post, ProviderRequest, ProviderResponse, RequestError};

/// The SendGrid adapter (stateless).
#[derive(Debug, Clone, Copy, Default)]
pub struct SendGrid;

#[derive(Deserialize)]
struct SendGridError {
    #[serde(default)]
    errors: Vec<ErrorItem>,
}

#[derive(Deserialize)]
struct ErrorItem {
    message: Option<String>,
    field: Option<String>,
}

fn error_message(body: &[u8]) -> Option<String> {
    let parsed: SendGridError = serde_json::from_slice(body).ok()?;
    let parts: Vec<String> = parsed
        .errors
        .into_iter()
        .filter_map(|e| match (e.field, e.message) {
            (Some(f), Some(m)) if !f.is_empty() => Some(format!("{f}: {m}")),
            (_, Some(m)) => Some(m),
            (_, None) => None,
        })
        .collect();
    if parts.is_empty() {
        None
    } else {
        Some(parts.join("; "))
    }
}

impl EmailAdapter for SendGrid {
    fn build_request(
        &self,
        relay: &RelayConfig,
        message: &EmailMessage,
    ) -> Result<ProviderRequest, RequestError> {
        let (from_name, from_email) = split_mailbox(relay.from());
        let mut from = Map::new();
        from.insert("email".into(), Value::from(from_email));
        if let Some(name) = from_name {
            from.insert("name".into(), Value::from(name));
        }
        let body = json!({
            "personalizations": [{"to": [{"email": message.to}]}],
            "from": from,
            "subject": message.subject,
            "content": [
                {"type": "text/plain", "value": message.text},
                {"type": "text/html", "value": message.html},
            ],
            "custom_args": {"delivery_id": message.idempotency_key},
        });
        post(
            &format!("{}/v3/mail/send", relay.base_url()),
            &[
                ("Authorization", &format!("Bearer {}", relay.api_key())),
                ("Content-Type", "application/json"),
            ],
            body.to_string().into_bytes(),
        )
    }

    fn classify(&self, response: &ProviderResponse, now: Timestamp) -> Attempt {
        if response.status().is_success() {
            let id = header(response.headers(), "x-message-id")
                .map(str::trim)
                .filter(|id| !id.is_empty())
                .map(str::to_owned);
            return Attempt::Sent {
                provider_message_id: id,
            };
        }
        classify_failure(response, now, error_message(response.body()), false)
    }
}

#[cfg(test)]
mod tests;
