use std::time::Duration;

use super::*;
use crate::email::test_support::{header, json, message, now, response};
use crate::email::EmailProvider;

fn relay() -> RelayConfig {
    RelayConfig::new(
        EmailProvider::SendGrid,
        "https://api.sendgrid.com",
        "SG.key",
        "Todo <reminders@example.com>",
    )
    .unwrap()
}

#[test]
fn request_shape() {
    let req = relay().build_request(&message()).unwrap();
    assert_eq!(req.method(), http::Method::POST);
    assert_eq!(req.uri(), "https://api.sendgrid.com/v3/mail/send");
    assert_eq!(header(&req, "Authorization"), Some("Bearer SG.key"));
    assert_eq!(header(&req, "Content-Type"), Some("application/json"));
    assert_eq!(header(&req, "Idempotency-Key"), None);
    assert_eq!(
        json(&req),
        serde_json::json!({
            "personalizations": [{"to": [{"email": "ada@example.com"}]}],
            "from": {"email": "reminders@example.com", "name": "Todo"},
            "subject": "Reminder: Pay rent",
            "content": [
                {"type": "text/plain", "value": "Reminder: your task \"Pay rent\" is due soon.\n"},
                {"type": "text/html", "value": "<p>Reminder: <strong>Pay rent</strong></p>"},
            ],
            "custom_args": {"delivery_id": "a532a81a-289a-5697-ace2-8b0b4e7cdb26"},
        })
    );
}

#[test]
fn bare_from_address_has_no_name() {
    let relay = RelayConfig::new(
        EmailProvider::SendGrid,
        "https://api.sendgrid.com",
        "k",
        "r@example.com",
    )
    .unwrap();
    let body = json(&relay.build_request(&message()).unwrap());
    assert_eq!(body["from"], serde_json::json!({"email": "r@example.com"}));
}

#[test]
fn accepted_reads_x_message_id() {
    let out = SendGrid.classify(&response(202, &[("X-Message-Id", "sg-abc123")], ""), now());
    assert_eq!(
        out,
        Attempt::Sent {
            provider_message_id: Some("sg-abc123".into())
        }
    );
    let out = SendGrid.classify(&response(202, &[], ""), now());
    assert_eq!(
        out,
        Attempt::Sent {
            provider_message_id: None
        }
    );
}

#[test]
fn bad_request_keeps_error_messages() {
    let out = SendGrid.classify(
        &response(
            400,
            &[],
            r#"{"errors":[{"message":"The from address does not match a verified Sender Identity.","field":"from","help":null},{"message":"second"}]}"#,
        ),
        now(),
    );
    let Attempt::Failed(p) = out else {
        panic!("expected permanent, got {out:?}")
    };
    assert_eq!(p.status, Some(400));
    assert_eq!(
        p.detail,
        "from: The from address does not match a verified Sender Identity.; second"
    );
}

#[test]
fn too_many_requests_is_transient_with_retry_after() {
    let out = SendGrid.classify(
        &response(
            429,
            &[("Retry-After", "Tue, 01 Dec 2026 08:31:00 GMT")],
            r#"{"errors":[{"message":"too many requests"}]}"#,
        ),
        now(),
    );
    let Attempt::Transient(t) = out else {
        panic!("expected transient, got {out:?}")
    };
    assert_eq!(t.retry_after, Some(Duration::from_secs(60)));
    assert_eq!(t.detail, "too many requests");
}

#[test]
fn server_error_is_transient() {
    let out = SendGrid.classify(&response(500, &[], ""), now());
    assert!(
        matches!(out, Attempt::Transient(ref t) if t.detail == "HTTP 500 with an empty body"),
        "{out:?}"
    );
}

#[test]
fn forbidden_is_permanent() {
    let out = SendGrid.classify(
        &response(403, &[], r#"{"errors":[{"message":"access forbidden"}]}"#),
        now(),
    );
    assert!(
        matches!(out, Attempt::Failed(ref p) if p.detail == "access forbidden"),
        "{out:?}"
    );
}
