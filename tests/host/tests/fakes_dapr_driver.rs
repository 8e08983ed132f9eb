//! The Dapr driver against a tiny app (a recording server): subscription
//! discovery, the CloudEvents envelope and headers daprd sends, and daprd's
//! reading of every kind of answer (Dapr pub/sub API reference, "Expected
//! HTTP Response").

use std::sync::{Arc, Mutex};
use std::time::Duration;

use component_host::fakes::dapr::{
    interpret_app_response, AppStatus, BulkEntry, DaprDriver, DeadLetterReason, DeliverOptions,
    SettledOutcome, DEFAULT_EVENT_TYPE,
};
use component_host::fakes::{CannedResponse, FakeServer};
use http::StatusCode;
use serde_json::{json, Value};

const SUBSCRIPTIONS: &str = r#"[
  {"pubsubname": "kafka-pubsub", "topic": "reminders", "route": "/events/reminders",
   "deadLetterTopic": "reminders-dlq", "metadata": {"rawPayload": "false"}},
  {"pubsubname": "kafka-pubsub", "topic": "task-events",
   "routes": {"rules": [{"match": "event.type == \"task.completed\"", "path": "/events/completed"}],
              "default": "/events/task-events"}},
  {"pubsubname": "kafka-pubsub", "topic": "no-dlq", "route": "events/no-dlq"}
]"#;

/// A fake app: serves the subscription list, answers deliveries with the
/// queued answers (then with `{"status":"SUCCESS"}`).
struct App {
    server: FakeServer,
    answers: Arc<Mutex<Vec<CannedResponse>>>,
}

impl App {
    async fn start() -> Self {
        let answers: Arc<Mutex<Vec<CannedResponse>>> = Arc::default();
        let queued = answers.clone();
        let server = FakeServer::start(
            "app",
            Arc::new(move |req| {
                if req.path == "/dapr/subscribe" {
                    return CannedResponse::json(
                        200,
                        &serde_json::from_str(SUBSCRIPTIONS).unwrap(),
                    );
                }
                let mut queued = queued.lock().unwrap();
                if queued.is_empty() {
                    CannedResponse::json(200, &json!({"status": "SUCCESS"}))
                } else {
                    queued.remove(0)
                }
            }),
        )
        .await
        .unwrap();
        Self { server, answers }
    }

    fn answer(&self, responses: Vec<CannedResponse>) {
        self.answers.lock().unwrap().extend(responses);
    }

    async fn driver(&self) -> DaprDriver {
        let mut driver = DaprDriver::new(self.server.base_url());
        driver.subscribe().await.unwrap();
        driver
    }
}

fn status(s: &str) -> CannedResponse {
    CannedResponse::json(200, &json!({ "status": s }))
}

#[tokio::test]
async fn subscribe_parses_v1_and_v2_subscriptions() {
    let app = App::start().await;
    let mut driver = DaprDriver::new(app.server.base_url()).with_app_api_token("app-token");
    let subs = driver.subscribe().await.unwrap();
    assert_eq!(subs.len(), 3);
    assert_eq!(subs[0].topic, "reminders");
    assert_eq!(subs[0].route.as_deref(), Some("/events/reminders"));
    assert_eq!(subs[0].dead_letter_topic.as_deref(), Some("reminders-dlq"));
    assert_eq!(
        subs[0].metadata.get("rawPayload").map(String::as_str),
        Some("false")
    );
    assert_eq!(
        subs[1].path_for("task.completed").unwrap(),
        "/events/completed"
    );
    assert_eq!(
        subs[1].path_for("task.created").unwrap(),
        "/events/task-events"
    );

    let request = &app.server.requests()[0];
    assert_eq!(request.method, http::Method::GET);
    assert_eq!(request.header("dapr-api-token"), Some("app-token"));
}

#[tokio::test]
async fn subscribe_fails_on_error_status_or_bad_shape() {
    let server = FakeServer::start("bad app", Arc::new(|_| CannedResponse::text(500, "oops")))
        .await
        .unwrap();
    assert!(DaprDriver::new(server.base_url())
        .subscribe()
        .await
        .is_err());

    let shapes = [
        r#"{"topic": "x"}"#,
        r#"[{"topic": "x", "route": "/x"}]"#,
        r#"[{"pubsubname": "p", "topic": "x"}]"#,
        r#"[{"pubsubname": "p", "topic": "x", "route": "/x", "metadata": {"n": 1}}]"#,
    ];
    for body in shapes {
        let body = body.to_owned();
        let server = FakeServer::start(
            "bad shape",
            Arc::new(move |_| {
                CannedResponse::text(200, &body).with_header("content-type", "application/json")
            }),
        )
        .await
        .unwrap();
        assert!(
            DaprDriver::new(server.base_url())
                .subscribe()
                .await
                .is_err(),
            "accepted a bad subscription list"
        );
    }
}

