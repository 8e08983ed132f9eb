//! `reminder.due` → e-mail, end to end through the built component: the
//! request each relay adapter sends, the delivery row, the outcome event,
//! and what transient and permanent relay failures do.

mod notification_events_support;

use component_host::fakes::dapr::{trace_id, AppStatus, DeliverOptions};
use component_host::fakes::email::Provider;
use notification_events_support::*;
use serde_json::{json, Value};

/// The delivery id, computed by Postgres' `uuid-ossp` (an implementation
/// independent of the component's) from the business key.
async fn expected_delivery_id(env: &Env, channel: &str, recipient: &str) -> String {
    env.pg
        .batch_execute("CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\"")
        .await
        .expect("uuid-ossp");
    let name = format!("{TASK}\n{REMIND_AT}\n{channel}\n{recipient}");
    env.pg
        .query_one(
            "SELECT uuid_generate_v5('12aaedc4-02d1-4bb2-98ac-15d22d275658'::uuid, $1)::text",
            &[&name],
        )
        .await
        .expect("uuid_generate_v5")
        .get(0)
}

/// One sent e-mail through `provider`: the row, the outcome event, and the
/// provider id they share; returns the accepted message's request body.
async fn sends_one_email(provider: Provider) -> (Env, Value) {
    let env = Env::start_with(Options::default().provider(provider)).await;
    env.subscriber(USER, Some(ADDRESS), &["email"]).await;
    let answer = env.deliver(reminder(None)).await;
    assert_answer(&answer, AppStatus::Success);

    let emails = env.relay.emails();
    assert_eq!(emails.len(), 1, "{emails:#?}");
    let email = &emails[0];
    assert_eq!(email.provider, provider);
    assert_eq!(email.to, vec![ADDRESS.to_owned()]);
    assert_eq!(email.from, "reminders@todo.example");
    assert_eq!(email.subject, "Reminder: Pay rent <today>");
    let text = email.text.clone().unwrap_or_default();
    assert!(
        text.contains("\"Pay rent <today>\"") && text.contains("10:00 CET (Europe/Berlin)"),
        "{text}"
    );
    let html = email.html.clone().unwrap_or_default();
    assert!(
        html.contains("Pay rent &lt;today&gt;") && !html.contains("<today>"),
        "{html}"
    );
    assert_eq!(
        trace_id(email.traceparent.as_deref()),
        trace_id(Some(TRACEPARENT))
    );

    let id = expected_delivery_id(&env, "email", ADDRESS).await;
    let row = env.delivery("email").await;
    assert_eq!(row["delivery_id"], id.as_str());
    assert_eq!(row["status"], "sent");
    assert_eq!(row["attempts"], 1);
    assert_eq!(row["recipient"], ADDRESS);
    assert_eq!(row["user_id"], USER);
    assert_eq!(row["provider_message_id"], email.message_id.as_str());
    assert_eq!(row["outcome_published"], true);
    assert_eq!(row["lease_until"], Value::Null);
    assert_eq!(row["reason"], Value::Null);

    let outcomes = env.outcomes();
    assert_eq!(outcomes.len(), 1, "{outcomes:#?}");
    let published = &outcomes[0];
    assert_eq!(published.pubsub, "kafka-pubsub");
    assert_eq!(
        published.cloudevent_type.as_deref(),
        Some("notification.sent")
    );
    assert_eq!(published.cloudevent_id.as_deref(), Some(id.as_str()));
    assert_eq!(
        trace_id(published.traceparent.as_deref()),
        trace_id(Some(TRACEPARENT))
    );
    let data = published.data.clone().expect("JSON payload");
    assert_eq!(
        json!({"delivery_id": data["delivery_id"], "user_id": data["user_id"],
               "task_id": data["task_id"], "channel": data["channel"],
               "provider_message_id": data["provider_message_id"],
               "attempts": data["attempts"], "reason": data["reason"]}),
        json!({"delivery_id": id, "user_id": USER, "task_id": TASK, "channel": "email",
               "provider_message_id": email.message_id, "attempts": 1, "reason": null})
    );
    assert_eq!(instant(&data["at"]), instant(&row["updated_at"]));
    let request = email.request.clone();
    (env, request)
}

