//! The fake e-mail relay against the providers' documented contracts:
//! Resend `POST /emails`, SendGrid `POST /v3/mail/send`, Mailpit
//! `POST /api/v1/send`; validation, authentication, idempotency, failures.

use component_host::client::{self, HttpResponse};
use component_host::fakes::email::{FakeEmailRelay, Provider, DEFAULT_API_KEY};
use serde_json::{json, Value};

const BEARER: &str = "Bearer re_test_relay_key";

async fn post(
    relay: &FakeEmailRelay,
    path: &str,
    headers: &[(&str, &str)],
    body: &Value,
) -> HttpResponse {
    let mut all = vec![("content-type", "application/json")];
    all.extend_from_slice(headers);
    client::send(
        "POST",
        &format!("{}{path}", relay.base_url()),
        &all,
        body.to_string(),
    )
    .await
    .expect("request")
}

fn resend_body() -> Value {
    json!({
        "from": "Todo <todo@example.com>",
        "to": ["ada@example.com"],
        "subject": "Reminder: Pay rent",
        "text": "Pay rent is due at 10:00.",
        "html": "<p>Pay rent is due at 10:00.</p>",
    })
}

fn sendgrid_body() -> Value {
    json!({
        "personalizations": [{"to": [{"email": "ada@example.com", "name": "Ada"}]}],
        "from": {"email": "todo@example.com", "name": "Todo"},
        "subject": "Reminder: Pay rent",
        "content": [
            {"type": "text/plain", "value": "Pay rent is due."},
            {"type": "text/html", "value": "<p>Pay rent is due.</p>"}
        ],
    })
}

fn mailpit_body() -> Value {
    json!({
        "From": {"Email": "todo@example.com", "Name": "Todo"},
        "To": [{"Email": "ada@example.com", "Name": "Ada"}],
        "Subject": "Reminder: Pay rent",
        "Text": "Pay rent is due.",
        "HTML": "<p>Pay rent is due.</p>",
    })
}

// ---- Resend ----

