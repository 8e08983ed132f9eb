//! The scheduler's SQL: the queue's due head, the tick lock, record
//! outcomes. Rows come back as one `jsonb` value and parameters go in as
//! text with casts (spin-glue's `db` conventions); instants are epoch
//! microseconds (`scheduler_core::reminder` writes them out).
//!
//! Every read starts from `scheduler_due_queue` (migration 0007), which a
//! trigger on `tasks` fills with each new reminder and which the tick
//! empties as rows come due (recorded, or dropped as stale): a statement
//! here touches the reminders that came due and were not handled yet,
//! never the recorded history (why a queue: `tick.rs`).
//!
//! Statements per tick: 1 when nothing is due ([`anything_due`]);
//! otherwise [`anything_due`], [`try_lock`], [`due_page`], [`record`],
//! [`unlock`] (plus [`count_due`] when the batch was full), and one publish
//! per reminder.

use scheduler_core::Due;
use serde::Deserialize;
use serde_json::{json, Value};
use spin_glue::db::{self, DbFault};
use spin_sdk::pg4::Connection;

/// Key of the tick's session advisory lock; distinct from the one
/// `migrations/migrate.sh` takes (7253911417790466).
const TICK_LOCK: &str = "7253911417790513";

/// Takes the tick's session advisory lock if free (`true` when taken).
const TRY_LOCK: &str = "SELECT to_jsonb(pg_try_advisory_lock($1::text::int8))";

/// Releases the tick's session advisory lock.
const UNLOCK: &str = "SELECT to_jsonb(pg_advisory_unlock($1::text::int8))";

/// Whether the queue holds anything due: the lock-free first read of every
/// tick, one descent of the queue's primary key.
const ANYTHING_DUE: &str = "\
SELECT to_jsonb(EXISTS (SELECT 1 FROM scheduler_due_queue WHERE remind_at <= now()))";

/// One page: the queue's `$1` oldest due rows (`fetched`), those still
/// current (`due`: the task exists, is open, still has this `remind_at`,
/// and the reminder is not recorded) with what the payload needs, and the
/// others deleted as stale in the same statement. A stale row whose
/// queue entry changed since this statement's snapshot (`xmin`: a writer
/// set the task back to that `remind_at`) or is locked by a writer now
/// (`SKIP LOCKED`) is left for the next tick, so a reminder is never lost
/// to a race with the trigger.
const DUE_PAGE: &str = "\
WITH head AS MATERIALIZED (
    SELECT q.remind_at, q.task_id, q.xmin AS version FROM scheduler_due_queue q
    WHERE q.remind_at <= now()
    ORDER BY q.remind_at, q.task_id
    LIMIT $1::text::int),
live AS MATERIALIZED (
    SELECT h.remind_at, h.task_id, t.user_id, t.title, t.due_at
    FROM head h JOIN tasks t ON t.id = h.task_id AND t.remind_at = h.remind_at AND NOT t.completed
    WHERE NOT EXISTS (SELECT 1 FROM scheduled_reminders s
                      WHERE s.task_id = h.task_id AND s.remind_at = h.remind_at)),
stale AS (
    DELETE FROM scheduler_due_queue q
    WHERE (q.remind_at, q.task_id) IN (
        SELECT x.remind_at, x.task_id FROM scheduler_due_queue x
        JOIN head h ON h.remind_at = x.remind_at AND h.task_id = x.task_id AND h.version = x.xmin
        WHERE NOT EXISTS (SELECT 1 FROM live l
                          WHERE l.remind_at = h.remind_at AND l.task_id = h.task_id)
        FOR UPDATE OF x SKIP LOCKED)
    RETURNING 1)
SELECT jsonb_build_object(
    'now_us', (extract(epoch FROM now()) * 1000000)::int8,
    'fetched', (SELECT count(*) FROM head),
    'stale', (SELECT count(*) FROM stale),
    'due', coalesce((SELECT jsonb_agg(jsonb_build_object(
        'task_id', l.task_id, 'user_id', l.user_id, 'title', l.title,
        'due_at_us', CASE WHEN isfinite(l.due_at) THEN (extract(epoch FROM l.due_at) * 1000000)::int8 END,
        'remind_at_us', (extract(epoch FROM l.remind_at) * 1000000)::int8)
        ORDER BY l.remind_at, l.task_id) FROM live l), '[]'))";