#[tokio::test]
async fn deliver_sends_a_daprd_cloudevent_with_headers() {
    let app = App::start().await;
    let driver = app.driver().await.with_app_api_token("app-token");
    let data = json!({"task_id": "t-1", "user_id": "u-42"});
    let delivery = driver
        .deliver(
            "reminders",
            data.clone(),
            DeliverOptions::new().id("evt-1").event_type("reminder.due"),
        )
        .await
        .unwrap();
    assert_eq!(delivery.outcome, AppStatus::Success);
    assert!(delivery.answered_explicitly(AppStatus::Success));
    assert_eq!(delivery.route, "/events/reminders");
    assert_eq!(delivery.event_id.as_deref(), Some("evt-1"));

    let request = app.server.requests_to("/events/reminders").pop().unwrap();
    assert_eq!(request.method, http::Method::POST);
    assert_eq!(
        request.header("content-type"),
        Some("application/cloudevents+json")
    );
    assert_eq!(request.header("dapr-api-token"), Some("app-token"));
    assert_eq!(request.header("pubsubname"), Some("kafka-pubsub"));
    let envelope = request.json().unwrap();
    assert_eq!(envelope["id"], "evt-1");
    assert_eq!(envelope["type"], "reminder.due");
    assert_eq!(envelope["specversion"], "1.0");
    assert_eq!(envelope["datacontenttype"], "application/json");
    assert_eq!(envelope["source"], "todo-backend");
    assert_eq!(envelope["topic"], "reminders");
    assert_eq!(envelope["pubsubname"], "kafka-pubsub");
    assert_eq!(envelope["data"], data);
    let traceparent = envelope["traceparent"].as_str().unwrap();
    // daprd sends its own span of the envelope's trace as the header.
    let header = request.header("traceparent").unwrap();
    assert_eq!(header.split('-').nth(1), traceparent.split('-').nth(1));
    assert_ne!(header.split('-').nth(2), traceparent.split('-').nth(2));
    assert_eq!(envelope["traceid"], traceparent);
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(
        (
            parts.len(),
            parts[0],
            parts[1].len(),
            parts[2].len(),
            parts[3]
        ),
        (4, "00", 32, 16, "01")
    );
    assert!(chrono::DateTime::parse_from_rfc3339(envelope["time"].as_str().unwrap()).is_ok());
    assert_eq!(envelope["tracestate"], "");
}

#[tokio::test]
async fn deliver_defaults_and_overrides() {
    let app = App::start().await;
    let driver = app.driver().await;
    driver
        .deliver(
            "no-dlq",
            json!(1),
            DeliverOptions::new()
                .set("source", Value::Null)
                .set("extra", json!("x")),
        )
        .await
        .unwrap();
    let envelope = app.server.requests_to("/events/no-dlq")[0].json().unwrap();
    assert_eq!(envelope["type"], DEFAULT_EVENT_TYPE);
    assert!(envelope.get("source").is_none());
    assert_eq!(envelope["extra"], "x");
    assert!(uuid::Uuid::parse_str(envelope["id"].as_str().unwrap()).is_ok());
    assert!(driver
        .deliver("unknown-topic", json!(1), DeliverOptions::new())
        .await
        .is_err());
}

#[tokio::test]
async fn v2_routes_choose_the_path_by_event_type() {
    let app = App::start().await;
    let driver = app.driver().await;
    let completed = driver
        .deliver(
            "task-events",
            json!({}),
            DeliverOptions::new().event_type("task.completed"),
        )
        .await
        .unwrap();
    assert_eq!(completed.route, "/events/completed");
    let other = driver
        .deliver(
            "task-events",
            json!({}),
            DeliverOptions::new().event_type("task.created"),
        )
        .await
        .unwrap();
    assert_eq!(other.route, "/events/task-events");
}

