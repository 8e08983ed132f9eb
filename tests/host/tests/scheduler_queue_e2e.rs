//! The scheduler's due queue end to end (docs/CONTRACT.md, "Scheduler";
//! migration 0007): ticks follow what became due, whatever the history,
//! and keep every behaviour of the contract: edited and past reminders,
//! completed and deleted tasks, concurrent ticks, the backlog and lag
//! series, the upgrade's backfill, pruning of recorded reminders and the
//! rebuild after lost bookkeeping.

mod scheduler_support;

use scheduler_support::{counts, Env};

/// The recorded state of each of these tasks' reminders (`None`: none).
async fn states(env: &Env, tasks: &[&str]) -> Vec<Option<String>> {
    let recorded = env.recorded().await;
    tasks
        .iter()
        .map(|t| {
            recorded
                .iter()
                .find(|r| r["task_id"].as_str() == Some(t))
                .map(|r| r["state"].as_str().expect("state").to_owned())
        })
        .collect()
}

#[tokio::test]
async fn edited_and_past_reminders_follow_the_task() {
    let env = Env::start().await;
    // Set for later, then edited into the past before any tick.
    let edited = env
        .task("edited", "now() + interval '1 hour'", "NULL")
        .await;
    assert_eq!(counts(&env.tick_ok().await), (0, 0, 0, 0));
    env.sql(&format!(
        "UPDATE tasks SET remind_at = now() - interval '10 minutes' WHERE id = '{edited}'"
    ))
    .await;
    // Written already in the past: within the lateness, and beyond it
    // (inserted so, or edited so).
    let past = env
        .task("past", "now() - interval '23 hours'", "NULL")
        .await;
    let too_late = env
        .task("too late", "now() - interval '25 hours'", "NULL")
        .await;
    let edited_late = env
        .task("edited late", "now() + interval '1 day'", "NULL")
        .await;
    env.sql(&format!(
        "UPDATE tasks SET remind_at = now() - interval '2 days' WHERE id = '{edited_late}'"
    ))
    .await;
    // Due, then moved to later before the tick: nothing yet.
    let moved = env
        .task("moved", "now() - interval '1 minute'", "NULL")
        .await;
    env.sql(&format!(
        "UPDATE tasks SET remind_at = now() + interval '1 hour' WHERE id = '{moved}'"
    ))
    .await;

    assert_eq!(counts(&env.tick_ok().await), (2, 2, 0, 0));
    assert_eq!(env.published_tasks(), [past.clone(), edited.clone()]);
    let published = env.reminders();
    assert_eq!(
        published[1].cloudevent_id.as_deref(),
        Some(env.expected_event_id(&edited).await.as_str()),
        "the id of the edited remind_at"
    );
    assert_eq!(
        states(&env, &[&edited, &past, &too_late, &edited_late, &moved]).await,
        [
            Some("published".into()),
            Some("published".into()),
            Some("skipped".into()),
            Some("skipped".into()),
            None
        ]
    );

    // Editing a published reminder makes a new one, with a new id...
    env.sql(&format!(
        "UPDATE tasks SET remind_at = remind_at + interval '5 minutes' WHERE id = '{edited}'"
    ))
    .await;
    assert_eq!(counts(&env.tick_ok().await), (1, 0, 0, 0));
    let published = env.reminders();
    assert_eq!(published.len(), 3);
    assert_eq!(
        published[2].cloudevent_id.as_deref(),
        Some(env.expected_event_id(&edited).await.as_str())
    );
    assert_ne!(published[1].cloudevent_id, published[2].cloudevent_id);
    // ... and setting it back to one already recorded sends nothing again.
    env.sql(&format!(
        "UPDATE tasks SET remind_at = remind_at - interval '5 minutes' WHERE id = '{edited}'"
    ))
    .await;
    assert_eq!(counts(&env.tick_ok().await), (0, 0, 0, 0));
    assert_eq!(env.reminders().len(), 3);
    assert_eq!(env.queued_due().await, 0, "the queue's due head is empty");
}

