use std::time::Duration;

use super::*;
use crate::email::test_support::{header, json, message, now, response};
use crate::email::EmailProvider;

fn relay() -> RelayConfig {
    RelayConfig::new(
        EmailProvider::Resend,
        "https://api.resend.com",
        "re_test_key",
        "Todo <reminders@example.com>",
    )
    .unwrap()
}

#[test]
fn request_shape() {
    let req = relay().build_request(&message()).unwrap();
    assert_eq!(req.method(), http::Method::POST);
    assert_eq!(req.uri(), "https://api.resend.com/emails");
    assert_eq!(header(&req, "authorization"), Some("Bearer re_test_key"));
    assert_eq!(header(&req, "content-type"), Some("application/json"));
    assert_eq!(
        header(&req, "idempotency-key"),
        Some("a532a81a-289a-5697-ace2-8b0b4e7cdb26")
    );
    assert_eq!(
        json(&req),
        serde_json::json!({
            "from": "Todo <reminders@example.com>",
            "to": ["ada@example.com"],
            "subject": "Reminder: Pay rent",
            "text": "Reminder: your task \"Pay rent\" is due soon.\n",
            "html": "<p>Reminder: <strong>Pay rent</strong></p>",
        })
    );
}

#[test]
fn success_reads_id() {
    let out = Resend.classify(
        &response(200, &[], r#"{"id":"49a3999c-0ce1-4ea6-ab68-afcd6dc2e794"}"#),
        now(),
    );
    assert_eq!(
        out,
        Attempt::Sent {
            provider_message_id: Some("49a3999c-0ce1-4ea6-ab68-afcd6dc2e794".into())
        }
    );
}

#[test]
fn success_without_id_is_still_sent() {
    let out = Resend.classify(&response(200, &[], "not json"), now());
    assert_eq!(
        out,
        Attempt::Sent {
            provider_message_id: None
        }
    );
}

#[test]
fn rate_limit_is_transient_with_retry_after() {
    let out = Resend.classify(
        &response(
            429,
            &[("retry-after", "2")],
            r#"{"statusCode":429,"name":"rate_limit_exceeded","message":"Too many requests"}"#,
        ),
        now(),
    );
    let Attempt::Transient(t) = out else {
        panic!("expected transient, got {out:?}")
    };
    assert_eq!(t.status, Some(429));
    assert_eq!(t.retry_after, Some(Duration::from_secs(2)));
    assert_eq!(t.detail, "rate_limit_exceeded: Too many requests");
}

#[test]
fn server_error_with_html_is_transient() {
    let out = Resend.classify(&response(503, &[], "<html>down</html>"), now());
    let Attempt::Transient(t) = out else {
        panic!("expected transient, got {out:?}")
    };
    assert_eq!(t.retry_after, None);
    assert_eq!(t.detail, "HTTP 503 with a non-JSON (HTML) body");
}

#[test]
fn validation_error_is_permanent_with_message() {
    let out = Resend.classify(
        &response(
            422,
            &[],
            r#"{"statusCode":422,"name":"invalid_from_address","message":"Invalid `from` field."}"#,
        ),
        now(),
    );
    let Attempt::Failed(p) = out else {
        panic!("expected permanent, got {out:?}")
    };
    assert_eq!(p.status, Some(422));
    assert_eq!(p.detail, "invalid_from_address: Invalid `from` field.");
}

#[test]
fn concurrent_idempotent_request_is_transient_but_payload_mismatch_is_not() {
    let busy = Resend.classify(
        &response(
            409,
            &[],
            r#"{"statusCode":409,"name":"concurrent_idempotent_requests","message":"in progress"}"#,
        ),
        now(),
    );
    assert!(matches!(busy, Attempt::Transient(_)), "{busy:?}");
    let mismatch = Resend.classify(
        &response(409, &[], r#"{"statusCode":409,"name":"invalid_idempotent_request","message":"different payload"}"#),
        now(),
    );
    assert!(matches!(mismatch, Attempt::Failed(_)), "{mismatch:?}");
}

#[test]
fn unauthorized_is_permanent() {
    let out = Resend.classify(
        &response(
            401,
            &[],
            r#"{"statusCode":401,"name":"missing_api_key","message":"Missing API key"}"#,
        ),
        now(),
    );
    assert!(
        matches!(out, Attempt::Failed(ref p) if p.status == Some(401)),
        "{out:?}"
    );
}