#[test]
fn answers_are_read_like_daprd() {
    let ok = StatusCode::OK;
    let cases: &[(StatusCode, &str, AppStatus)] = &[
        (ok, r#"{"status":"SUCCESS"}"#, AppStatus::Success),
        (ok, r#"{"status":"RETRY"}"#, AppStatus::Retry),
        (ok, r#"{"status":"DROP"}"#, AppStatus::Drop),
        (ok, r#"{"status":"success"}"#, AppStatus::Retry),
        (ok, r#"{"status":"drop"}"#, AppStatus::Retry),
        (ok, r#"{"status":"OK"}"#, AppStatus::Retry),
        (ok, r#"{"status":""}"#, AppStatus::Success),
        (ok, "", AppStatus::Success),
        (ok, "{}", AppStatus::Success),
        (ok, r#"{"result":"DROP"}"#, AppStatus::Success),
        (ok, "<html>not json</html>", AppStatus::Success),
        (StatusCode::NO_CONTENT, "", AppStatus::Success),
        (
            StatusCode::ACCEPTED,
            r#"{"status":"DROP"}"#,
            AppStatus::Drop,
        ),
        (
            StatusCode::NOT_FOUND,
            r#"{"status":"SUCCESS"}"#,
            AppStatus::Drop,
        ),
        (
            StatusCode::BAD_REQUEST,
            r#"{"status":"DROP"}"#,
            AppStatus::Retry,
        ),
        (StatusCode::UNAUTHORIZED, "", AppStatus::Retry),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            r#"{"status":"SUCCESS"}"#,
            AppStatus::Retry,
        ),
        (StatusCode::SERVICE_UNAVAILABLE, "", AppStatus::Retry),
    ];
    for (status, body, expected) in cases {
        assert_eq!(
            interpret_app_response(*status, body.as_bytes()),
            *expected,
            "{status} {body:?}"
        );
    }
}

#[tokio::test]
async fn each_app_answer_over_http() {
    let app = App::start().await;
    let driver = app.driver().await;
    app.answer(vec![
        status("SUCCESS"),
        status("RETRY"),
        status("DROP"),
        CannedResponse::text(500, "internal error"),
        CannedResponse::text(200, "garbage"),
        status("Success"),
        CannedResponse::text(404, "no route"),
    ]);
    let mut seen = Vec::new();
    for _ in 0..7 {
        let d = driver
            .deliver("no-dlq", json!({}), DeliverOptions::new())
            .await
            .unwrap();
        seen.push((
            d.outcome,
            d.http_status.map(|s| s.as_u16()),
            d.explicit_status,
        ));
    }
    assert_eq!(
        seen,
        vec![
            (AppStatus::Success, Some(200), Some("SUCCESS".into())),
            (AppStatus::Retry, Some(200), Some("RETRY".into())),
            (AppStatus::Drop, Some(200), Some("DROP".into())),
            (AppStatus::Retry, Some(500), None),
            (AppStatus::Success, Some(200), None),
            (AppStatus::Retry, Some(200), Some("Success".into())),
            (AppStatus::Drop, Some(404), None),
        ]
    );
}

#[tokio::test]
async fn no_answer_is_a_retry() {
    let app = App::start().await;
    let driver = app.driver().await.with_timeout(Duration::from_millis(200));
    app.server.set_delay(Some(Duration::from_secs(2)));
    let d = driver
        .deliver("no-dlq", json!({}), DeliverOptions::new())
        .await
        .unwrap();
    assert_eq!(d.outcome, AppStatus::Retry);
    assert_eq!(d.http_status, None);
    assert!(d.transport_error.is_some());
}

#[tokio::test]
async fn redelivers_the_same_envelope_until_success() {
    let app = App::start().await;
    let driver = app.driver().await;
    app.answer(vec![status("RETRY"), CannedResponse::text(503, "busy")]);
    let settled = driver
        .deliver_until_settled("reminders", json!({"n": 1}), DeliverOptions::new(), 5)
        .await
        .unwrap();
    assert_eq!(settled.outcome, SettledOutcome::Success);
    assert_eq!(
        settled.outcomes(),
        vec![AppStatus::Retry, AppStatus::Retry, AppStatus::Success]
    );
    assert!(settled.dead_letter.is_none());
    let bodies: Vec<Value> = app
        .server
        .requests_to("/events/reminders")
        .iter()
        .map(|r| r.json().unwrap())
        .collect();
    assert_eq!(bodies.len(), 3);
    assert!(
        bodies.iter().all(|b| *b == bodies[0]),
        "redelivery changed the envelope"
    );
    assert!(driver.dead_letters().is_empty());
}

#[tokio::test]
async fn dropped_message_goes_to_the_dead_letter_topic() {
    let app = App::start().await;
    let driver = app.driver().await;
    app.answer(vec![status("DROP")]);
    let settled = driver
        .deliver_until_settled(
            "reminders",
            json!({"bad": true}),
            DeliverOptions::new().id("evt-9"),
            5,
        )
        .await
        .unwrap();
    assert_eq!(settled.outcome, SettledOutcome::Dropped);
    assert_eq!(settled.attempts.len(), 1);
    let letter = settled.dead_letter.unwrap();
    assert_eq!(letter.topic, "reminders-dlq");
    assert_eq!(letter.reason, DeadLetterReason::Dropped);
    assert_eq!(letter.envelope["id"], "evt-9");
    assert_eq!(driver.dead_letters().len(), 1);
}

#[tokio::test]
async fn exhausted_retries_go_to_the_dead_letter_topic() {
    let app = App::start().await;
    let driver = app.driver().await;
    app.answer(vec![status("RETRY"); 3]);
    let settled = driver
        .deliver_until_settled("reminders", json!({}), DeliverOptions::new(), 3)
        .await
        .unwrap();
    assert_eq!(settled.outcome, SettledOutcome::Exhausted);
    assert_eq!(settled.attempts.len(), 3);
    assert_eq!(
        settled.dead_letter.unwrap().reason,
        DeadLetterReason::Exhausted
    );
}

#[tokio::test]
async fn without_dead_letter_topic_a_drop_is_just_dropped() {
    let app = App::start().await;
    let driver = app.driver().await;
    app.answer(vec![status("DROP")]);
    let settled = driver
        .deliver_until_settled("no-dlq", json!({}), DeliverOptions::new(), 3)
        .await
        .unwrap();
    assert_eq!(settled.outcome, SettledOutcome::Dropped);
    assert!(settled.dead_letter.is_none());
    assert!(driver.dead_letters().is_empty());
}

#[tokio::test]
async fn deliver_raw_posts_the_bytes_as_given() {
    let app = App::start().await;
    let driver = app.driver().await.with_app_api_token("t");
    app.answer(vec![status("DROP")]);
    let d = driver
        .deliver_raw("/events/reminders", "{not json", "application/json")
        .await;
    assert_eq!(d.outcome, AppStatus::Drop);
    let request = app.server.requests_to("/events/reminders").pop().unwrap();
    assert_eq!(&request.body[..], b"{not json");
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("dapr-api-token"), Some("t"));
}

#[tokio::test]
async fn dapr_bulk_status_shape_and_per_entry_statuses() {
    let app = App::start().await;
    let driver = app.driver().await;
    let a = driver
        .bulk_entry("reminders", json!({"n": 1}), &DeliverOptions::new())
        .unwrap();
    let b = driver
        .bulk_entry("reminders", json!({"n": 2}), &DeliverOptions::new())
        .unwrap();
    let c = BulkEntry::raw("raw-1", json!("plain"), "text/plain");
    app.answer(vec![CannedResponse::json(
        200,
        &json!({"statuses": [
            {"entryId": a.entry_id, "status": "SUCCESS"},
            {"entryId": b.entry_id, "status": "DROP"},
        ]}),
    )]);
    let bulk = driver
        .deliver_bulk("reminders", vec![a.clone(), b.clone(), c])
        .await
        .unwrap();
    assert_eq!(bulk.statuses[&a.entry_id], AppStatus::Success);
    assert_eq!(bulk.statuses[&b.entry_id], AppStatus::Drop);
    assert_eq!(
        bulk.statuses["raw-1"],
        AppStatus::Retry,
        "an entry without status is RETRY"
    );

    let body = app
        .server
        .requests_to("/events/reminders")
        .pop()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(body["topic"], "reminders");
    assert_eq!(body["pubsubname"], "kafka-pubsub");
    assert!(body["id"].is_string());
    assert!(body["metadata"].is_object());
    let entries = body["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0]["entryId"], a.entry_id.as_str());
    assert_eq!(entries[0]["contentType"], "application/cloudevents+json");
    assert_eq!(entries[0]["event"]["data"], json!({"n": 1}));
    assert_eq!(entries[0]["event"]["specversion"], "1.0");
    assert_eq!(entries[2]["contentType"], "text/plain");

    // The DROPped entry went to the dead-letter topic, unchanged.
    let letters = driver.dead_letters();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].topic, "reminders-dlq");
    assert_eq!(letters[0].envelope, b.event);
}

#[tokio::test]
async fn bulk_error_statuses_apply_to_all_entries() {
    let app = App::start().await;
    let driver = app.driver().await;
    let entries = || {
        vec![
            BulkEntry::raw("1", json!(1), "application/json"),
            BulkEntry::raw("2", json!(2), "application/json"),
        ]
    };
    app.answer(vec![
        CannedResponse::text(404, ""),
        CannedResponse::text(500, ""),
        CannedResponse::text(200, "nope"),
    ]);
    let dropped = driver.deliver_bulk("reminders", entries()).await.unwrap();
    assert!(dropped.statuses.values().all(|s| *s == AppStatus::Drop));
    let retried = driver.deliver_bulk("reminders", entries()).await.unwrap();
    assert!(retried.statuses.values().all(|s| *s == AppStatus::Retry));
    let unreadable = driver.deliver_bulk("reminders", entries()).await.unwrap();
    assert!(unreadable.statuses.values().all(|s| *s == AppStatus::Retry));
    assert_eq!(unreadable.statuses.len(), 2);
}
