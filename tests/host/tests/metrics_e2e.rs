//! `GET /metrics` end to end (docs/CONTRACT.md, "Metrics") under the
//! real Spin CLI: exact values after known rows and a real DROP, HELP and
//! TYPE for every family, the content type, no token needed, one statement
//! per scrape, 503 with the error shape while PostgreSQL is down, and
//! `todo_schema_ready` agreeing with the readiness route; the `_total`
//! counters that deletes do not lower, and label values from fixed sets
//! only (a topic an event claims, a reason nobody defined: `other`).

mod metrics_support;

use component_host::client;
use metrics_support::{set, Env, Exposition, TOKEN};

/// Every family of docs/CONTRACT.md "Metrics", in the order they are written,
/// then the counters and the retention gauge of migration 0009.
const FAMILIES: [&str; 14] = [
    "todo_deliveries",
    "todo_outbox_unpublished",
    "todo_outbox_oldest_unpublished_seconds",
    "todo_rejected_events",
    "todo_generated_tasks",
    "todo_scheduler_due_backlog",
    "todo_scheduler_lag_seconds",
    "todo_scheduled_reminders",
    "todo_deliveries_finished_total",
    "todo_rejected_events_total",
    "todo_scheduled_reminders_total",
    "todo_generated_tasks_total",
    "todo_retention_oldest_seconds",
    "todo_schema_ready",
];

/// Samples of an empty database: every combination of the fixed label
/// sets (channels x statuses, route topics x reason codes, states, final
/// statuses, pruned tables) and one per unlabelled series.
const EMPTY_SAMPLES: usize = 8 + 1 + 1 + 16 + 1 + 1 + 1 + 2 + (4 + 16 + 2 + 1 + 2) + 1;

/// Known rows: 8 deliveries (2 final outcomes unpublished, the older one
/// updated 2 hours ago), 2 generated occurrences, 1 due unscheduled
/// reminder (1 hour late) next to a published, a completed and a future
/// one, 3 scheduled reminders, 2 rejected events (one with a reason no
/// code has, which would need escaping: it must be written as `other`).
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
    // Real DROPs through the recurrence route: kept with the route's topic,
    // also when the envelope claims another one (a hostile publisher could
    // claim a new topic per event).
    let claimed = format!("x-{}", std::process::id());
    let lying = serde_json::json!({
        "id": "ev-lying-topic", "source": "test", "type": "task.completed",
        "specversion": "1.0", "topic": claimed, "data": {"task_id": 7}
    })
    .to_string();
    for body in ["{not json".to_owned(), lying] {
        let drop = client::send(
            "POST",
            &format!("{}/events/task-events", env.app.base_url()),
            &[
                ("dapr-api-token", TOKEN),
                ("content-type", "application/cloudevents+json"),
            ],
            body.clone(),
        )
        .await
        .expect("delivery");
        assert_eq!(
            (drop.status, drop.json()["status"].as_str()),
            (200, Some("DROP")),
            "{body}"
        );
    }
    let kept = env
        .pg
        .query_one(
            "SELECT topic, reason, payload FROM rejected_events WHERE id = 'ev-lying-topic'",
            &[],
        )
        .await
        .expect("the lying event is kept");
    assert_eq!(kept.get::<_, String>(0), "task-events");
    assert_eq!(kept.get::<_, String>(1), "schema_violation");
    assert!(
        kept.get::<_, String>(2).contains(&claimed),
        "the claim stays in the payload"
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
        m.value(r#"todo_rejected_events{topic="task-events",reason="schema_violation"}"#),
        1.0
    );
    assert_eq!(
        m.value(r#"todo_rejected_events{topic="reminders",reason="other"}"#),
        1.0
    );
    assert_eq!(
        m.value(r#"todo_rejected_events_total{topic="task-events",reason="schema_violation"}"#),
        1.0
    );
    let text = res.text();
    assert!(
        !text.contains(&claimed) && !text.contains("odd"),
        "a claimed topic or unknown reason became a label:\n{text}"
    );
    // The 16 route topic x reason pairs, and reminders/other.
    assert_eq!(m.samples_of("todo_rejected_events"), 17);
    assert_eq!(m.samples_of("todo_rejected_events_total"), 17);
    assert_eq!(
        m.value(r#"todo_deliveries_finished_total{channel="email",status="sent"}"#),
        3.0
    );
    assert_eq!(
        m.value(r#"todo_deliveries_finished_total{channel="email",status="failed"}"#),
        1.0
    );
    assert_eq!(m.value("todo_generated_tasks_total"), 2.0);

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
    assert_eq!(m.samples.len(), EMPTY_SAMPLES + 2);
}

/// The counts come from migration 0009's running counters, not from
/// counting at scrape time: the gauges follow rows that change label set,
/// are deleted or truncated, in single- and multi-row statements; the
/// `_total` counters follow what was written and are not lowered by
/// deletes (a truncate resets them).
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
         INSERT INTO rejected_events (id, topic, reason, payload) VALUES ('e-3', 'task-events', 'unknown_task', '{}');
         UPDATE deliveries SET updated_at = now() - interval '40 days' WHERE channel = 'email' AND status = 'sent';",
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
    let rejected: f64 = m
        .samples
        .iter()
        .filter(|(k, _)| k.starts_with("todo_rejected_events{"))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(rejected, 1.0, "truncated rows are no longer counted");

    // Totals: deletes do not lower them; moves into a final status add.
    let finished = |channel: &str, status: &str| {
        m.value(&format!(
            r#"todo_deliveries_finished_total{{channel="{channel}",status="{status}"}}"#
        ))
    };
    assert_eq!(finished("email", "sent"), 3.0);
    assert_eq!(finished("email", "failed"), 1.0);
    assert_eq!(finished("push", "sent"), 3.0);
    assert_eq!(finished("push", "failed"), 1.0);
    assert_eq!(m.value("todo_generated_tasks_total"), 2.0);
    assert_eq!(
        m.value(r#"todo_scheduled_reminders_total{state="skipped"}"#),
        2.0
    );
    assert_eq!(
        m.value(r#"todo_rejected_events_total{topic="task-events",reason="unknown_task"}"#),
        1.0
    );
    assert_eq!(
        m.value(r#"todo_rejected_events_total{topic="reminders",reason="schema_violation"}"#),
        0.0,
        "a truncate resets the counter"
    );
    let oldest = m.value(r#"todo_retention_oldest_seconds{table="deliveries"}"#);
    assert!(
        (40.0 * 86400.0..40.0 * 86400.0 + 60.0).contains(&oldest),
        "{oldest}"
    );
}

#[tokio::test]
async fn every_family_has_help_and_its_type_and_the_text_content_type() {
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
        let kind = if family.ends_with("_total") {
            "counter"
        } else {
            "gauge"
        };
        assert_eq!(
            m.types.get(family).map(String::as_str),
            Some(kind),
            "{family}"
        );
    }
    // An empty database: zeros, and the fixed label sets all present.
    assert_eq!(m.families(), set(&FAMILIES));
    assert_eq!(
        m.samples.values().sum::<f64>(),
        1.0,
        "only schema_ready is 1"
    );
    assert_eq!(m.samples.len(), EMPTY_SAMPLES);
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
    assert_eq!(m.families(), set(&FAMILIES));

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
