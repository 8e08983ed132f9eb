//! Retention end to end (docs/CONTRACT.md, "Tables", "Retention"): the
//! `retention` cron binding's `POST /retention/prune` under `spin up`, over
//! rows written with SQL relative to the database's `now()`: what each
//! table's rule deletes and keeps, the batch bound and `remaining`, the
//! metrics afterwards, `retention_days = 0`, a pruned recorded reminder
//! that the scheduler never publishes again, auth and a database fault.

mod retention_support;

use component_host::pg_cluster::fresh_database;
use retention_support::{deleted, Env, TOKEN};
use serde_json::{json, Value};

#[tokio::test]
async fn each_rule_deletes_what_it_should_and_keeps_the_rest() {
    let env = Env::start(&[]).await;
    // deliveries: only final, published and older than 30 days go.
    env.deliveries("gone-sent", 3, "sent", true, "31 days")
        .await;
    env.deliveries("gone-failed", 2, "failed", true, "400 days")
        .await;
    env.deliveries("keep-unpublished", 2, "sent", false, "40 days")
        .await;
    env.deliveries("keep-failed-unpublished", 1, "failed", false, "40 days")
        .await;
    env.deliveries("keep-pending", 1, "pending", false, "40 days")
        .await;
    env.deliveries("keep-retrying", 1, "retrying", false, "40 days")
        .await;
    env.deliveries("keep-young", 2, "sent", true, "29 days")
        .await;
    // rejected_events: by age alone.
    env.rejected("gone-rejected", 3, "31 days").await;
    env.rejected("keep-rejected", 2, "29 days").await;
    // scheduled_reminders: old, and the scheduler no longer reads them.
    env.recorded("gone-completed", "completed", "published", "31 days")
        .await;
    env.recorded("gone-moved", "moved", "published", "31 days")
        .await;
    env.recorded("gone-deleted", "deleted", "published", "31 days")
        .await;
    env.recorded("gone-skipped", "completed", "skipped", "31 days")
        .await;
    env.recorded("keep-open", "open", "published", "31 days")
        .await;
    env.recorded("keep-open-skipped", "open", "skipped", "31 days")
        .await;
    env.recorded("keep-young", "completed", "published", "29 days")
        .await;
    env.recorded("keep-young-skipped", "completed", "skipped", "29 days")
        .await;
    assert_eq!(env.gauges().await, env.counted().await);

    assert_eq!(deleted(&env.prune().await), (5, 3, 4, 0));
    assert_eq!(
        env.column("SELECT DISTINCT split_part(recipient, '-0', 1) FROM deliveries")
            .await,
        [
            "keep-failed-unpublished",
            "keep-pending",
            "keep-retrying",
            "keep-unpublished",
            "keep-young"
        ]
    );
    assert_eq!(
        env.column("SELECT DISTINCT split_part(id, '-0', 1) FROM rejected_events")
            .await,
        ["keep-rejected"]
    );
    assert_eq!(
        env.recorded_left().await,
        [
            "keep-open",
            "keep-open-skipped",
            "keep-young",
            "keep-young-skipped"
        ]
    );
    // The gauges (migration 0006's running counts) equal counting the
    // tables after the deletions.
    let gauges = env.gauges().await;
    assert_eq!(gauges, env.counted().await);
    assert_eq!(
        gauges.get("todo_scheduled_reminders{state=\"published\"}"),
        Some(&2)
    );
    assert_eq!(deleted(&env.prune().await), (0, 0, 0, 0), "nothing left");
    let line = env
        .app
        .logs_once_containing("retention pruned")
        .await
        .lines()
        .find(|l| l.contains("retention pruned"))
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON line"))
        .expect("a log line");
    assert_eq!(
        (&line["deliveries"], &line["scheduled_reminders"]),
        (&json!(5), &json!(4))
    );
}