#[tokio::test]
async fn completed_deleted_and_reopened_tasks() {
    let env = Env::start().await;
    let completed = env
        .task("completed", "now() - interval '3 hours'", "NULL")
        .await;
    let deleted = env
        .task("deleted", "now() - interval '2 hours'", "NULL")
        .await;
    let due = env.task("due", "now() - interval '1 hour'", "NULL").await;
    env.sql(&format!(
        "UPDATE tasks SET completed = true, completed_at = now() WHERE id = '{completed}'; \
         DELETE FROM tasks WHERE id = '{deleted}'"
    ))
    .await;

    let (backlog, lag) = env.backlog_and_lag().await;
    assert_eq!(backlog, 1.0, "only the open task is due");
    assert!((3600.0..3660.0).contains(&lag), "{lag}");
    assert_eq!(counts(&env.tick_ok().await), (1, 0, 0, 0));
    assert_eq!(env.published_tasks(), std::slice::from_ref(&due));
    assert_eq!(env.backlog_and_lag().await, (0.0, 0.0));

    // Reopened before it was ever reminded: reminded now (as before the
    // queue). Completed and reopened after its reminder: not again.
    env.sql(&format!(
        "UPDATE tasks SET completed = false, completed_at = NULL WHERE id = '{completed}'; \
         UPDATE tasks SET completed = true WHERE id = '{due}'; \
         UPDATE tasks SET completed = false WHERE id = '{due}'"
    ))
    .await;
    assert_eq!(counts(&env.tick_ok().await), (1, 0, 0, 0));
    assert_eq!(env.published_tasks(), [due, completed]);
    assert_eq!(counts(&env.tick_ok().await), (0, 0, 0, 0));
    assert_eq!(env.queued_due().await, 0);
}

#[tokio::test]
async fn parallel_ticks_publish_once_among_stale_queue_rows() {
    let env = Env::start_with(&[("scheduler_batch", "10")]).await;
    let mut live = Vec::new();
    for i in 0..45 {
        let remind_at = format!("now() - interval '{} seconds'", 100 + i);
        let id = env.task(&format!("task {i}"), &remind_at, "NULL").await;
        // Every third task is completed and every fifth deleted before
        // any tick: their queue rows are stale.
        if i % 3 == 0 {
            env.sql(&format!(
                "UPDATE tasks SET completed = true WHERE id = '{id}'"
            ))
            .await;
        } else if i % 5 == 0 {
            env.sql(&format!("DELETE FROM tasks WHERE id = '{id}'"))
                .await;
        } else {
            live.push(id);
        }
    }
    assert_eq!(live.len(), 24);
    assert_eq!(env.parallel_ticks(4, 10).await, 24);
    let mut ids: Vec<String> = env.published_ids();
    assert_eq!(ids.len(), 24);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 24, "each reminder published exactly once");
    let mut tasks = env.published_tasks();
    tasks.sort();
    live.sort();
    assert_eq!(tasks, live, "only the open tasks");
    assert_eq!(counts(&env.tick_ok().await), (0, 0, 0, 0));
    assert_eq!(env.queued_due().await, 0);
}

#[tokio::test]
async fn the_backlog_and_lag_ignore_recorded_history() {
    let env = Env::start().await;
    // History: open tasks whose past reminders are recorded.
    env.sql(
        "INSERT INTO tasks (id, user_id, title, remind_at) \
         SELECT gen_random_uuid(), 'u-old', 'old ' || i, now() - i * interval '1 hour' \
         FROM generate_series(1, 300) i; \
         INSERT INTO scheduled_reminders (task_id, remind_at, event_id, state, published_at) \
         SELECT id, remind_at, gen_random_uuid(), 'published', remind_at FROM tasks",
    )
    .await;
    assert_eq!(
        env.backlog_and_lag().await,
        (0.0, 0.0),
        "history is not due"
    );
    env.task("due 2 h", "now() - interval '2 hours'", "NULL")
        .await;
    env.task("due 10 min", "now() - interval '10 minutes'", "NULL")
        .await;
    env.task("later", "now() + interval '1 hour'", "NULL").await;
    let done = env.task("done", "now() - interval '5 hours'", "NULL").await;
    env.sql(&format!(
        "UPDATE tasks SET completed = true WHERE id = '{done}'"
    ))
    .await;
    let (backlog, lag) = env.backlog_and_lag().await;
    assert_eq!(backlog, 2.0);
    assert!((7200.0..7260.0).contains(&lag), "{lag}");

    // The first tick drops the history's queue rows (recorded already: the
    // trigger queued them as they were written) and publishes the two.
    assert_eq!(counts(&env.tick_ok().await), (2, 0, 0, 0));
    assert_eq!(env.queued_due().await, 0, "nothing due is left queued");
    assert_eq!(env.backlog_and_lag().await, (0.0, 0.0));
    assert_eq!(counts(&env.tick_ok().await), (0, 0, 0, 0));
    assert_eq!(env.reminders().len(), 2);
}

