//! The reminder scheduler end to end (docs/CONTRACT.md, "Scheduler"):
//! `tasks.remind_at` -> `POST /scheduler/tick` -> `reminder.due` at the
//! sidecar -> `/events/reminders` -> e-mail and push; completion -> next
//! occurrence -> reminded by a later tick. Plus concurrency, partial
//! failure, lateness, auth and database faults.

mod scheduler_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use component_host::fakes::{CannedResponse, FakeServer};
use scheduler_support::{counts, instant, logs, Env, ADDRESS, DEVICE, USER};
use serde_json::{json, Value};

#[tokio::test]
async fn a_due_reminder_is_delivered_and_the_next_occurrence_is_reminded_too() {
    // Reminders 30 h before the due time: the completed task's next
    // occurrence (due in about 23 h) is then due for its reminder at once.
    let env = Env::start_with(&[("scheduler_max_lateness_seconds", "172800")]).await;
    env.subscriber().await;
    let task = env
        .task_with(
            "Pay rent",
            "now() - interval '31 hours'",
            "now() - interval '1 hour'",
            "'daily'",
        )
        .await;

    assert_eq!(counts(&env.tick_ok().await), (1, 0, 0, 0));
    let published = env.reminders();
    assert_eq!(published.len(), 1, "{published:#?}");
    let reminder = &published[0];
    assert_eq!(reminder.pubsub, "kafka-pubsub");
    assert_eq!(reminder.cloudevent_type.as_deref(), Some("reminder.due"));
    assert_eq!(
        reminder.cloudevent_id.as_deref(),
        Some(env.expected_event_id(&task).await.as_str())
    );
    let data = reminder.data.clone().expect("JSON payload");
    let fields: Vec<&str> = data
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        ["due_at", "remind_at", "task_id", "title", "user_id"]
    );
    assert_eq!(
        (data["task_id"].as_str(), data["user_id"].as_str()),
        (Some(task.as_str()), Some(USER))
    );
    assert_eq!(data["title"], "Pay rent");
    assert_eq!(instant(&data["remind_at"]), env.remind_at(&task).await);
    assert!(data["remind_at"].as_str().is_some_and(|t| t.ends_with('Z')));

    // daprd delivers it to the notification service: one e-mail, one push.
    env.deliver_reminder(reminder).await;
    assert_eq!(env.relay.emails_to(ADDRESS).len(), 1);
    let pushes = env.fcm.pushes_to(DEVICE);
    assert_eq!(pushes.len(), 1);

    let recorded = env.recorded().await;
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0]["state"], "published");
    assert_eq!(
        recorded[0]["event_id"].as_str(),
        reminder.cloudevent_id.as_deref()
    );
    assert!(!recorded[0]["published_at"].is_null());
    assert_eq!(counts(&env.tick_ok().await), (0, 0, 0, 0), "published once");

    // Completed: the recurrence service creates occurrence 2, and the next
    // tick reminds that one (the completed task is not reminded again).
    env.complete(&task).await;
    let next: String = env
        .pg
        .query_one(
            "SELECT id::text FROM tasks WHERE series_id = $1::text::uuid AND occurrence = 2",
            &[&task],
        )
        .await
        .expect("next occurrence")
        .get(0);
    assert_eq!(counts(&env.tick_ok().await), (1, 0, 0, 0));
    let published = env.reminders();
    assert_eq!(published.len(), 2);
    let second = &published[1];
    let data = second.data.clone().expect("payload");
    assert_eq!(data["task_id"].as_str(), Some(next.as_str()));
    assert_eq!(instant(&data["remind_at"]), env.remind_at(&next).await);
    assert_eq!(
        second.cloudevent_id.as_deref(),
        Some(env.expected_event_id(&next).await.as_str())
    );
    env.deliver_reminder(second).await;
    assert_eq!(env.relay.emails_to(ADDRESS).len(), 2);
    assert_eq!(env.fcm.pushes_to(DEVICE).len(), 2);

    let lines = logs(&env.app, "reminder published");
    assert_eq!(lines.len(), 2, "one log line per published reminder");
    assert_eq!(
        lines[0]["event_id"].as_str(),
        published[0].cloudevent_id.as_deref()
    );
    assert_eq!(lines[0]["task_id"].as_str(), Some(task.as_str()));
    assert!(!env.app.logs().contains(ADDRESS));
}