/// How many due reminders are left (the answer's `remaining`): the due
/// part of the queue, each row checked like [`DUE_PAGE`] checks it.
const COUNT_DUE: &str = "\
SELECT to_jsonb(count(*)) FROM scheduler_due_queue q
JOIN tasks t ON t.id = q.task_id AND t.remind_at = q.remind_at AND NOT t.completed
WHERE q.remind_at <= now()
  AND NOT EXISTS (SELECT 1 FROM scheduled_reminders s
                  WHERE s.task_id = q.task_id AND s.remind_at = q.remind_at)";

/// Records outcomes and takes them off the queue, in one statement (so a
/// crash leaves either both or neither). `remind_at` is rebuilt from whole
/// seconds plus microseconds, which is exact over Postgres' whole range (a
/// single `interval * float8` product is not). A row that exists already
/// (a concurrent skip of the same late reminder) is left as it is; a queue
/// row a writer holds locked is left to the next tick, which finds it
/// recorded and drops it.
const RECORD: &str = "\
WITH r AS MATERIALIZED (
    SELECT (x->>'task_id')::uuid AS task_id,
           'epoch'::timestamptz + ((x->>'remind_at_us')::int8 / 1000000) * interval '1 second'
                                + ((x->>'remind_at_us')::int8 % 1000000) * interval '1 microsecond' AS remind_at,
           (x->>'event_id')::uuid AS event_id, x->>'state' AS state
    FROM jsonb_array_elements($1::text::jsonb) x),
dequeued AS (
    DELETE FROM scheduler_due_queue q
    WHERE (q.remind_at, q.task_id) IN (
        SELECT y.remind_at, y.task_id FROM scheduler_due_queue y
        JOIN r ON r.remind_at = y.remind_at AND r.task_id = y.task_id
        FOR UPDATE OF y SKIP LOCKED)
    RETURNING 1)
INSERT INTO scheduled_reminders (task_id, remind_at, event_id, state, published_at)
SELECT r.task_id, r.remind_at, r.event_id, r.state,
       CASE WHEN r.state = 'published' THEN now() END
FROM r
ON CONFLICT (task_id, remind_at) DO NOTHING";

/// One page of [`DUE_PAGE`].
#[derive(Debug, Deserialize)]
pub struct Page {
    /// The database's `now()`: lateness is judged on one clock.
    pub now_us: i64,
    /// Queue rows read (current and stale): fewer than the limit means
    /// the page held everything due.
    pub fetched: usize,
    /// Stale queue rows this page deleted.
    pub stale: u64,
    /// The current reminders, oldest `remind_at` first.
    pub due: Vec<Due>,
}

/// Whether anything in the queue is due (stale rows included).
pub fn anything_due(conn: &Connection) -> Result<bool, DbFault> {
    Ok(db::query_one(conn, ANYTHING_DUE, &[])?.unwrap_or(false))
}

/// Reads (and cleans) up to `limit` due queue rows, oldest first.
pub fn due_page(conn: &Connection, limit: usize) -> Result<Page, DbFault> {
    db::query_one(conn, DUE_PAGE, &[db::text(limit.to_string())])?
        .ok_or_else(|| DbFault(db::DbError::RowShape("the due page returned no row".into())))
}

/// All due reminders not yet recorded.
pub fn count_due(conn: &Connection) -> Result<u64, DbFault> {
    Ok(db::query_one(conn, COUNT_DUE, &[])?.unwrap_or(0))
}

/// Takes the tick lock if it is free; `false` when another tick holds it.
pub fn try_lock(conn: &Connection) -> Result<bool, DbFault> {
    Ok(db::query_one(conn, TRY_LOCK, &[db::text(TICK_LOCK)])?.unwrap_or(false))
}

/// Releases the tick lock (after the records are committed).
pub fn unlock(conn: &Connection) -> Result<(), DbFault> {
    let _: Option<bool> = db::query_one(conn, UNLOCK, &[db::text(TICK_LOCK)])?;
    Ok(())
}

/// A reminder's recorded state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// The sidecar answered 204.
    Published,
    /// Too late; never published.
    Skipped,
}

/// Records reminders and dequeues them in one statement; nothing to do
/// for an empty list.
pub fn record(conn: &Connection, rows: &[(&Due, State)]) -> Result<(), DbFault> {
    if rows.is_empty() {
        return Ok(());
    }
    let rows: Vec<Value> = rows
        .iter()
        .map(|(due, state)| {
            json!({
                "task_id": due.task_id,
                "remind_at_us": due.remind_at_us.to_string(),
                "event_id": due.event_id(),
                "state": match state { State::Published => "published", State::Skipped => "skipped" },
            })
        })
        .collect();
    db::execute(conn, RECORD, &[db::text(Value::from(rows).to_string())])?;
    Ok(())
}
