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
