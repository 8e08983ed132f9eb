//! `GET /metrics` end to end (docs/CONTRACT.md, "Metrics") under the
//! real Spin CLI: exact values after known rows and a real DROP, HELP and
//! TYPE for every family, the content type, no token needed, one statement
//! per scrape, 503 with the error shape while PostgreSQL is down, and
//! `todo_schema_ready` agreeing with the readiness route.

mod metrics_support;

use component_host::client;
use metrics_support::{set, Env, Exposition, TOKEN};

/// Every family of docs/CONTRACT.md "Metrics", in the order they are written.
const FAMILIES: [&str; 9] = [
    "todo_deliveries",
    "todo_outbox_unpublished",
    "todo_outbox_oldest_unpublished_seconds",
    "todo_rejected_events",
    "todo_generated_tasks",
    "todo_scheduler_due_backlog",
    "todo_scheduler_lag_seconds",
    "todo_scheduled_reminders",
    "todo_schema_ready",
];

/// Known rows: 8 deliveries (2 final outcomes unpublished, the older one
/// updated 2 hours ago), 2 generated occurrences, 1 due unscheduled
/// reminder (1 hour late) next to a published, a completed and a future
/// one, 3 scheduled reminders, 2 rejected events (one with a label value
/// that needs escaping).
const ROWS: &str = r#"
INSERT INTO deliveries (delivery_id, user_id, task_id, remind_at, channel, recipient,
                        status, outcome_published, updated_at)
SELECT gen_random_uuid(), 'u-1', gen_random_uuid(), now(), channel, 'r-' || i, status,
       published, now() - age
FROM (VALUES (1, 'email', 'sent', true, interval '0'),
             (2, 'email', 'sent', true, interval '0'),
             (3, 'email', 'sent', true, interval '0'),
             (4, 'email', 'failed', false, interval '2 hours'),
             (5, 'email', 'retrying', false, interval '3 hours'),
             (6, 'push', 'sent', false, interval '30 minutes'),
             (7, 'push', 'pending', false, interval '5 hours'),
             (8, 'push', 'pending', false, interval '0')) AS v(i, channel, status, published, age);

INSERT INTO tasks (id, user_id, title, remind_at, completed, series_id, occurrence)
VALUES ('00000000-0000-4000-8000-000000000001', 'u-1', 'due, not scheduled', now() - interval '1 hour', false, NULL, 1),
       ('00000000-0000-4000-8000-000000000002', 'u-1', 'due, published', now() - interval '3 hours', false, NULL, 1),
       ('00000000-0000-4000-8000-000000000003', 'u-1', 'due, completed', now() - interval '4 hours', true, NULL, 1),
       ('00000000-0000-4000-8000-000000000004', 'u-1', 'later', now() + interval '1 hour', false, NULL, 1),
       ('00000000-0000-4000-8000-000000000005', 'u-1', 'second', NULL, false, '00000000-0000-4000-8000-000000000004', 2),
       ('00000000-0000-4000-8000-000000000006', 'u-1', 'third', NULL, false, '00000000-0000-4000-8000-000000000004', 3);

INSERT INTO scheduled_reminders (task_id, remind_at, event_id, state, published_at)
SELECT id, remind_at, gen_random_uuid(), 'published', now() FROM tasks
WHERE id = '00000000-0000-4000-8000-000000000002';
INSERT INTO scheduled_reminders (task_id, remind_at, event_id, state)
VALUES (gen_random_uuid(), now() - interval '3 days', gen_random_uuid(), 'skipped'),
       (gen_random_uuid(), now() - interval '4 days', gen_random_uuid(), 'skipped');

INSERT INTO rejected_events (id, topic, reason, payload)
VALUES ('e-1', 'reminders', 'schema_violation', '{}'),
       ('e-2', 'reminders', E'odd "reason" \\ with\nnewline', '{}');
"#;