#[tokio::test]
async fn parallel_ticks_publish_each_reminder_once() {
    let env = Env::start_with(&[("scheduler_batch", "25")]).await;
    let mut tasks = Vec::new();
    for i in 0..60 {
        let remind_at = format!("now() - interval '{} seconds'", 100 + i);
        tasks.push(env.task(&format!("task {i}"), &remind_at, "NULL").await);
    }
    assert_eq!(env.parallel_ticks(4, 25).await, 60);
    let ids: Vec<String> = env.published_ids();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(ids.len(), 60, "each reminder published exactly once");
    assert_eq!(unique.len(), 60);
    // Oldest remind_at first overall: task 59 (the oldest) went first.
    let first = env.reminders()[0].data.clone().expect("payload");
    assert_eq!(first["task_id"].as_str(), Some(tasks[59].as_str()));
    assert_eq!(env.recorded().await.len(), 60);
    assert_eq!(counts(&env.tick_ok().await), (0, 0, 0, 0));
}

#[tokio::test]
async fn a_sidecar_failure_mid_batch_leaves_the_rest_for_the_next_tick() {
    // A sidecar whose broker fails the third publish only.
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let flaky = FakeServer::start(
        "flaky sidecar",
        Arc::new(move |req| {
            if !req.path.starts_with("/v1.0/publish/") {
                return CannedResponse::text(404, "404 page not found\n");
            }
            if seen.fetch_add(1, Ordering::SeqCst) == 2 {
                CannedResponse::json(
                    500,
                    &json!({"errorCode": "ERR_PUBSUB_PUBLISH_MESSAGE", "message": "broker down"}),
                )
            } else {
                CannedResponse::empty(204)
            }
        }),
    )
    .await
    .expect("flaky sidecar");
    let port = flaky.port().to_string();
    let env = Env::start_with(&[("dapr_http_port", &port)]).await;
    let mut tasks = Vec::new();
    for i in 0..5 {
        let remind_at = format!("now() - interval '{} minutes'", 10 - i);
        tasks.push(env.task(&format!("task {i}"), &remind_at, "NULL").await);
    }

    assert_eq!(counts(&env.tick_ok().await), (2, 0, 1, 3));
    let recorded: Vec<String> = env
        .recorded()
        .await
        .iter()
        .map(|r| r["task_id"].as_str().expect("task_id").to_owned())
        .collect();
    assert_eq!(recorded, tasks[..2], "the failed reminder is not recorded");
    let warned = logs(
        &env.app,
        "reminder publish failed; the next tick retries it",
    );
    assert_eq!(warned.len(), 1);
    assert_eq!(warned[0]["task_id"].as_str(), Some(tasks[2].as_str()));

    assert_eq!(counts(&env.tick_ok().await), (3, 0, 0, 0));
    let ids: Vec<Option<String>> = flaky
        .requests_to("/v1.0/publish/")
        .iter()
        .map(|r| r.query_param("metadata.cloudevent.id"))
        .collect();
    assert_eq!(ids.len(), 6, "five reminders, the failed one twice");
    assert_eq!(ids[2], ids[3], "the retry carries the same CloudEvent id");
    assert_eq!(
        ids[2].as_deref(),
        Some(env.expected_event_id(&tasks[2]).await.as_str())
    );
    assert_eq!(env.recorded().await.len(), 5);
}

