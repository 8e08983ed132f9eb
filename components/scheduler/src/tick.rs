//! `POST /scheduler/tick`: publish due reminders (oldest first, at most
//! `scheduler_batch`), skip those later than `scheduler_max_lateness_seconds`,
//! record both in `scheduled_reminders`, and answer the counts.
//!
//! # Why a queue (issue 19)
//!
//! A tick's cost must follow the reminders that came due since the last
//! tick, not history: after a year a database holds millions of open tasks
//! whose reminders were published long ago. Reading `tasks` by `remind_at`
//! and anti-joining `scheduled_reminders` walked all of them at every tick
//! (seconds over 1 million, against 3 ms empty: `bench/scheduler_tick.sh`).
//! So a row trigger on `tasks` (migration 0007) adds a row to
//! `scheduler_due_queue`, keyed `(remind_at, task_id)`, whenever a task
//! gets a reminder to send (inserted, re-timed, reopened), and a tick reads
//! only the queue's due head, deleting each row in the statement that
//! records it.
//!
//! - **Why not a watermark** (the last `remind_at` a tick handled, plus a
//!   bounded re-scan behind it): a reminder can become due in the past at
//!   any time (a `remind_at` set or edited into the past, a transaction
//!   committing late, a reopened task), and the contract publishes those
//!   within the lateness. A watermark would have to re-scan the whole
//!   lateness window (a day of history) at every tick to see them, which is
//!   history again. The queue sees them the moment they commit.
//! - **Every row is checked again** against `tasks` (open, same
//!   `remind_at`) and `scheduled_reminders` before it is published: the
//!   queue says where to look, `tasks` stays the truth. The trigger deletes
//!   nothing, so the rows of tasks completed, deleted or re-timed since
//!   (and any a rebuild added for a task that changed meanwhile) are stale:
//!   the tick that finds them due drops them in a batch, never publishing
//!   them, and `remaining` and the metrics' backlog count only current
//!   rows. Every row thus leaves once its `remind_at` has passed: the queue
//!   empties itself. A stale row that a writer is renewing (its task set
//!   back to that `remind_at`) is skipped, never lost (`store.rs`).
//! - **Retention** may delete `scheduled_reminders` rows of completed,
//!   deleted or re-timed tasks: a queue row is gone once its reminder is
//!   recorded, and the trigger adds one only when a task's reminder
//!   changes, so pruning never makes a reminder go out again.
//! - **Cost to the backend's writes:** one row trigger (its `WHEN` skips
//!   writes that give no task a new reminder: most updates, completions,
//!   deletions) and one queue row per new reminder; the partial index
//!   `tasks_reminders_due`, which every such write paid for, is dropped.
//!   Measured with pgbench in `bench/scheduler_tick.sh` (README,
//!   "Scheduler").
//! - **Lost bookkeeping** (triggers disabled for a bulk load, a restore
//!   without the queue): `SELECT scheduler_due_queue_rebuild();` re-adds
//!   every open, unrecorded reminder in one statement (the migration's
//!   backfill is the same function).

use dapr_pubsub::trace::valid_traceparent;
use scheduler_core::{split_page, Settings, Tally, REMINDER_DUE, TOPIC};
use spin_glue::dapr::Sidecar;
use spin_glue::db::{self, DbFault};
use spin_glue::{serve, vars};
use spin_sdk::http::{Request, Response};
use spin_sdk::pg4::Connection;
use todo_contract::ApiError;

use crate::store::{self, State};

/// Pages one tick reads at most: pages after the first only follow skipped
/// reminders (late ones sort first) or stale queue rows, so this bounds
/// the rows a tick handles (`MAX_PAGES` x batch) when the scheduler starts
/// over an old database.
const MAX_PAGES: usize = 20;