#[tokio::test]
async fn values_after_known_rows_and_a_real_drop_are_exact() {
    let env = Env::start().await;
    env.sql(ROWS).await;
    // A real DROP through the recurrence route: kept with the route's topic.
    let drop = client::send(
        "POST",
        &format!("{}/events/task-events", env.app.base_url()),
        &[
            ("dapr-api-token", TOKEN),
            ("content-type", "application/cloudevents+json"),
        ],
        "{not json",
    )
    .await
    .expect("delivery");
    assert_eq!(
        (drop.status, drop.json()["status"].as_str()),
        (200, Some("DROP"))
    );

    let res = env.scrape().await;
    assert_eq!(res.status, 200, "{}", res.text());
    let m = Exposition::parse(&res.text());

    // Pending, retrying, sent, failed.
    assert_eq!(m.deliveries("email"), [0.0, 1.0, 3.0, 1.0]);
    assert_eq!(m.deliveries("push"), [2.0, 0.0, 1.0, 0.0]);

    // Unpublished final outcomes: email/failed (2 h) and push/sent (30 min);
    // not the retrying or pending ones, however old.
    assert_eq!(m.value("todo_outbox_unpublished"), 2.0);
    let oldest = m.value("todo_outbox_oldest_unpublished_seconds");
    assert!((7200.0..7260.0).contains(&oldest), "{oldest}");

    assert_eq!(
        m.value(r#"todo_rejected_events{topic="reminders",reason="schema_violation"}"#),
        1.0
    );
    assert_eq!(
        m.value(r#"todo_rejected_events{topic="task-events",reason="malformed_json"}"#),
        1.0
    );
    assert_eq!(
        m.value(
            r#"todo_rejected_events{topic="reminders",reason="odd \"reason\" \\ with\nnewline"}"#
        ),
        1.0
    );
    assert_eq!(m.samples_of("todo_rejected_events"), 3);

    assert_eq!(m.value("todo_generated_tasks"), 2.0);
    assert_eq!(m.value("todo_scheduler_due_backlog"), 1.0);
    let lag = m.value("todo_scheduler_lag_seconds");
    assert!((3600.0..3660.0).contains(&lag), "{lag}");
    assert_eq!(
        m.value(r#"todo_scheduled_reminders{state="published"}"#),
        1.0
    );
    assert_eq!(m.value(r#"todo_scheduled_reminders{state="skipped"}"#), 2.0);
    assert_eq!(m.value("todo_schema_ready"), 1.0);
    assert_eq!(m.samples.len(), 8 + 1 + 1 + 3 + 1 + 1 + 1 + 2 + 1);
}

/// The counts come from migration 0006's running counters, not from
/// counting at scrape time: they must follow rows that change label set,
/// are deleted or truncated, in single- and multi-row statements.
#[tokio::test]
async fn counts_follow_updates_deletes_and_truncates() {
    let env = Env::start().await;
    env.sql(ROWS).await;
    env.sql(
        "UPDATE deliveries SET status = 'sent' WHERE channel = 'push' AND status = 'pending';
         UPDATE deliveries SET attempts = attempts + 1;
         DELETE FROM deliveries WHERE status = 'retrying';
         UPDATE deliveries SET channel = 'push' WHERE status = 'failed';
         UPDATE tasks SET occurrence = 1 WHERE id = '00000000-0000-4000-8000-000000000006';
         DELETE FROM scheduled_reminders WHERE remind_at < now() - interval '3 days 12 hours';
         TRUNCATE rejected_events;
         INSERT INTO rejected_events (id, topic, reason, payload) VALUES ('e-3', 'task-events', 'unknown_task', '{}');",
    )
    .await;
    let res = env.scrape().await;
    assert_eq!(res.status, 200, "{}", res.text());
    let m = Exposition::parse(&res.text());
    assert_eq!(m.deliveries("email"), [0.0, 0.0, 3.0, 0.0]);
    assert_eq!(m.deliveries("push"), [0.0, 0.0, 3.0, 1.0]);
    assert_eq!(m.value("todo_generated_tasks"), 1.0);
    assert_eq!(m.value(r#"todo_scheduled_reminders{state="skipped"}"#), 1.0);
    assert_eq!(
        m.value(r#"todo_rejected_events{topic="task-events",reason="unknown_task"}"#),
        1.0
    );
    assert_eq!(
        m.samples_of("todo_rejected_events"),
        1,
        "truncated series are gone"
    );
}

#[tokio::test]
async fn every_family_has_help_and_gauge_type_and_the_text_content_type() {
    let env = Env::start().await;
    let res = env.scrape().await;
    assert_eq!(res.status, 200, "{}", res.text());
    let content_type = res.header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let m = Exposition::parse(&res.text());
    for family in FAMILIES {
        assert!(
            m.help.get(family).is_some_and(|h| !h.is_empty()),
            "no HELP for {family}"
        );
        assert_eq!(
            m.types.get(family).map(String::as_str),
            Some("gauge"),
            "{family}"
        );
    }
    // An empty database: zeros, and the fixed label sets all present (no
    // rejected events, so that family has HELP and TYPE but no sample).
    let mut expected = set(&FAMILIES);
    expected.remove("todo_rejected_events");
    assert_eq!(m.families(), expected);
    assert_eq!(
        m.samples.values().sum::<f64>(),
        1.0,
        "only schema_ready is 1"
    );
    assert_eq!(m.samples.len(), 8 + 1 + 1 + 1 + 1 + 1 + 2 + 1);
}

#[tokio::test]
async fn no_token_is_needed_though_the_app_token_is_set_and_one_statement_is_run() {
    let env = Env::start().await;
    // The token is enforced on the other routes of the same app.
    let refused = client::send(
        "POST",
        &format!("{}/events/task-events", env.app.base_url()),
        &[],
        "{}",
    )
    .await
    .expect("delivery");
    assert_eq!(refused.status, 401);

    let before = env.db.wire_counts();
    let res = env.scrape().await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        (env.db.wire_counts() - before).executes,
        1,
        "one statement per scrape"
    );
    let wrong = client::send(
        "GET",
        &format!("{}/metrics", env.app.base_url()),
        &[("dapr-api-token", "wrong")],
        "",
    )
    .await
    .expect("scrape");
    assert_eq!(wrong.status, 200, "a scraper's header is irrelevant");

    let post = client::send("POST", &format!("{}/metrics", env.app.base_url()), &[], "")
        .await
        .expect("post");
    assert_eq!(post.status, 405);
    assert_eq!(post.header("allow"), Some("GET"));
}

#[tokio::test]
async fn database_down_answers_503_with_the_error_shape_and_recovers() {
    let env = Env::start().await;
    assert_eq!(env.scrape().await.status, 200);
    env.db.set_down(true);
    let res = env.scrape().await;
    assert_eq!(res.status, 503, "{}", res.text());
    assert_eq!(res.header("content-type"), Some("application/json"));
    let body = res.json();
    assert_eq!(body["error"]["code"], "database_unavailable", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(!res.text().contains("todo_"), "no stale or zero values");
    env.db.set_down(false);
    let res = env.scrape().await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        Exposition::parse(&res.text()).value("todo_schema_ready"),
        1.0
    );
}

#[tokio::test]
async fn schema_ready_agrees_with_the_readiness_route() {
    let env = Env::start().await;
    assert_eq!(env.get("/recurrence/readyz").await.status, 200);

    // One migration behind: readiness says 503, the scrape still has every
    // series (the tables are there) and says the schema is not ready.
    env.sql("DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)")
        .await;
    let ready = env.get("/recurrence/readyz").await;
    assert_eq!(ready.status, 503);
    assert_eq!(ready.json()["error"]["code"], "schema_outdated");
    let res = env.scrape().await;
    assert_eq!(res.status, 200, "{}", res.text());
    let m = Exposition::parse(&res.text());
    assert_eq!(m.value("todo_schema_ready"), 0.0);
    let mut expected = set(&FAMILIES);
    expected.remove("todo_rejected_events");
    assert_eq!(m.families(), expected);

    // Never migrated (no schema_migrations, no tables): only the readiness
    // series, 0, with the database answering.
    env.sql("DROP TABLE schema_migrations, deliveries CASCADE")
        .await;
    assert_eq!(env.get("/recurrence/readyz").await.status, 503);
    let res = env.scrape().await;
    assert_eq!(res.status, 200, "{}", res.text());
    let m = Exposition::parse(&res.text());
    assert_eq!(m.families(), set(&["todo_schema_ready"]));
    assert_eq!(m.value("todo_schema_ready"), 0.0);
}