#[tokio::test]
async fn the_upgrade_backfills_what_was_due_and_not_recorded() {
    let env = Env::start().await;
    // The database as it was before migration 0007.
    env.sql(
        "DROP FUNCTION scheduler_due_queue_track() CASCADE; \
         DROP FUNCTION scheduler_due_queue_rebuild(); \
         DROP TABLE scheduler_due_queue; \
         DELETE FROM schema_migrations WHERE version = '0007_scheduler_due_queue'; \
         CREATE INDEX tasks_reminders_due ON tasks (remind_at, id) \
             WHERE remind_at IS NOT NULL AND NOT completed;",
    )
    .await;
    let due = env.task("due", "now() - interval '1 hour'", "NULL").await;
    let late = env.task("late", "now() - interval '2 days'", "NULL").await;
    let recorded = env
        .task("recorded", "now() - interval '2 hours'", "NULL")
        .await;
    let done = env.task("done", "now() - interval '3 hours'", "NULL").await;
    let later = env.task("later", "now() + interval '1 hour'", "NULL").await;
    env.sql(&format!(
        "INSERT INTO scheduled_reminders (task_id, remind_at, event_id, state, published_at) \
         SELECT id, remind_at, gen_random_uuid(), 'published', now() FROM tasks WHERE id = '{recorded}'; \
         UPDATE tasks SET completed = true WHERE id = '{done}'"
    ))
    .await;

    let out = component_host::pg_cluster::migrate_command(&env.db.direct_url())
        .output()
        .expect("migrate.sh runs");
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("applied 0007_scheduler_due_queue"));

    assert_eq!(counts(&env.tick_ok().await), (1, 1, 0, 0));
    assert_eq!(env.published_tasks(), std::slice::from_ref(&due));
    assert_eq!(
        states(&env, &[&due, &late, &recorded, &done, &later]).await,
        [
            Some("published".into()),
            Some("skipped".into()),
            Some("published".into()),
            None,
            None
        ]
    );
    let queued: Vec<String> = env
        .pg
        .query("SELECT task_id::text FROM scheduler_due_queue", &[])
        .await
        .expect("queue")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(queued, [later], "only the reminder still to come");
}

#[tokio::test]
async fn pruned_history_sends_nothing_again_and_a_lost_queue_is_rebuilt() {
    let env = Env::start().await;
    let done = env.task("done", "now() - interval '3 hours'", "NULL").await;
    let moved = env
        .task("moved", "now() - interval '2 hours'", "NULL")
        .await;
    env.task("open", "now() - interval '1 hour'", "NULL").await;
    assert_eq!(counts(&env.tick_ok().await), (3, 0, 0, 0));
    env.sql(&format!(
        "UPDATE tasks SET completed = true WHERE id = '{done}'; \
         UPDATE tasks SET remind_at = now() + interval '1 hour' WHERE id = '{moved}'"
    ))
    .await;
    // What retention may prune (docs/CONTRACT.md, "Retention"): recorded reminders of
    // tasks completed, deleted or now reminding at another time.
    env.sql(
        "DELETE FROM scheduled_reminders s WHERE NOT EXISTS (SELECT 1 FROM tasks t \
           WHERE t.id = s.task_id AND t.remind_at = s.remind_at AND NOT t.completed)",
    )
    .await;
    assert_eq!(
        env.recorded().await.len(),
        1,
        "only the open task's record stays"
    );
    assert_eq!(counts(&env.tick_ok().await), (0, 0, 0, 0));
    assert_eq!(env.reminders().len(), 3, "pruning sent nothing again");

    // Lost bookkeeping: the queue emptied and a task written while the
    // triggers were off (a bulk load with session_replication_role).
    env.sql(
        "DELETE FROM scheduler_due_queue; \
         SET session_replication_role = replica; \
         INSERT INTO tasks (id, user_id, title, remind_at) \
           VALUES (gen_random_uuid(), 'u-42', 'loaded', now() - interval '5 minutes'); \
         SET session_replication_role = origin;",
    )
    .await;
    assert_eq!(
        counts(&env.tick_ok().await),
        (0, 0, 0, 0),
        "the tick cannot see it"
    );
    let rebuild = "SELECT scheduler_due_queue_rebuild()";
    let added: i64 = env
        .pg
        .query_one(rebuild, &[])
        .await
        .expect("rebuild")
        .get(0);
    assert_eq!(
        added, 2,
        "the loaded task and the moved one's later reminder"
    );
    assert_eq!(counts(&env.tick_ok().await), (1, 0, 0, 0));
    let published = env.reminders();
    assert_eq!(published.len(), 4);
    assert_eq!(
        published[3].data.as_ref().expect("payload")["title"],
        "loaded"
    );
    let added: i64 = env
        .pg
        .query_one(rebuild, &[])
        .await
        .expect("rebuild")
        .get(0);
    assert_eq!(added, 0, "the rebuild is idempotent");
    assert_eq!(counts(&env.tick_ok().await), (0, 0, 0, 0));
}