#[tokio::test]
async fn resend_gets_the_message_with_the_delivery_id_as_idempotency_key() {
    let (env, request) = sends_one_email(Provider::Resend).await;
    let attempt = &env.relay.send_attempts()[0];
    assert_eq!(
        attempt.header("authorization"),
        Some(format!("Bearer {}", env.relay.api_key()).as_str())
    );
    let id = expected_delivery_id(&env, "email", ADDRESS).await;
    assert_eq!(
        env.relay.emails()[0].idempotency_key.as_deref(),
        Some(id.as_str())
    );
    assert_eq!(request["from"], FROM);
    assert_eq!(request["to"], json!([ADDRESS]));
    assert!(request["text"].is_string() && request["html"].is_string());
}

#[tokio::test]
async fn sendgrid_gets_personalizations_and_answers_with_x_message_id() {
    let (env, request) = sends_one_email(Provider::SendGrid).await;
    let id = expected_delivery_id(&env, "email", ADDRESS).await;
    assert_eq!(
        request["personalizations"],
        json!([{"to": [{"email": ADDRESS}]}])
    );
    assert_eq!(
        request["from"],
        json!({"email": "reminders@todo.example", "name": "Todo Reminders"})
    );
    assert_eq!(request["content"][0]["type"], "text/plain");
    assert_eq!(request["content"][1]["type"], "text/html");
    assert_eq!(request["custom_args"]["delivery_id"], id.as_str());
}

#[tokio::test]
async fn mailpit_gets_its_send_api_shape() {
    let (env, request) = sends_one_email(Provider::Mailpit).await;
    let id = expected_delivery_id(&env, "email", ADDRESS).await;
    assert_eq!(request["To"], json!([{"Email": ADDRESS}]));
    assert_eq!(request["From"]["Email"], "reminders@todo.example");
    assert_eq!(request["Subject"], "Reminder: Pay rent <today>");
    assert_eq!(request["Headers"]["X-Delivery-Id"], id.as_str());
}

#[tokio::test]
async fn relay_503_then_success_sends_one_email_in_two_attempts() {
    let env = Env::start_with(Options::default().provider(Provider::SendGrid)).await;
    env.subscriber(USER, Some(ADDRESS), &["email"]).await;
    env.relay.fail_next_unavailable(1);
    let options = DeliverOptions::new().id("same-envelope");
    let first = env.deliver_as(reminder(None), options.clone()).await;
    assert_answer(&first, AppStatus::Retry);
    let row = env.delivery("email").await;
    assert_eq!(row["status"], "retrying");
    assert_eq!(row["attempts"], 1);
    assert_eq!(row["lease_until"], Value::Null, "the lease is released");
    assert!(
        row["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("503")),
        "{row}"
    );
    assert!(env.outcomes().is_empty(), "no outcome before a final state");

    let second = env.deliver_as(reminder(None), options).await;
    assert_answer(&second, AppStatus::Success);
    assert_eq!(env.relay.send_attempts().len(), 2);
    assert_eq!(env.relay.email_count(), 1);
    let row = env.delivery("email").await;
    assert_eq!(
        (row["status"].clone(), row["attempts"].clone()),
        (json!("sent"), json!(2))
    );
    assert_eq!(row["last_error"], Value::Null);
    let outcomes = env.outcomes();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].data.as_ref().expect("data")["attempts"], 2);
}

#[tokio::test]
async fn retry_after_is_honoured_before_the_relay_is_called_again() {
    let env = Env::start_with(Options::default().provider(Provider::Resend)).await;
    env.subscriber(USER, Some(ADDRESS), &["email"]).await;
    env.relay.fail_next_rate_limited(1, 120);
    let before = chrono::Utc::now();
    assert_answer(&env.deliver(reminder(None)).await, AppStatus::Retry);
    let row = env.delivery("email").await;
    assert_eq!(row["status"], "retrying");
    let next = instant(&row["next_attempt_at"]);
    let wait = (next - before).num_seconds();
    assert!(
        (110..=130).contains(&wait),
        "next_attempt_at {next} is {wait}s away"
    );

    // Redelivered early: RETRY, and the relay is not called.
    assert_answer(&env.deliver(reminder(None)).await, AppStatus::Retry);
    assert_eq!(env.relay.send_attempts().len(), 1);
    assert_eq!(env.delivery("email").await["attempts"], 1);

    // Once the time has come (moved into the past here), it is sent.
    env.pg
        .execute(
            "UPDATE deliveries SET next_attempt_at = now() - interval '1 second'",
            &[],
        )
        .await
        .expect("move next_attempt_at");
    assert_answer(&env.deliver(reminder(None)).await, AppStatus::Success);
    assert_eq!(env.relay.email_count(), 1);
    let row = env.delivery("email").await;
    assert_eq!(
        (row["status"].clone(), row["attempts"].clone()),
        (json!("sent"), json!(2))
    );
    assert_eq!(row["next_attempt_at"], Value::Null);
}

