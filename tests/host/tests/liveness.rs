//! Liveness under a burst (docs/CONTRACT.md, "Dapr behaviour"): Spin 3.6.3
//! pools 64 PostgreSQL connections per address and a request waits for one
//! without limit, so a request that holds a connection while asking for a
//! second one deadlocks the app once 64 requests do it at once.
//!
//! Here 3 × 64 deliveries arrive at the same moment, each of which needs
//! the database more than once: bulks of a good reminder followed by a
//! malformed entry (the reminder's work, then keeping the dropped entry),
//! and completions of tasks whose stored rule cannot be parsed (the task
//! is loaded, then the event is dropped and kept). Every one must be
//! answered as the contract says, and readiness must answer 200 right
//! after. On `ec59bcc` (a second connection per dropped entry) 127 of 128
//! such bulks went unanswered and the app stayed hung.

mod both_services;

use std::sync::Arc;
use std::time::Duration;

use component_host::fakes::dapr::{AppStatus, BulkEntry, DeliverOptions};
use component_host::fakes::{FakeEmailRelay, FakeSidecar};
use component_host::pg_cluster::fresh_database;
use serde_json::json;

/// Deliveries of each kind sent at once: twice Spin's pool (64).
const BURST: usize = 128;

/// No answer within this is a hang (a delivery here takes milliseconds).
const ANSWER_WITHIN: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_delivery_is_answered_when_each_needs_the_database_twice() {
    let db = fresh_database().await.expect("test database");
    let pg = db.client().await;
    let sidecar = FakeSidecar::start().await.expect("sidecar");
    let relay = FakeEmailRelay::start().await.expect("relay");
    let (app, driver) = both_services::start("liveness.toml", &db, &sidecar, &relay, None).await;
    let driver = Arc::new(driver.with_timeout(ANSWER_WITHIN));

    // Completed tasks whose stored rule cannot be parsed: loaded, then dropped.
    let mut poisoned = Vec::new();
    for n in 0..BURST {
        let id = uuid::Uuid::new_v4().to_string();
        pg.execute(
            "INSERT INTO tasks (id, user_id, title, due_at, completed, completed_at, recurrence_rule, series_id) \
             VALUES ($1::text::uuid, $2, 'poisoned', now(), true, now(), 'FREQ=FORTNIGHTLY', $1::text::uuid)",
            &[&id, &format!("user-{n}")],
        )
        .await
        .expect("insert task");
        poisoned.push(id);
    }

    let mut bulks = Vec::new();
    for n in 0..BURST {
        let driver = Arc::clone(&driver);
        bulks.push(tokio::spawn(async move {
            let good = driver
                .bulk_entry(
                    "reminders",
                    json!({
                        "task_id": uuid::Uuid::new_v4().to_string(),
                        "user_id": format!("burst-{n}"),
                        "title": "Burst",
                        "remind_at": "2026-12-01T08:30:00Z",
                        "channels": ["email"],
                    }),
                    &DeliverOptions::new().event_type("reminder.due"),
                )
                .expect("entry");
            let malformed = BulkEntry::raw(
                format!("bad-{n}"),
                json!({"specversion": "1.0", "type": "reminder.due", "data": {}}),
                "application/cloudevents+json",
            );
            let ids = [good.entry_id.clone(), malformed.entry_id.clone()];
            let answer = driver
                .deliver_bulk("reminders", vec![good, malformed])
                .await
                .expect("bulk");
            (ids, answer)
        }));
    }
    let mut completions = Vec::new();
    for (n, task_id) in poisoned.iter().enumerate() {
        let driver = Arc::clone(&driver);
        let data = json!({
            "task_id": task_id,
            "user_id": format!("user-{n}"),
            "completed_at": "2026-12-01T10:00:00Z",
            "has_recurrence": true,
        });
        completions.push(tokio::spawn(async move {
            driver
                .deliver(
                    "task-events",
                    data,
                    DeliverOptions::new().event_type("task.completed"),
                )
                .await
                .expect("delivery")
        }));
    }

    let mut unanswered = 0;
    for bulk in bulks {
        let ([good, bad], answer) = bulk.await.expect("task");
        if answer.transport_error.is_some() {
            unanswered += 1;
            continue;
        }
        assert_eq!(
            answer.explicit.get(&good).map(String::as_str),
            Some("SUCCESS"),
            "{answer:?}"
        );
        assert_eq!(
            answer.explicit.get(&bad).map(String::as_str),
            Some("DROP"),
            "{answer:?}"
        );
    }
    for completion in completions {
        let answer = completion.await.expect("task");
        if answer.transport_error.is_some() {
            unanswered += 1;
            continue;
        }
        assert!(
            answer.answered_explicitly(AppStatus::Drop),
            "{}",
            answer.body_text()
        );
    }
    assert_eq!(unanswered, 0, "deliveries left without an answer");

    for route in ["/recurrence/readyz", "/notifications/readyz"] {
        let ready = tokio::time::timeout(
            Duration::from_secs(10),
            component_host::client::send("GET", &format!("{}{route}", app.base_url()), &[], ""),
        )
        .await
        .expect("readiness answers")
        .expect("readiness request");
        assert_eq!(ready.status, 200, "{route}: {}", ready.text());
    }

    // Every dropped entry was kept, each once.
    let kept: i64 = pg
        .query_one(
            "SELECT count(*) FROM rejected_events WHERE reason IN ('not_a_cloudevent', 'invalid_rule')",
            &[],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(kept, 2 * BURST as i64);
    assert!(
        app.request_errors().is_empty(),
        "{:?}",
        app.request_errors()
    );
}
