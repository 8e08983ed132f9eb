//! What arrives on `/events/reminders` that is not a good `reminder.due`:
//! malformed and schema-violating events are dropped and kept in
//! `rejected_events`, other types are acknowledged, nothing makes the
//! component trap (a 500 would be retried by Dapr forever).

mod notification_events_support;

use component_host::fakes::dapr::{AppStatus, BulkEntry, DeliverOptions};
use notification_events_support::*;
use serde_json::{json, Value};

#[tokio::test]
async fn malformed_bodies_are_dropped_and_kept() {
    let env = Env::start().await;
    let d = env
        .driver
        .deliver_raw(
            "/events/reminders",
            "{\"id\": \"x\", broken",
            "application/cloudevents+json",
        )
        .await;
    assert_answer(&d, AppStatus::Drop);
    let rejected = env.rejected().await;
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0]["reason"], "malformed_json");
    assert_eq!(rejected[0]["topic"], "reminders");
    assert_eq!(rejected[0]["payload"], "{\"id\": \"x\", broken");
}

#[tokio::test]
async fn schema_violations_are_dropped_with_the_precise_reason() {
    let env = Env::start().await;
    env.subscriber(USER, Some(ADDRESS), &["email"]).await;
    let mut missing_remind_at = reminder(None);
    missing_remind_at
        .as_object_mut()
        .expect("object")
        .remove("remind_at");
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"task_id": "not-a-uuid", "user_id": USER, "title": "t", "remind_at": REMIND_AT}),
            "invalid_task_id",
        ),
        (missing_remind_at, "schema_violation"),
        (
            json!({"task_id": TASK, "user_id": USER, "title": "t", "remind_at": "tomorrow"}),
            "invalid_timestamp",
        ),
        (
            json!({"task_id": TASK, "user_id": USER, "title": "t", "remind_at": REMIND_AT, "channels": ["sms"]}),
            "unknown_channel",
        ),
        (
            json!({"task_id": TASK, "user_id": "", "title": "t", "remind_at": REMIND_AT}),
            "invalid_user_id",
        ),
        (
            json!({"task_id": TASK, "user_id": "x".repeat(129), "title": "t", "remind_at": REMIND_AT}),
            "invalid_user_id",
        ),
        (
            json!({"task_id": TASK, "user_id": USER, "title": "t", "remind_at": REMIND_AT, "channels": "email"}),
            "schema_violation",
        ),
        // Every field but due_at and channels is required: missing or null.
        (
            json!({"task_id": TASK, "user_id": USER, "remind_at": REMIND_AT}),
            "schema_violation",
        ),
        (
            json!({"task_id": TASK, "user_id": USER, "title": null, "remind_at": REMIND_AT}),
            "schema_violation",
        ),
        // An instant PostgreSQL cannot store is a bad timestamp, not a fault.
        (
            json!({"task_id": TASK, "user_id": USER, "title": "t", "remind_at": "0000-01-01T00:00:00Z"}),
            "invalid_timestamp",
        ),
        (json!([1, 2, 3]), "schema_violation"),
        (Value::Null, "schema_violation"),
        (json!("not json inside a string"), "malformed_json"),
    ];
    for (n, (data, code)) in cases.iter().enumerate() {
        let id = format!("bad-{n}");
        let d = env
            .deliver_as(data.clone(), DeliverOptions::new().id(id.clone()))
            .await;
        assert_answer(&d, AppStatus::Drop);
        let rejected = env.rejected().await;
        let row = rejected.last().expect("kept");
        assert_eq!(row["id"], id.as_str());
        assert_eq!(row["type"], "reminder.due");
        assert_eq!(row["topic"], "reminders");
        let expected_reason = if *code == "malformed_json" {
            "malformed_json"
        } else {
            "schema_violation"
        };
        assert_eq!(row["reason"], expected_reason, "{data}");
        assert!(
            row["detail"].as_str().is_some_and(|d| d.starts_with(code)),
            "{data}: {row}"
        );
        assert!(row["payload"].as_str().is_some_and(|p| p.contains(&id)));
    }
    assert_eq!(env.rejected().await.len(), cases.len());
    assert!(env.deliveries().await.is_empty());
    assert_eq!(env.relay.send_attempts().len(), 0);
    let logs = env.app.logs();
    assert_eq!(
        logs.matches("\"msg\":\"event dropped\"").count(),
        cases.len(),
        "{logs}"
    );
}