/// Answers one tick: 200 with the counts, 503 on a database fault, 500 when
/// a scheduler variable is invalid.
pub async fn handle(req: &Request) -> Response {
    let settings = match Settings::parse(
        &vars::get_or("scheduler_batch", "500"),
        &vars::get_or("scheduler_max_lateness_seconds", "86400"),
    ) {
        Ok(settings) => settings,
        Err(invalid) => {
            tracing::warn!(
                reason = "invalid_configuration",
                detail = %invalid,
                "scheduler tick refused"
            );
            return serve::error(500, "invalid_configuration", invalid.to_string());
        }
    };
    let traceparent = valid_traceparent(req.header("traceparent").and_then(|v| v.as_str()));
    match run(settings, traceparent).await {
        Ok(tally) => {
            if !tally.is_quiet() {
                tracing::info!(
                    published = tally.published,
                    skipped = tally.skipped,
                    failed = tally.failed,
                    remaining = tally.remaining,
                    "scheduler tick"
                );
            }
            serve::json(200, &tally)
        }
        Err(fault) => {
            tracing::warn!(
                reason = "database_unavailable",
                detail = %fault.0,
                "scheduler tick failed"
            );
            // The detail may name hosts: it goes to the log, not the answer.
            serve::api_error(&ApiError::database_unavailable())
        }
    }
}

/// The unlocked first read is the whole tick when nothing is due; otherwise
/// the work happens under the tick lock, released whatever the outcome.
async fn run(settings: Settings, traceparent: Option<&str>) -> Result<Tally, DbFault> {
    // Liveness: the request's only connection; nothing here opens another
    // while it is held (`spin_glue::db::Conn`).
    let conn = db::open()?;
    if !store::anything_due(&conn)? {
        return Ok(Tally::default());
    }
    if !store::try_lock(&conn)? {
        // Another replica is ticking; it publishes these.
        return Ok(Tally {
            remaining: store::count_due(&conn)?,
            ..Tally::default()
        });
    }
    let result = locked(&conn, settings, traceparent).await;
    if let Err(fault) = store::unlock(&conn) {
        // The connection is likely gone, and the lock with it; Spin's pool
        // also unlocks when it recycles the connection.
        tracing::warn!(
            reason = "database_unavailable",
            detail = %fault.0,
            "scheduler lock release failed"
        );
    }
    result
}

/// Reads pages under the lock until the batch is full, nothing is left, or
/// a publish fails; each page is recorded before the next is read.
async fn locked(
    conn: &Connection,
    settings: Settings,
    traceparent: Option<&str>,
) -> Result<Tally, DbFault> {
    let sidecar = Sidecar::from_vars();
    let mut tally = Tally::default();
    let mut room = settings.batch;
    for _ in 0..MAX_PAGES {
        let page = store::due_page(conn, settings.batch)?;
        if page.stale > 0 {
            // Rows of tasks completed, deleted or edited since they were
            // queued (or recorded already): dropped, never published.
            tracing::info!(stale = page.stale, "stale scheduler queue rows dropped");
        }
        let current = page.due.len();
        let split = split_page(page.due, page.now_us, settings.max_lateness_s, room);
        let mut records: Vec<(&scheduler_core::Due, State)> =
            split.skip.iter().map(|d| (d, State::Skipped)).collect();
        let mut failed = false;
        for due in &split.publish {
            let event_id = due.event_id();
            let sent = sidecar
                .publish(TOPIC, &event_id, REMINDER_DUE, &due.payload(), traceparent)
                .await;
            match sent {
                Ok(()) => {
                    records.push((due, State::Published));
                    tracing::info!(
                        event_id = %event_id,
                        task_id = %due.task_id,
                        "reminder published"
                    );
                }
                Err(why) => {
                    tracing::warn!(
                        event_id = %event_id,
                        task_id = %due.task_id,
                        reason = "publish_failed",
                        detail = %why,
                        "reminder publish failed; the next tick retries it"
                    );
                    failed = true;
                    break;
                }
            }
        }
        store::record(conn, &records)?;
        let published = records.len() - split.skip.len();
        tally.skipped += split.skip.len() as u64;
        tally.published += published as u64;
        room -= published;
        if failed {
            tally.failed = 1;
            break;
        }
        if page.fetched < settings.batch {
            // The page held every due queue row: what it did not record is
            // exactly what is left.
            tally.remaining = (current - records.len()) as u64;
            return Ok(tally);
        }
        if room == 0 {
            break;
        }
    }
    tally.remaining = store::count_due(conn)?;
    Ok(tally)
}
