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
mod tests {
    use super::*;
    use crate::email::test_support::{header, json, message, now, response};
    use crate::email::EmailProvider;

    fn relay(key: &str) -> RelayConfig {
        RelayConfig::new(
            EmailProvider::Mailpit,
            "http://localhost:8025/",
            key,
            "reminders@example.com",
        )
        .unwrap()
    }

    #[test]
    fn request_shape() {
        let req = relay("").build_request(&message()).unwrap();
        assert_eq!(req.method(), http::Method::POST);
        assert_eq!(req.uri(), "http://localhost:8025/api/v1/send");
        assert_eq!(header(&req, "Content-Type"), Some("application/json"));
        assert_eq!(header(&req, "Authorization"), None);
        assert_eq!(
            json(&req),
            serde_json::json!({
                "From": {"Email": "reminders@example.com"},
                "To": [{"Email": "ada@example.com"}],
                "Subject": "Reminder: Pay rent",
                "Text": "Reminder: your task \"Pay rent\" is due soon.\n",
                "HTML": "<p>Reminder: <strong>Pay rent</strong></p>",
                "Headers": {"X-Delivery-Id": "a532a81a-289a-5697-ace2-8b0b4e7cdb26"},
            })
        );
    }

    #[test]
    fn api_key_becomes_basic_auth() {
        let req = relay("user:pass").build_request(&message()).unwrap();
        assert_eq!(header(&req, "Authorization"), Some("Basic dXNlcjpwYXNz"));
    }

    #[test]
    fn success_reads_id() {
        let out = Mailpit.classify(
            &response(200, &[], r#"{"ID":"iAfZVVe2UQfNSG5BAjgYwa"}"#),
            now(),
        );
        assert_eq!(
            out,
            Attempt::Sent {
                provider_message_id: Some("iAfZVVe2UQfNSG5BAjgYwa".into())
            }
        );
    }

    #[test]
    fn json_error_is_permanent_with_message() {
        let out = Mailpit.classify(
            &response(400, &[], r#"{"Error":"invalid To address: nope"}"#),
            now(),
        );
        let Attempt::Failed(p) = out else {
            panic!("expected permanent, got {out:?}")
        };
        assert_eq!(p.detail, "invalid To address: nope");
    }

    #[test]
    fn plain_text_error_is_kept() {
        let out = Mailpit.classify(&response(400, &[], "invalid From address\n"), now());
        assert!(
            matches!(out, Attempt::Failed(ref p) if p.detail == "invalid From address"),
            "{out:?}"
        );
    }

    #[test]
    fn gateway_errors_are_transient() {
        for status in [502, 503, 504] {
            let out = Mailpit.classify(&response(status, &[], "<html>bad gateway</html>"), now());
            assert!(
                matches!(out, Attempt::Transient(ref t) if t.status == Some(status)),
                "{out:?}"
            );
        }
    }
}