#[tokio::test]
async fn resend_accepts_and_records() {
    let relay = FakeEmailRelay::start().await.unwrap();
    assert_eq!(relay.api_key(), DEFAULT_API_KEY);
    let r = post(
        &relay,
        "/emails",
        &[("authorization", BEARER), ("traceparent", "00-1-2-01")],
        &resend_body(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok());

    let emails = relay.emails();
    assert_eq!(emails.len(), 1);
    let e = &emails[0];
    assert_eq!(e.provider, Provider::Resend);
    assert_eq!(e.message_id, id);
    assert_eq!(e.from, "todo@example.com");
    assert_eq!(e.from_name.as_deref(), Some("Todo"));
    assert_eq!(e.to, vec!["ada@example.com"]);
    assert_eq!(e.subject, "Reminder: Pay rent");
    assert_eq!(e.text.as_deref(), Some("Pay rent is due at 10:00."));
    assert_eq!(e.html.as_deref(), Some("<p>Pay rent is due at 10:00.</p>"));
    assert_eq!(e.traceparent.as_deref(), Some("00-1-2-01"));
    assert_eq!(relay.emails_to("ADA@example.com").len(), 1);

    let vars = relay.spin_variables(Provider::SendGrid);
    assert_eq!(
        vars,
        vec![
            ("email_provider", "sendgrid".to_owned()),
            ("email_relay_base", relay.base_url()),
            ("email_relay_api_key", DEFAULT_API_KEY.to_owned()),
        ]
    );
}

#[tokio::test]
async fn resend_to_may_be_a_string() {
    let relay = FakeEmailRelay::start().await.unwrap();
    let mut body = resend_body();
    body["to"] = json!("ada@example.com");
    body.as_object_mut().unwrap().remove("html");
    let r = post(&relay, "/emails", &[("authorization", BEARER)], &body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(relay.emails()[0].html, None);
}

#[tokio::test]
async fn resend_authentication_errors() {
    let relay = FakeEmailRelay::start().await.unwrap();
    let missing = post(&relay, "/emails", &[], &resend_body()).await;
    assert_eq!(missing.status, 401);
    assert_eq!(
        missing.json(),
        json!({"statusCode": 401, "name": "missing_api_key", "message": "Missing API key in the authorization header."})
    );
    let wrong = post(
        &relay,
        "/emails",
        &[("authorization", "Bearer re_other")],
        &resend_body(),
    )
    .await;
    assert_eq!(wrong.status, 403);
    assert_eq!(wrong.json()["name"], "invalid_api_key");
    assert_eq!(wrong.json()["statusCode"], 403);
    let not_bearer = post(
        &relay,
        "/emails",
        &[("authorization", DEFAULT_API_KEY)],
        &resend_body(),
    )
    .await;
    assert_eq!(not_bearer.status, 403);
    assert_eq!(relay.email_count(), 0);
    assert_eq!(relay.send_attempts().len(), 3);
}

#[tokio::test]
async fn resend_validation_errors() {
    let relay = FakeEmailRelay::start().await.unwrap();
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        ("from", Value::Null, 422, "missing_required_field"),
        ("to", Value::Null, 422, "missing_required_field"),
        ("subject", Value::Null, 422, "missing_required_field"),
        ("from", json!("not an address"), 422, "validation_error"),
        (
            "to",
            json!(["ada@example.com", "bob"]),
            422,
            "validation_error",
        ),
        ("to", json!(42), 422, "validation_error"),
        ("subject", json!(7), 422, "validation_error"),
    ];
    for (field, value, status, name) in cases {
        let mut body = resend_body();
        if value.is_null() {
            body.as_object_mut().unwrap().remove(field);
        } else {
            body[field] = value.clone();
        }
        let r = post(&relay, "/emails", &[("authorization", BEARER)], &body).await;
        assert_eq!(r.status, status, "{field}={value}: {}", r.text());
        assert_eq!(r.json()["name"], name, "{field}={value}");
        assert_eq!(r.json()["statusCode"], status);
        assert!(
            r.json()["message"]
                .as_str()
                .unwrap()
                .contains(&format!("`{field}`")),
            "{}",
            r.text()
        );
    }
    let mut no_content = resend_body();
    no_content.as_object_mut().unwrap().remove("text");
    no_content.as_object_mut().unwrap().remove("html");
    let r = post(&relay, "/emails", &[("authorization", BEARER)], &no_content).await;
    assert_eq!(r.status, 422);
    assert_eq!(relay.email_count(), 0);
}

#[tokio::test]
async fn resend_idempotency_key_replays_without_sending_twice() {
    let relay = FakeEmailRelay::start().await.unwrap();
    let headers = [
        ("authorization", BEARER),
        ("idempotency-key", "reminder/t-1/2026-12-01T08:30Z/email"),
    ];
    let first = post(&relay, "/emails", &headers, &resend_body()).await;
    let second = post(&relay, "/emails", &headers, &resend_body()).await;
    assert_eq!((first.status, second.status), (200, 200));
    assert_eq!(first.json()["id"], second.json()["id"]);
    assert_eq!(relay.email_count(), 1);
    assert_eq!(
        relay.emails()[0].idempotency_key.as_deref(),
        Some(headers[1].1)
    );

    let mut other = resend_body();
    other["subject"] = json!("Something else");
    let conflict = post(&relay, "/emails", &headers, &other).await;
    assert_eq!(conflict.status, 409);
    assert_eq!(conflict.json()["name"], "invalid_idempotent_request");

    // Another key is another e-mail; an expired window sends again.
    post(
        &relay,
        "/emails",
        &[("authorization", BEARER), ("idempotency-key", "k2")],
        &resend_body(),
    )
    .await;
    assert_eq!(relay.email_count(), 2);
    relay.expire_idempotency_keys();
    let again = post(&relay, "/emails", &headers, &resend_body()).await;
    assert_ne!(again.json()["id"], first.json()["id"]);
    assert_eq!(relay.email_count(), 3);
}

#[tokio::test]
async fn resend_idempotency_key_length_is_checked() {
    let relay = FakeEmailRelay::start().await.unwrap();
    let long = "k".repeat(257);
    let r = post(
        &relay,
        "/emails",
        &[("authorization", BEARER), ("idempotency-key", &long)],
        &resend_body(),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["name"], "invalid_idempotency_key");
    let ok = "k".repeat(256);
    let r = post(
        &relay,
        "/emails",
        &[("authorization", BEARER), ("idempotency-key", &ok)],
        &resend_body(),
    )
    .await;
    assert_eq!(r.status, 200);
}

// ---- SendGrid ----

#[tokio::test]
async fn sendgrid_accepts_with_202_and_x_message_id() {
    let relay = FakeEmailRelay::start().await.unwrap();
    let r = post(
        &relay,
        "/v3/mail/send",
        &[("authorization", BEARER)],
        &sendgrid_body(),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text());
    assert!(r.body.is_empty());
    let id = r.header("x-message-id").expect("X-Message-Id").to_owned();
    assert_eq!(id.len(), 22);
    let e = &relay.emails()[0];
    assert_eq!(e.provider, Provider::SendGrid);
    assert_eq!(e.message_id, id);
    assert_eq!(e.from, "todo@example.com");
    assert_eq!(e.to, vec!["ada@example.com"]);
    assert_eq!(e.subject, "Reminder: Pay rent");
    assert_eq!(e.text.as_deref(), Some("Pay rent is due."));
    assert_eq!(e.html.as_deref(), Some("<p>Pay rent is due.</p>"));
}

#[tokio::test]
async fn sendgrid_authentication_errors() {
    let relay = FakeEmailRelay::start().await.unwrap();
    let missing = post(&relay, "/v3/mail/send", &[], &sendgrid_body()).await;
    assert_eq!(missing.status, 401);
    assert_eq!(
        missing.json(),
        json!({"errors": [{"field": null, "message": "authorization required", "help": null}]})
    );
    let wrong = post(
        &relay,
        "/v3/mail/send",
        &[("authorization", "Bearer SG.nope")],
        &sendgrid_body(),
    )
    .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(
        wrong.json()["errors"][0]["message"],
        "The provided authorization grant is invalid, expired, or revoked"
    );
    assert_eq!(relay.email_count(), 0);
}

#[tokio::test]
async fn sendgrid_lists_every_validation_error() {
    let relay = FakeEmailRelay::start().await.unwrap();
    let r = post(
        &relay,
        "/v3/mail/send",
        &[("authorization", BEARER)],
        &json!({"personalizations": []}),
    )
    .await;
    assert_eq!(r.status, 400);
    let errors = r.json()["errors"].as_array().unwrap().clone();
    let fields: Vec<&str> = errors
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        vec!["personalizations", "from.email", "subject", "content"]
    );
    for e in &errors {
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(e["help"]
            .as_str()
            .unwrap()
            .starts_with("http://sendgrid.com/docs/"));
    }
    assert_eq!(relay.email_count(), 0);
}