#[tokio::test]
async fn late_completed_and_changed_reminders() {
    let env = Env::start().await;
    let late = env
        .task("late", "now() - interval '25 hours'", "NULL")
        .await;
    let due = env
        .task(
            "due",
            "now() - interval '1 minute'",
            "now() + interval '1 hour'",
        )
        .await;
    let future = env
        .task("future", "now() + interval '1 hour'", "NULL")
        .await;
    let done = env
        .task("done", "now() - interval '2 minutes'", "NULL")
        .await;
    env.sql(&format!(
        "UPDATE tasks SET completed = true WHERE id = '{done}'"
    ))
    .await;
    env.task("no reminder", "NULL", "now()").await;

    assert_eq!(counts(&env.tick_ok().await), (1, 1, 0, 0));
    let published = env.reminders();
    assert_eq!(published.len(), 1);
    assert_eq!(
        published[0].data.as_ref().expect("payload")["task_id"].as_str(),
        Some(due.as_str())
    );
    let recorded = env.recorded().await;
    assert_eq!(recorded.len(), 2);
    assert_eq!(
        (recorded[0]["task_id"].as_str(), &recorded[0]["state"]),
        (Some(late.as_str()), &json!("skipped"))
    );
    assert!(recorded[0]["published_at"].is_null());
    assert_eq!(
        recorded[0]["event_id"].as_str(),
        Some(env.expected_event_id(&late).await.as_str())
    );
    assert_eq!(
        counts(&env.tick_ok().await),
        (0, 0, 0, 0),
        "skipped for good"
    );

    // A changed remind_at is a new reminder, with a new id.
    env.sql(&format!(
        "UPDATE tasks SET remind_at = now() - interval '5 seconds' WHERE id = '{due}'"
    ))
    .await;
    env.sql(&format!(
        "UPDATE tasks SET remind_at = now() - interval '1 second' WHERE id = '{future}'"
    ))
    .await;
    assert_eq!(counts(&env.tick_ok().await), (2, 0, 0, 0));
    let published = env.reminders();
    assert_eq!(published.len(), 3);
    assert_ne!(published[0].cloudevent_id, published[1].cloudevent_id);
    assert_eq!(
        published[1].data.as_ref().expect("payload")["task_id"].as_str(),
        Some(due.as_str())
    );
    assert_eq!(
        published[2].data.as_ref().expect("payload")["due_at"],
        Value::Null
    );
}

#[tokio::test]
async fn the_batch_bounds_publishes_and_remaining_counts_the_rest() {
    let env = Env::start_with(&[("scheduler_batch", "3")]).await;
    for i in 0..3 {
        env.task(&format!("late {i}"), "now() - interval '3 days'", "NULL")
            .await;
    }
    for i in 0..7 {
        let remind_at = format!("now() - interval '{} minutes'", 10 - i);
        env.task(&format!("due {i}"), &remind_at, "NULL").await;
    }
    // Skips do not count against the batch (they fill the first page).
    assert_eq!(counts(&env.tick_ok().await), (3, 3, 0, 4));
    assert_eq!(counts(&env.tick_ok().await), (3, 0, 0, 1));
    assert_eq!(counts(&env.tick_ok().await), (1, 0, 0, 0));
    assert_eq!(env.reminders().len(), 7);
}

#[tokio::test]
async fn options_needs_no_token_and_post_needs_the_right_one() {
    let env = Env::start_with(&[("app_api_token", "s3cret-app-token")]).await;
    env.task("due", "now() - interval '1 minute'", "NULL").await;

    let (status, _) = env.request("OPTIONS", "/scheduler/tick", &[], "").await;
    assert_eq!(status, 200);
    let (status, body) = env.request("GET", "/scheduler/readyz", &[], "").await;
    assert_eq!((status, &body["status"]), (200, &json!("ready")), "{body}");
    for headers in [vec![], vec![("dapr-api-token", "wrong")]] {
        let (status, body) = env.request("POST", "/scheduler/tick", &headers, "{}").await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(body["error"]["code"], "unauthorized");
        assert!(body["error"]["message"].is_string());
    }
    assert!(
        env.reminders().is_empty(),
        "nothing published without the token"
    );
    assert_eq!(counts(&env.tick_ok().await), (1, 0, 0, 0));
    let (status, _) = env
        .request(
            "GET",
            "/scheduler/tick",
            &[("dapr-api-token", "s3cret-app-token")],
            "",
        )
        .await;
    assert_eq!(status, 405);
    assert!(!env.app.logs().contains("s3cret-app-token"));
}

#[tokio::test]
async fn a_database_fault_answers_503_with_the_error_shape() {
    // A database address where nothing listens.
    let db = component_host::pg_cluster::fresh_database()
        .await
        .expect("db");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let url = format!("postgres://postgres@127.0.0.1:{port}/none?sslmode=disable");
    let env = Env::start_on(db, &url, &format!("127.0.0.1:{port}"), &[]).await;
    let (status, body) = env.tick().await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "database_unavailable");
    assert!(body["error"]["message"].is_string());
    assert!(env.reminders().is_empty());
}