#[tokio::test]
async fn other_types_are_acknowledged_and_ignored() {
    let env = Env::start().await;
    env.subscriber(USER, Some(ADDRESS), &["email"]).await;
    for t in ["reminder.cancelled", "com.dapr.event.sent"] {
        let d = env
            .deliver_as(reminder(None), DeliverOptions::new().event_type(t))
            .await;
        assert_answer(&d, AppStatus::Success);
    }
    assert!(env.deliveries().await.is_empty());
    assert!(env.rejected().await.is_empty());
    assert_eq!(env.relay.send_attempts().len(), 0);
}

#[tokio::test]
async fn data_sent_as_a_json_string_is_read() {
    let env = Env::start().await;
    env.subscriber(USER, Some(ADDRESS), &["email"]).await;
    let as_string = Value::String(reminder(None).to_string());
    assert_answer(&env.deliver(as_string).await, AppStatus::Success);
    assert_eq!(env.relay.email_count(), 1);
}

#[tokio::test]
async fn no_input_makes_the_component_trap() {
    let env = Env::start().await;
    env.subscriber(USER, Some(ADDRESS), &["email", "push"])
        .await;
    let weird: Vec<Value> = vec![
        json!({"task_id": TASK, "user_id": USER, "remind_at": REMIND_AT, "title": "é😀\u{0}\n<script>", "channels": ["push", "email", "push"]}),
        json!({"task_id": TASK, "user_id": USER, "remind_at": "9999-12-31T23:59:59Z", "due_at": "0001-01-01T00:00:00Z"}),
        json!({"task_id": TASK, "user_id": USER, "remind_at": REMIND_AT, "title": "t".repeat(100_000)}),
        json!({"task_id": TASK, "user_id": "ü".repeat(128), "remind_at": "2026-12-01T08:30:00.123456789+14:00"}),
        json!({"task_id": TASK, "user_id": USER, "remind_at": REMIND_AT, "title": 5}),
        json!({"task_id": TASK, "user_id": USER, "remind_at": REMIND_AT, "channels": [null]}),
        json!({"task_id": {"nested": [[[[]]]]}}),
    ];
    for data in weird {
        let d = env.deliver(data.clone()).await;
        assert_eq!(
            d.http_status.map(|s| s.as_u16()),
            Some(200),
            "{data}: {}",
            d.body_text()
        );
        assert!(
            d.answered_explicitly(AppStatus::Success) || d.answered_explicitly(AppStatus::Drop),
            "{data}: {}",
            d.body_text()
        );
    }
    let bulk = vec![
        BulkEntry::raw("a", json!("not an envelope"), "application/json"),
        BulkEntry::raw("b", json!({"id": "x"}), "application/cloudevents+json"),
    ];
    let answer = env
        .driver
        .deliver_bulk("reminders", bulk)
        .await
        .expect("bulk");
    assert_eq!(answer.http_status.map(|s| s.as_u16()), Some(200));
    assert_eq!(answer.explicit.get("a").map(String::as_str), Some("DROP"));
    assert_eq!(answer.explicit.get("b").map(String::as_str), Some("DROP"));
    let logs = env.app.logs();
    assert!(
        !logs.contains("trapped") && !logs.contains("panicked"),
        "{logs}"
    );
}

#[tokio::test]
async fn only_post_is_a_delivery_and_the_token_is_required() {
    let env = Env::start_with(Options::default().var("app_api_token", "s3cret")).await;
    env.subscriber(USER, Some(ADDRESS), &["email"]).await;
    let url = format!("{}/events/reminders", env.app.base_url());
    let get = component_host::client::send("GET", &url, &[("dapr-api-token", "s3cret")], "")
        .await
        .expect("GET");
    assert_eq!(get.status, 405);
    let anonymous = component_host::client::send(
        "POST",
        &url,
        &[("content-type", "application/json")],
        reminder(None).to_string(),
    )
    .await
    .expect("POST");
    assert_eq!(anonymous.status, 401);
    // The driver carries the token, as daprd with APP_API_TOKEN does.
    assert_answer(&env.deliver(reminder(None)).await, AppStatus::Success);
    assert_eq!(env.relay.email_count(), 1);
    assert!(env.rejected().await.is_empty());
}
