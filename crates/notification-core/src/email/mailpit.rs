//! Mailpit (local-development relay): `POST {base}/api/v1/send`.
//!
//! Documented shapes (Mailpit's swagger and `server/apiv1/send.go`): body
//! `{"From": {"Email", "Name"}, "To": [{"Email"}], "Subject", "Text", "HTML",
//! "Headers"}`; success `200 {"ID": "<database id>"}`; errors are 400 with
//! `{"Error": "..."}` (older releases answer plain text). Mailpit has no API
//! keys: when `email_relay_api_key` is set it is sent as HTTP Basic
//! credentials `user:password`, matching Mailpit's optional API auth.

use base64ct::{Base64, Encoding};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{classify_failure, split_mailbox, Attempt, EmailAdapter, EmailMessage, RelayConfig};
use crate::provider_http::{
    post, truncate_detail, ProviderRequest, ProviderResponse, RequestError,
};

/// The Mailpit adapter (stateless).
#[derive(Debug, Clone, Copy, Default)]
pub struct Mailpit;

#[derive(Deserialize)]
struct MailpitAccepted {
    #[serde(rename = "ID")]
    id: Option<String>,
}

#[derive(Deserialize)]
struct MailpitError {
    #[serde(rename = "Error")]
    error: Option<String>,
}

fn error_message(body: &[u8]) -> Option<String> {
    if let Ok(parsed) = serde_json::from_slice::<MailpitError>(body) {
        return parsed.error;
    }
    // Plain-text errors (older Mailpit): keep them unless it is an HTML page.
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    (!text.is_empty() && !text.starts_with('<')).then(|| truncate_detail(text))
}

impl EmailAdapter for Mailpit {
    fn build_request(
        &self,
        relay: &RelayConfig,
        message: &EmailMessage,
    ) -> Result<ProviderRequest, RequestError> {
        let (from_name, from_email) = split_mailbox(relay.from());
        let mut from = Map::new();
        from.insert("Email".into(), Value::from(from_email));
        if let Some(name) = from_name {
            from.insert("Name".into(), Value::from(name));
        }
        let body = json!({
            "From": from,
            "To": [{"Email": message.to}],
            "Subject": message.subject,
            "Text": message.text,
            "HTML": message.html,
            "Headers": {"X-Delivery-Id": message.idempotency_key},
        });
        let basic = format!(
            "Basic {}",
            Base64::encode_string(relay.api_key().as_bytes())
        );
        let mut headers = vec![("Content-Type", "application/json")];
        if !relay.api_key().is_empty() {
            headers.push(("Authorization", &basic));
        }
        post(
            &format!("{}/api/v1/send", relay.base_url()),
            &headers,
            body.to_string().into_bytes(),
        )
    }

    fn classify(&self, response: &ProviderResponse, now: Timestamp) -> Attempt {
        if response.status().is_success() {
            let id = serde_json::from_slice::<MailpitAccepted>(response.body())
                .ok()
                .and_then(|a| a.id)
                .filter(|id| !id.is_empty());
            return Attempt::Sent {
                provider_message_id: id,
            };
        }
        classify_failure(response, now, error_message(response.body()), false)
    }
}

#[cfg(test)]
mod tests;