#[tokio::test]
async fn a_writer_racing_a_stale_queue_row_neither_blocks_the_tick_nor_loses_its_reminder() {
    let env = Env::start().await;
    let task = env.task("raced", "now() + interval '1 hour'", "NULL").await;
    // A stale row for an earlier remind_at (as a rebuild racing a writer
    // leaves one), and a writer setting the task back to exactly that time,
    // still in its transaction: its trigger holds the row.
    let earlier = "date_trunc('second', now()) - interval '10 minutes'";
    let stale: String = env
        .pg
        .query_one(
            &format!(
                "INSERT INTO scheduler_due_queue (remind_at, task_id) \
                 VALUES ({earlier}, $1::text::uuid) RETURNING remind_at::text"
            ),
            &[&task],
        )
        .await
        .expect("stale row")
        .get(0);
    let writer = env.db.client().await;
    writer
        .batch_execute(&format!(
            "BEGIN; UPDATE tasks SET remind_at = '{stale}' WHERE id = '{task}'"
        ))
        .await
        .expect("writer");

    let tick = tokio::time::timeout(std::time::Duration::from_secs(30), env.tick_ok())
        .await
        .expect("the tick does not wait for the writer");
    assert_eq!(
        counts(&tick),
        (0, 0, 0, 0),
        "not due in the tick's snapshot"
    );
    writer.batch_execute("COMMIT").await.expect("commit");

    assert_eq!(counts(&env.tick_ok().await), (1, 0, 0, 0));
    assert_eq!(env.published_tasks(), std::slice::from_ref(&task));
    assert_eq!(
        env.reminders()[0].cloudevent_id.as_deref(),
        Some(env.expected_event_id(&task).await.as_str())
    );
}

#[tokio::test]
async fn a_tick_drops_at_most_twenty_pages_of_stale_rows_and_counts_only_current_ones() {
    // Batch 1: a tick reads at most 20 pages of one row. 45 tasks completed
    // before their reminders (stale rows, more than twice the bound) come
    // due ahead of one open task's reminder.
    let env = Env::start_with(&[("scheduler_batch", "1")]).await;
    env.sql(
        "INSERT INTO tasks (id, user_id, title, remind_at) \
         SELECT gen_random_uuid(), 'u-42', 'done ' || i, now() - interval '1 hour' - i * interval '1 second' \
         FROM generate_series(1, 45) i; \
         UPDATE tasks SET completed = true",
    )
    .await;
    let open = env
        .task("open", "now() - interval '1 minute'", "NULL")
        .await;
    assert_eq!(env.queued_due().await, 46);
    assert_eq!(env.backlog_and_lag().await.0, 1.0);

    assert_eq!(
        counts(&env.tick_ok().await),
        (0, 0, 0, 1),
        "20 stale rows dropped"
    );
    assert_eq!(env.queued_due().await, 26);
    assert_eq!(counts(&env.tick_ok().await), (0, 0, 0, 1), "20 more");
    assert_eq!(env.queued_due().await, 6);
    assert_eq!(counts(&env.tick_ok().await), (1, 0, 0, 0));
    assert_eq!(env.published_tasks(), std::slice::from_ref(&open));
    assert_eq!(env.queued_due().await, 0);
}