#[tokio::test]
async fn a_permanent_rejection_fails_with_the_providers_message() {
    let env = Env::start_with(Options::default().provider(Provider::Resend)).await;
    env.subscriber(USER, Some(ADDRESS), &["email"]).await;
    env.relay
        .reject_next(1, "The reminders@todo.example domain is not verified.");
    assert_answer(&env.deliver(reminder(None)).await, AppStatus::Success);
    let row = env.delivery("email").await;
    assert_eq!(row["status"], "failed");
    assert_eq!(row["reason"], "rejected_by_provider");
    assert!(
        row["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("domain is not verified")),
        "{row}"
    );
    let outcomes = env.outcomes();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(
        outcomes[0].cloudevent_type.as_deref(),
        Some("notification.failed")
    );
    let data = outcomes[0].data.clone().expect("data");
    assert_eq!(data["reason"], "rejected_by_provider");
    assert_eq!(data["provider_message_id"], Value::Null);

    // Failed stays failed: a redelivery neither sends nor publishes again.
    assert_answer(&env.deliver(reminder(None)).await, AppStatus::Success);
    assert_eq!(env.relay.send_attempts().len(), 1);
    assert_eq!(env.outcomes().len(), 1);
}

#[tokio::test]
async fn attempts_exhausted_fails_publishes_and_answers_success() {
    let env = Env::start_with(
        Options::default()
            .provider(Provider::SendGrid)
            .var("max_delivery_attempts", "3"),
    )
    .await;
    env.subscriber(USER, Some(ADDRESS), &["email"]).await;
    env.relay.fail_next_unavailable(10);
    let settled = env
        .driver
        .deliver_until_settled(
            "reminders",
            reminder(None),
            DeliverOptions::new().event_type("reminder.due"),
            10,
        )
        .await
        .expect("deliveries");
    assert_eq!(
        settled.outcomes(),
        vec![AppStatus::Retry, AppStatus::Retry, AppStatus::Success]
    );
    assert_eq!(env.relay.send_attempts().len(), 3);
    assert_eq!(env.relay.email_count(), 0);
    let row = env.delivery("email").await;
    assert_eq!(row["status"], "failed");
    assert_eq!(row["reason"], "attempts_exhausted");
    assert_eq!(row["attempts"], 3);
    let outcomes = env.outcomes();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(
        outcomes[0].cloudevent_type.as_deref(),
        Some("notification.failed")
    );
    let data = outcomes[0].data.clone().expect("data");
    assert_eq!(
        (data["reason"].clone(), data["attempts"].clone()),
        (json!("attempts_exhausted"), json!(3))
    );
}

#[tokio::test]
async fn email_without_a_sender_is_not_configured() {
    let env = Env::start_with(Options::default().without_email()).await;
    env.subscriber(USER, Some(ADDRESS), &["email"]).await;
    assert_answer(&env.deliver(reminder(None)).await, AppStatus::Success);
    assert_eq!(env.relay.send_attempts().len(), 0);
    let row = env.delivery("email").await;
    assert_eq!(row["status"], "failed");
    assert_eq!(row["reason"], "channel_not_configured");
    assert_eq!(row["attempts"], 0);
    // The delivery log says why in words, as the log line does.
    assert_eq!(
        row["last_error"],
        "email is not configured: email_from must be set"
    );
    let outcomes = env.outcomes();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(
        outcomes[0].cloudevent_type.as_deref(),
        Some("notification.failed")
    );
    assert_eq!(
        outcomes[0].data.as_ref().expect("data")["reason"],
        "channel_not_configured"
    );
    let logs = env.app.logs();
    assert!(logs.contains("email_from must be set"), "{logs}");
}