#[tokio::test]
async fn sendgrid_field_level_errors() {
    let relay = FakeEmailRelay::start().await.unwrap();
    let mut bad_to = sendgrid_body();
    bad_to["personalizations"][0]["to"][0]["email"] = json!("nobody");
    let r = post(
        &relay,
        "/v3/mail/send",
        &[("authorization", BEARER)],
        &bad_to,
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json()["errors"][0]["field"],
        "personalizations.0.to.0.email"
    );

    let mut html_first = sendgrid_body();
    html_first["content"] = json!([
        {"type": "text/html", "value": "<p>x</p>"},
        {"type": "text/plain", "value": "x"}
    ]);
    let r = post(
        &relay,
        "/v3/mail/send",
        &[("authorization", BEARER)],
        &html_first,
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["errors"][0]["field"], "content");

    let mut empty_value = sendgrid_body();
    empty_value["content"][1]["value"] = json!("");
    let r = post(
        &relay,
        "/v3/mail/send",
        &[("authorization", BEARER)],
        &empty_value,
    )
    .await;
    assert_eq!(r.json()["errors"][0]["field"], "content.1.value");

    // A subject in every personalization replaces the top-level one.
    let mut personal_subject = sendgrid_body();
    personal_subject.as_object_mut().unwrap().remove("subject");
    personal_subject["personalizations"][0]["subject"] = json!("Per person");
    let r = post(
        &relay,
        "/v3/mail/send",
        &[("authorization", BEARER)],
        &personal_subject,
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(relay.emails()[0].subject, "Per person");
}

// ---- Mailpit ----

#[tokio::test]
async fn mailpit_accepts_and_answers_id() {
    let relay = FakeEmailRelay::start().await.unwrap();
    let r = post(&relay, "/api/v1/send", &[], &mailpit_body()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let id = r.json()["ID"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 22);
    assert!(id.chars().all(|c| c.is_ascii_alphanumeric()));
    let e = &relay.emails()[0];
    assert_eq!(
        (e.provider, e.message_id.as_str()),
        (Provider::Mailpit, id.as_str())
    );
    assert_eq!(e.from, "todo@example.com");
    assert_eq!(e.to, vec!["ada@example.com"]);
    assert_eq!(e.text.as_deref(), Some("Pay rent is due."));
}

#[tokio::test]
async fn mailpit_matches_keys_case_insensitively_like_go() {
    let relay = FakeEmailRelay::start().await.unwrap();
    let body = json!({
        "from": {"email": "todo@example.com"},
        "to": [{"email": "ada@example.com"}],
        "subject": "lower-case keys",
        "html": "<p>x</p>",
        "unknown": "ignored",
    });
    let r = post(&relay, "/api/v1/send", &[], &body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(relay.emails()[0].subject, "lower-case keys");
}

#[tokio::test]
async fn mailpit_errors_are_400_with_error_field() {
    let relay = FakeEmailRelay::start().await.unwrap();
    let mut no_from = mailpit_body();
    no_from.as_object_mut().unwrap().remove("From");
    let mut no_subject = mailpit_body();
    no_subject["Subject"] = json!("");
    let mut no_to = mailpit_body();
    no_to.as_object_mut().unwrap().remove("To");
    let mut bad_to = mailpit_body();
    bad_to["To"][0]["Email"] = json!("not-an-address");
    let mut wrong_type = mailpit_body();
    wrong_type["Subject"] = json!(5);
    let mut restricted = mailpit_body();
    restricted["Headers"] = json!({"Subject": "x"});
    let cases = [
        (no_from, "error building message: from not set"),
        (no_subject, "error building message: subject not set"),
        (
            no_to,
            "error building message: no recipients (to, cc, bcc) set",
        ),
        (bad_to, "invalid To address: not-an-address"),
        (restricted, "cannot overwrite header: \"Subject\""),
    ];
    for (body, message) in cases {
        let r = post(&relay, "/api/v1/send", &[], &body).await;
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(r.json(), json!({ "Error": message }));
    }
    let r = post(&relay, "/api/v1/send", &[], &wrong_type).await;
    assert_eq!(r.status, 400);
    assert!(r.json()["Error"]
        .as_str()
        .unwrap()
        .starts_with("json: cannot unmarshal number"));
    let r = client::send(
        "POST",
        &format!("{}/api/v1/send", relay.base_url()),
        &[],
        "{oops",
    )
    .await
    .unwrap();
    assert_eq!(r.status, 400);
    assert!(r.json()["Error"].is_string());
    assert_eq!(relay.email_count(), 0);
}

// ---- scripted failures ----

#[tokio::test]
async fn unavailable_then_success() {
    let relay = FakeEmailRelay::start().await.unwrap();
    relay.fail_next_unavailable(1);
    let first = post(
        &relay,
        "/emails",
        &[("authorization", BEARER)],
        &resend_body(),
    )
    .await;
    assert_eq!(first.status, 503);
    assert_eq!(relay.email_count(), 0);
    let second = post(
        &relay,
        "/emails",
        &[("authorization", BEARER)],
        &resend_body(),
    )
    .await;
    assert_eq!(second.status, 200);
    assert_eq!(relay.email_count(), 1);
    assert_eq!(relay.send_attempts().len(), 2);
}

#[tokio::test]
async fn rate_limited_carries_retry_after_in_each_provider_shape() {
    let relay = FakeEmailRelay::start().await.unwrap();
    relay.fail_next_rate_limited(3, 17);
    let resend = post(
        &relay,
        "/emails",
        &[("authorization", BEARER)],
        &resend_body(),
    )
    .await;
    assert_eq!(resend.status, 429);
    assert_eq!(resend.header("retry-after"), Some("17"));
    assert_eq!(resend.json()["name"], "rate_limit_exceeded");
    let sendgrid = post(
        &relay,
        "/v3/mail/send",
        &[("authorization", BEARER)],
        &sendgrid_body(),
    )
    .await;
    assert_eq!(sendgrid.status, 429);
    assert_eq!(sendgrid.header("retry-after"), Some("17"));
    assert!(sendgrid.json()["errors"].is_array());
    let mailpit = post(&relay, "/api/v1/send", &[], &mailpit_body()).await;
    assert_eq!(mailpit.status, 429);
    assert_eq!(mailpit.header("retry-after"), Some("17"));
    assert_eq!(relay.email_count(), 0);
}

#[tokio::test]
async fn server_error_html_page() {
    let relay = FakeEmailRelay::start().await.unwrap();
    relay.fail_next_server_error_html(1);
    let r = post(
        &relay,
        "/emails",
        &[("authorization", BEARER)],
        &resend_body(),
    )
    .await;
    assert_eq!(r.status, 500);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(r.text().contains("<html>"));
    assert_eq!(r.json(), Value::Null, "an HTML page is not JSON");
}

#[tokio::test]
async fn rejection_in_each_provider_shape() {
    let relay = FakeEmailRelay::start().await.unwrap();
    relay.reject_next(3, "The `to` address is on the suppression list.");
    let resend = post(
        &relay,
        "/emails",
        &[("authorization", BEARER)],
        &resend_body(),
    )
    .await;
    assert_eq!(resend.status, 422);
    assert_eq!(resend.json()["name"], "validation_error");
    assert_eq!(
        resend.json()["message"],
        "The `to` address is on the suppression list."
    );
    let sendgrid = post(
        &relay,
        "/v3/mail/send",
        &[("authorization", BEARER)],
        &sendgrid_body(),
    )
    .await;
    assert_eq!(sendgrid.status, 400);
    assert_eq!(
        sendgrid.json()["errors"][0]["message"],
        "The `to` address is on the suppression list."
    );
    let mailpit = post(&relay, "/api/v1/send", &[], &mailpit_body()).await;
    assert_eq!(mailpit.status, 400);
    assert_eq!(
        mailpit.json()["Error"],
        "The `to` address is on the suppression list."
    );
    assert_eq!(relay.email_count(), 0);
}

#[tokio::test]
async fn unknown_path_and_wrong_method() {
    let relay = FakeEmailRelay::start().await.unwrap();
    let r = post(
        &relay,
        "/v1/emails",
        &[("authorization", BEARER)],
        &resend_body(),
    )
    .await;
    assert_eq!(r.status, 404);
    let r = client::send(
        "GET",
        &format!("{}/emails", relay.base_url()),
        &[("authorization", BEARER)],
        "",
    )
    .await
    .unwrap();
    assert_eq!(r.status, 405);
}