#[tokio::test]
async fn the_batch_bounds_each_table_oldest_first_and_remaining_counts_the_rest() {
    let env = Env::start(&[("retention_batch", "5")]).await;
    // Twice the batch in each table; the first of each is the oldest.
    env.deliveries("old", 10, "sent", true, "60 days").await;
    env.rejected("old", 10, "60 days").await;
    for i in 0..10 {
        let age = format!("{} days", 60 - i);
        env.recorded(&format!("old-{i:02}"), "completed", "published", &age)
            .await;
    }
    env.deliveries("young", 1, "sent", true, "1 day").await;

    assert_eq!(deleted(&env.prune().await), (5, 5, 5, 15));
    // Oldest first: the five newest of each table are left.
    assert_eq!(
        env.column("SELECT recipient FROM deliveries WHERE recipient LIKE 'old-%'")
            .await,
        ["old-0006", "old-0007", "old-0008", "old-0009", "old-0010"]
    );
    assert_eq!(
        env.column("SELECT id FROM rejected_events").await,
        ["old-0006", "old-0007", "old-0008", "old-0009", "old-0010"]
    );
    assert_eq!(
        env.recorded_left().await,
        ["old-05", "old-06", "old-07", "old-08", "old-09"]
    );
    assert_eq!(env.gauges().await, env.counted().await);
    // A full batch again: the count finds nothing more.
    assert_eq!(deleted(&env.prune().await), (5, 5, 5, 0));
    assert_eq!(deleted(&env.prune().await), (0, 0, 0, 0));
    assert_eq!(
        env.column("SELECT recipient FROM deliveries").await,
        ["young-0001"]
    );
    assert_eq!(env.gauges().await, env.counted().await);
}

#[tokio::test]
async fn recorded_reminders_are_swept_in_bounded_windows_past_the_open_tasks_history() {
    // retention_batch 1: a call examines at most 2 recorded reminders.
    let env = Env::start(&[("retention_batch", "1")]).await;
    for i in 0..6 {
        let age = format!("{} days", 90 - i);
        env.recorded(&format!("open-{i:02}"), "open", "published", &age)
            .await;
    }
    env.recorded("done-1", "completed", "published", "60 days")
        .await;
    env.recorded("done-2", "deleted", "skipped", "50 days")
        .await;
    // The first three windows hold only old reminders of open tasks: kept,
    // and nothing is counted beyond the window.
    for _ in 0..3 {
        assert_eq!(deleted(&env.prune().await), (0, 0, 0, 0));
    }
    // The next window reaches the two prunable ones, oldest first.
    let answer = env.prune().await;
    assert_eq!((deleted(&answer).2, deleted(&answer).3), (1, 1));
    assert!(!env.recorded_left().await.contains(&"done-1".to_owned()));
    let answer = env.prune().await;
    assert_eq!((deleted(&answer).2, deleted(&answer).3), (1, 0));
    // The sweep reached the end and starts again from the oldest.
    for _ in 0..4 {
        assert_eq!(deleted(&env.prune().await).2, 0);
    }
    let left = env.recorded_left().await;
    assert_eq!(left.len(), 6);
    assert!(left.iter().all(|t| t.starts_with("open-")), "{left:?}");
    // One completed later, behind the cursor: the next sweep finds it.
    env.sql("UPDATE tasks SET completed = true WHERE title = 'open-03'")
        .await;
    let mut found = 0;
    for _ in 0..4 {
        found += deleted(&env.prune().await).2;
    }
    assert_eq!(found, 1);
    assert_eq!(env.recorded_left().await.len(), 5);
    assert_eq!(env.gauges().await, env.counted().await);
}

#[tokio::test]
async fn concurrent_prunes_as_on_several_replicas_delete_each_row_once() {
    let env = Env::start(&[("retention_batch", "50")]).await;
    env.deliveries("old", 200, "sent", true, "60 days").await;
    env.rejected("old", 200, "60 days").await;
    for i in 0..40 {
        env.recorded(&format!("done-{i:02}"), "completed", "published", "60 days")
            .await;
    }
    let mut total = (0, 0, 0);
    for _ in 0..4 {
        // Every replica's sidecar fires the cron at about the same moment.
        let (a, b) = tokio::join!(env.prune(), env.prune());
        for answer in [a, b] {
            let (d, r, s, _) = deleted(&answer);
            total = (total.0 + d, total.1 + r, total.2 + s);
        }
    }
    assert_eq!(total, (200, 200, 40));
    assert_eq!(env.count("SELECT count(*) FROM deliveries").await, 0);
    assert_eq!(env.count("SELECT count(*) FROM rejected_events").await, 0);
    assert_eq!(
        env.count("SELECT count(*) FROM scheduled_reminders").await,
        0
    );
    assert_eq!(env.gauges().await, env.counted().await);
    assert_eq!(env.app.request_errors(), Vec::<String>::new());
}

#[tokio::test]
async fn retention_days_zero_deletes_nothing() {
    let env = Env::start(&[("retention_days", "0"), ("retention_batch", "1")]).await;
    env.deliveries("ancient", 3, "sent", true, "3000 days")
        .await;
    env.rejected("ancient", 2, "3000 days").await;
    env.recorded("ancient", "deleted", "published", "3000 days")
        .await;
    assert_eq!(deleted(&env.prune().await), (0, 0, 0, 0));
    assert_eq!(env.count("SELECT count(*) FROM deliveries").await, 3);
    assert_eq!(env.count("SELECT count(*) FROM rejected_events").await, 2);
    assert_eq!(
        env.count("SELECT count(*) FROM scheduled_reminders").await,
        1
    );
}

