//! Exactly once and the Dapr answers, end to end through the built
//! `recurrence.wasm`: duplicate and concurrent deliveries, Postgres and
//! sidecar faults (RETRY, then success without doing anything twice),
//! every class of bad input (DROP, a `rejected_events` row, a log line),
//! and bulk requests answered entry by entry.

mod recurrence_support;

use component_host::fakes::dapr::{AppStatus, BulkEntry, DeliverOptions};
use recurrence_support::{answered, completed, Env, Task};
use serde_json::{json, Value};

const DUE: &str = "2026-01-05T09:00:00Z";
const DONE: &str = "2026-01-05T10:00:00Z";

async fn daily_task(env: &Env) -> String {
    env.insert(&Task::recurring("daily", DUE, DONE)).await
}

/// The ids of the accepted publishes.
fn published_ids(env: &Env) -> Vec<String> {
    env.sidecar
        .publishes()
        .into_iter()
        .filter_map(|p| p.cloudevent_id)
        .collect()
}

#[tokio::test]
async fn the_same_event_twice_creates_one_row_and_publishes_the_same_id_twice() {
    let env = Env::start().await;
    let id = daily_task(&env).await;
    let (route, envelope) = env
        .driver
        .envelope(
            "task-events",
            completed(&id, DONE),
            &DeliverOptions::new().event_type("task.completed"),
        )
        .expect("envelope");
    for _ in 0..2 {
        let d = env.driver.deliver_envelope(&route, &envelope).await;
        assert!(answered(&d, AppStatus::Success), "{}", d.body_text());
    }
    let rows = env.series(&id).await;
    assert_eq!(rows.len(), 1);
    let new_id = rows[0]["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(published_ids(&env), [new_id.clone(), new_id]);
    let logs = env.app.logs();
    assert!(
        logs.contains(r#""inserted":true"#) && logs.contains(r#""inserted":false"#),
        "{logs}"
    );
}

#[tokio::test]
async fn two_events_for_the_same_completion_create_one_row() {
    let env = Env::start().await;
    let id = daily_task(&env).await;
    // Different CloudEvent ids, different (event) completion times: the row
    // is authoritative, and the occurrence number decides the id.
    for (event_id, at) in [("ev-a", DONE), ("ev-b", "2026-01-05T10:00:07Z")] {
        let d = env
            .complete(&id, at, DeliverOptions::new().id(event_id))
            .await;
        assert!(answered(&d, AppStatus::Success), "{}", d.body_text());
    }
    let rows = env.series(&id).await;
    assert_eq!(rows.len(), 1);
    let new_id = rows[0]["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(published_ids(&env), [new_id.clone(), new_id]);
}

/// 20 deliveries of one event at once, for several tasks: each task gets
/// exactly one occurrence and every delivery publishes its id. Racing
/// inserts make some deliveries take the path where the winner's row is not
/// yet visible to the statement's snapshot (one more SELECT); the rounds
/// make that path likely to be exercised in every run.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_deliveries_create_exactly_one_row() {
    const ROUNDS: usize = 10;
    let env = std::sync::Arc::new(Env::start().await);
    for round in 0..ROUNDS {
        let id = daily_task(&env).await;
        let (route, envelope) = env
            .driver
            .envelope(
                "task-events",
                completed(&id, DONE),
                &DeliverOptions::new().event_type("task.completed"),
            )
            .expect("envelope");
        let before = published_ids(&env).len();
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let (env, route, envelope) = (env.clone(), route.clone(), envelope.clone());
            set.spawn(async move { env.driver.deliver_envelope(&route, &envelope).await });
        }
        for d in set.join_all().await {
            assert!(
                answered(&d, AppStatus::Success),
                "round {round}: {}\n{}",
                d.body_text(),
                env.app.logs()
            );
        }
        let rows = env.series(&id).await;
        assert_eq!(rows.len(), 1, "round {round}: exactly one occurrence");
        let new_id = rows[0]["id"].as_str().unwrap_or_default();
        let ids = published_ids(&env).split_off(before);
        assert_eq!(ids.len(), 20, "round {round}");
        assert!(ids.iter().all(|i| i == new_id), "round {round}: {ids:?}");
    }
    assert_eq!(env.task_count().await, 2 * ROUNDS as i64);
    assert_eq!(env.app.logs().matches(r#""inserted":true"#).count(), ROUNDS);
}

/// The race the concurrent test hits only sometimes, made deterministic: a
/// competing insert of the same occurrence is still uncommitted when the
/// component's insert starts, so the insert waits, then skips the conflict,
/// and its snapshot cannot see the winner's row; the component must read
/// it back (and publish it) rather than give up.
#[tokio::test]
async fn an_insert_racing_an_uncommitted_twin_reads_the_winner_back() {
    let env = Env::start().await;
    let id = daily_task(&env).await;
    let new_id = env.expected_id(&id, 2).await;
    let mut rival = env.db.client().await;
    let tx = rival.transaction().await.expect("begin");
    tx.execute(
        "INSERT INTO tasks (id, user_id, title, due_at, series_id, occurrence) \
         VALUES ($1::text::uuid, 'u-42', 'Raced', '2026-01-06T09:00:00Z', $2::text::uuid, 2)",
        &[&new_id, &id],
    )
    .await
    .expect("rival insert");
    let deliver = env.complete(&id, DONE, DeliverOptions::new().id("ev-race"));
    let commit_when_blocked = async {
        for _ in 0..1000 {
            let waiting: i64 = env
                .pg
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity \
                     WHERE datname = current_database() AND wait_event_type = 'Lock'",
                    &[],
                )
                .await
                .expect("pg_stat_activity")
                .get(0);
            if waiting > 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        tx.commit().await.expect("commit");
    };
    let (d, ()) = tokio::join!(deliver, commit_when_blocked);
    assert!(
        answered(&d, AppStatus::Success),
        "{}\n{}",
        d.body_text(),
        env.app.logs()
    );
    let rows = env.series(&id).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["title"], "Raced");
    let published = env.sidecar.publishes();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].cloudevent_id.as_deref(), Some(new_id.as_str()));
    assert_eq!(
        published[0].data.as_ref().map(|d| d["title"].clone()),
        Some(json!("Raced"))
    );
    assert!(
        env.app.logs().contains(r#""inserted":false"#),
        "{}",
        env.app.logs()
    );
}

#[tokio::test]
async fn postgres_down_is_retried_and_nothing_is_done_twice_once_it_is_back() {
    let env = Env::start().await;
    let id = daily_task(&env).await;
    let options = DeliverOptions::new()
        .event_type("task.completed")
        .id("ev-pg");
    let (route, envelope) = env
        .driver
        .envelope("task-events", completed(&id, DONE), &options)
        .expect("envelope");
    env.db.set_down(true);
    for _ in 0..2 {
        let d = env.driver.deliver_envelope(&route, &envelope).await;
        assert!(answered(&d, AppStatus::Retry), "{}", d.body_text());
    }
    // A malformed event cannot be kept while the database is down: RETRY too.
    let d = env
        .driver
        .deliver_raw(&route, "{not json", "application/cloudevents+json")
        .await;
    assert!(answered(&d, AppStatus::Retry), "{}", d.body_text());
    assert!(env.sidecar.publish_attempts().is_empty());
    assert!(env.app.logs().contains("ev-pg"), "{}", env.app.logs());

    env.db.set_down(false);
    let d = env.driver.deliver_envelope(&route, &envelope).await;
    assert!(answered(&d, AppStatus::Success), "{}", d.body_text());
    assert_eq!(env.series(&id).await.len(), 1);
    assert_eq!(published_ids(&env).len(), 1);
    assert!(env.rejected().await.is_empty());
}

#[tokio::test]
async fn a_failed_publish_is_retried_with_the_same_id_and_one_row() {
    let env = Env::start().await;
    let id = daily_task(&env).await;
    env.sidecar.fail_next_publishes(1, "broker down");
    let settlement = env
        .driver
        .deliver_until_settled(
            "task-events",
            completed(&id, DONE),
            DeliverOptions::new().event_type("task.completed"),
            5,
        )
        .await
        .expect("delivered");
    assert_eq!(
        settlement.outcomes(),
        [AppStatus::Retry, AppStatus::Success]
    );
    assert!(settlement
        .attempts
        .iter()
        .all(|a| a.http_status.map(|s| s.as_u16()) == Some(200)));
    let rows = env.series(&id).await;
    assert_eq!(rows.len(), 1, "the retry found the row");
    let new_id = rows[0]["id"].as_str().unwrap_or_default();
    let attempts = env.sidecar.publish_attempts();
    assert_eq!(attempts.len(), 2, "published again on redelivery");
    for a in &attempts {
        assert_eq!(
            a.query_param("metadata.cloudevent.id").as_deref(),
            Some(new_id)
        );
    }
    assert_eq!(
        attempts[0].body, attempts[1].body,
        "the same payload both times"
    );
    assert_eq!(published_ids(&env), [new_id]);
    assert!(
        env.app.logs().contains("sidecar answered 500"),
        "{}",
        env.app.logs()
    );
}

/// One bad input: the payload delivered, and the reason and detail expected.
struct Bad {
    name: &'static str,
    event_id: Option<&'static str>,
    reason: &'static str,
    detail: &'static str,
}

#[tokio::test]
async fn every_kind_of_bad_input_is_dropped_kept_and_logged() {
    let env = Env::start().await;
    let bad_rule = env.insert(&Task::recurring("FREQ=HOURLY", DUE, DONE)).await;
    let bad_zone = env
        .insert(&Task::recurring("daily", DUE, DONE).zone("Mars/Olympus_Mons"))
        .await;
    let valid = daily_task(&env).await;
    let route = "/events/task-events";
    let event = |id: &str, data: Value| {
        json!({"id": id, "source": "todo-backend", "type": "task.completed", "specversion": "1.0",
               "datacontenttype": "application/json", "topic": "task-events", "pubsubname": "kafka-pubsub",
               "data": data})
    };
    let mut missing = completed(&valid, DONE);
    missing.as_object_mut().map(|m| m.remove("completed_at"));
    let mut wrong = completed(&valid, DONE);
    wrong["has_recurrence"] = json!("yes");
    let unknown = uuid::Uuid::new_v4().to_string();
    let cases: Vec<(Bad, String)> = vec![
        (
            Bad {
                name: "malformed JSON",
                event_id: None,
                reason: "malformed_json",
                detail: "malformed_json",
            },
            "{\"id\": \"x\",".into(),
        ),
        (
            Bad {
                name: "not a CloudEvent",
                event_id: None,
                reason: "not_a_cloudevent",
                detail: "",
            },
            json!({"hello": "world"}).to_string(),
        ),
        (
            Bad {
                name: "missing field",
                event_id: Some("ev-missing"),
                reason: "schema_violation",
                detail: "completed_at",
            },
            event("ev-missing", missing).to_string(),
        ),
        (
            Bad {
                name: "wrong type",
                event_id: Some("ev-wrong"),
                reason: "schema_violation",
                detail: "has_recurrence",
            },
            event("ev-wrong", wrong).to_string(),
        ),
        (
            Bad {
                name: "unknown task",
                event_id: Some("ev-unknown"),
                reason: "unknown_task",
                detail: "",
            },
            event("ev-unknown", completed(&unknown, DONE)).to_string(),
        ),
        (
            Bad {
                name: "unparseable rule",
                event_id: Some("ev-rule"),
                reason: "invalid_rule",
                detail: "HOURLY",
            },
            event("ev-rule", completed(&bad_rule, DONE)).to_string(),
        ),
        (
            Bad {
                name: "unknown zone",
                event_id: Some("ev-zone"),
                reason: "unknown_timezone",
                detail: "Mars/Olympus_Mons",
            },
            event("ev-zone", completed(&bad_zone, DONE)).to_string(),
        ),
    ];
    for (bad, body) in &cases {
        let d = env
            .driver
            .deliver_raw(route, body.clone(), "application/cloudevents+json")
            .await;
        assert!(
            answered(&d, AppStatus::Drop),
            "{}: {:?} {}",
            bad.name,
            d.http_status,
            d.body_text()
        );
    }
    let rejected = env.rejected().await;
    assert_eq!(rejected.len(), cases.len(), "{rejected:#?}");
    let logs = env.app.logs();
    for ((bad, body), row) in cases.iter().zip(&rejected) {
        assert_eq!(row["reason"], bad.reason, "{}", bad.name);
        assert_eq!(row["id"].as_str(), bad.event_id, "{}", bad.name);
        assert_eq!(row["topic"], "task-events", "{}", bad.name);
        assert_eq!(
            row["payload"],
            body.as_str(),
            "{}: payload kept verbatim",
            bad.name
        );
        assert!(
            row["detail"]
                .as_str()
                .unwrap_or_default()
                .contains(bad.detail),
            "{}: {}",
            bad.name,
            row["detail"]
        );
        assert!(row["received_at"].is_string());
        let logged = logs
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .any(|l| {
                l["msg"] == "event dropped"
                    && l["reason"] == bad.reason
                    && l["event_id"].as_str() == bad.event_id
            });
        assert!(
            logged,
            "{}: no structured log line with the event id and reason in {logs}",
            bad.name
        );
    }
    assert_eq!(env.task_count().await, 3, "nothing created");
    assert!(env.sidecar.publish_attempts().is_empty());
}

#[tokio::test]
async fn bulk_deliveries_are_answered_entry_by_entry() {
    let env = Env::start().await;
    let a = daily_task(&env).await;
    let b = env.insert(&Task::recurring("weekly", DUE, DONE)).await;
    let opts = DeliverOptions::new().event_type("task.completed");
    let entry = |id: &str, data: Value, options: &DeliverOptions| {
        let mut e = env
            .driver
            .bulk_entry("task-events", data, options)
            .expect("entry");
        e.entry_id = id.to_owned();
        e
    };
    let mut bad_data = completed(&a, DONE);
    bad_data["task_id"] = json!("nope");
    let entries = vec![
        entry("1-create-a", completed(&a, DONE), &opts),
        entry("2-duplicate-a", completed(&a, DONE), &opts),
        entry(
            "3-ignored",
            completed(&a, DONE),
            &DeliverOptions::new().event_type("task.updated"),
        ),
        entry("4-schema", bad_data, &opts),
        BulkEntry::raw(
            "5-garbage",
            json!("not an envelope"),
            "application/cloudevents+json",
        ),
        entry("6-create-b", completed(&b, DONE), &opts),
    ];
    let bulk = env
        .driver
        .deliver_bulk("task-events", entries)
        .await
        .expect("bulk");
    assert_eq!(bulk.http_status.map(|s| s.as_u16()), Some(200));
    let explicit: Vec<(&str, &str)> = bulk
        .explicit
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        explicit,
        [
            ("1-create-a", "SUCCESS"),
            ("2-duplicate-a", "SUCCESS"),
            ("3-ignored", "SUCCESS"),
            ("4-schema", "DROP"),
            ("5-garbage", "DROP"),
            ("6-create-b", "SUCCESS"),
        ]
    );
    assert_eq!(env.series(&a).await.len(), 1);
    assert_eq!(env.series(&b).await.len(), 1);
    let reasons: Vec<Value> = env
        .rejected()
        .await
        .iter()
        .map(|r| r["reason"].clone())
        .collect();
    assert_eq!(
        reasons,
        [json!("schema_violation"), json!("not_a_cloudevent")]
    );
    // The same completion twice in one bulk is created and announced once
    // (both entries answered SUCCESS); b once.
    assert_eq!(published_ids(&env).len(), 2, "a once, b once");
}