#[tokio::test]
async fn a_pruned_recorded_reminder_is_never_published_again() {
    let env = Env::start(&[]).await;
    let reminded = |title: &str| {
        format!(
            "INSERT INTO tasks (id, user_id, title, remind_at) \
             VALUES (gen_random_uuid(), 'u-r', '{title}', now() - interval '1 minute')"
        )
    };
    for title in ["completed", "reopened", "moved", "deleted", "open"] {
        env.sql(&reminded(title)).await;
    }
    assert_eq!(env.tick().await["published"], 5);
    // 31 days pass: the reminders and their records age together.
    env.sql(
        "UPDATE scheduled_reminders SET remind_at = remind_at - interval '31 days',
             published_at = published_at - interval '31 days', recorded_at = recorded_at - interval '31 days';
         UPDATE tasks SET remind_at = remind_at - interval '31 days'",
    )
    .await;
    assert_eq!(deleted(&env.prune().await).2, 0, "all five still open");
    assert_eq!(env.tick().await["published"], 0);

    env.sql(
        "UPDATE tasks SET completed = true, completed_at = now() WHERE title IN ('completed', 'reopened');
         UPDATE tasks SET remind_at = now() + interval '1 hour' WHERE title = 'moved';
         DELETE FROM tasks WHERE title = 'deleted'",
    )
    .await;
    assert_eq!(deleted(&env.prune().await).2, 4);
    assert_eq!(env.recorded_left().await, ["open"]);
    let before = env.sidecar.publishes_to("reminders").len();
    let tick = env.tick().await;
    assert_eq!(
        (&tick["published"], &tick["skipped"]),
        (&json!(0), &json!(0))
    );
    // Reopened with its old reminder: far past the lateness limit, so the
    // scheduler may record it skipped but never publishes it.
    env.sql("UPDATE tasks SET completed = false WHERE title = 'reopened'")
        .await;
    assert_eq!(env.tick().await["published"], 0);
    assert_eq!(env.sidecar.publishes_to("reminders").len(), before);
    assert_eq!(before, 5);
}

#[tokio::test]
async fn recorded_reminders_are_kept_while_the_lateness_limit_could_still_publish_them() {
    // One day of retention, two of lateness: a record of a completed task
    // 36 hours old stays, one 50 hours old goes.
    let env = Env::start(&[
        ("retention_days", "1"),
        ("scheduler_max_lateness_seconds", "172800"),
    ])
    .await;
    env.recorded("within-lateness", "completed", "published", "36 hours")
        .await;
    env.recorded("past-lateness", "completed", "published", "50 hours")
        .await;
    env.deliveries("day-old", 1, "sent", true, "36 hours").await;
    assert_eq!(deleted(&env.prune().await), (1, 0, 1, 0));
    assert_eq!(env.recorded_left().await, ["within-lateness"]);
}

#[tokio::test]
async fn options_needs_no_token_post_needs_it_and_bad_variables_are_named() {
    let env = Env::start(&[("retention_batch", "0")]).await;
    env.deliveries("old", 1, "sent", true, "90 days").await;
    let (status, _) = env.request("OPTIONS", "/retention/prune", &[]).await;
    assert_eq!(status, 200);
    for headers in [vec![], vec![("dapr-api-token", "wrong")]] {
        let (status, body) = env.request("POST", "/retention/prune", &headers).await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(body["error"]["code"], "unauthorized");
        assert!(body["error"]["message"].is_string());
    }
    let (status, _) = env
        .request("GET", "/retention/prune", &[("dapr-api-token", TOKEN)])
        .await;
    assert_eq!(status, 405);
    let (status, body) = env
        .request("POST", "/retention/prune", &[("dapr-api-token", TOKEN)])
        .await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["error"]["code"], "invalid_configuration");
    assert!(body["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("retention_batch")));
    assert_eq!(env.count("SELECT count(*) FROM deliveries").await, 1);
    assert!(!env.app.logs().contains(TOKEN));
}

#[tokio::test]
async fn a_database_fault_answers_503_with_the_error_shape() {
    let db = fresh_database().await.expect("db");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let url = format!("postgres://postgres@127.0.0.1:{port}/none?sslmode=disable");
    let env = Env::start_on(db, &url, &format!("127.0.0.1:{port}"), &[]).await;
    let (status, body) = env
        .request("POST", "/retention/prune", &[("dapr-api-token", TOKEN)])
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "database_unavailable");
    assert!(body["error"]["message"].is_string());
}
