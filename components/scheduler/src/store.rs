//! The scheduler's SQL: read due reminders, the tick lock, record outcomes.
//! Rows come back as one `jsonb` column and parameters go in as text with
//! casts (component-kit's `db` conventions); instants are epoch
//! microseconds (`reminder_schedule::time`).
//!
//! Statements per tick: 1 when nothing is due ([`due_page`]); otherwise
//! [`due_page`], [`try_lock`], [`due_page`] again, [`record`], [`unlock`]
//! (plus [`count_due`] when the batch was full), and one publish per
//! reminder.

use component_kit::db::{self, DbFault};
use reminder_schedule::Due;
use serde::Deserialize;
use serde_json::{json, Value};
use spin_sdk::pg4::Connection;

/// Key of the tick's session advisory lock; distinct from the one
/// `migrations/migrate.sh` takes (7253911417790466).
const TICK_LOCK: &str = "7253911417790513";

/// Takes the tick's session advisory lock if free (`true` when taken).
const TRY_LOCK: &str = "SELECT to_jsonb(pg_try_advisory_lock($1::text::int8))";

/// Releases the tick's session advisory lock.
const UNLOCK: &str = "SELECT to_jsonb(pg_advisory_unlock($1::text::int8))";

/// Due reminders: `remind_at <= now()`, not completed, not yet recorded.
/// The inner query needs only `(remind_at, id)`, so it is an index-only
/// scan of the partial index `tasks_reminders_due` (migration 0004) plus
/// a probe of `scheduled_reminders`' primary key per entry; only the rows
/// returned are read from the heap. `isfinite` keeps a `-infinity`
/// `remind_at` (not a real reminder) from blocking the queue's head.
const DUE: &str = "\
SELECT jsonb_build_object(
    'task_id', t.id, 'user_id', t.user_id, 'title', t.title,
    'due_at_us', CASE WHEN isfinite(t.due_at) THEN (extract(epoch FROM t.due_at) * 1000000)::int8 END,
    'remind_at_us', (extract(epoch FROM t.remind_at) * 1000000)::int8,
    'now_us', (extract(epoch FROM now()) * 1000000)::int8)
FROM (SELECT d.id, d.remind_at FROM tasks d
      WHERE d.remind_at <= now() AND NOT d.completed AND isfinite(d.remind_at)
        AND NOT EXISTS (SELECT 1 FROM scheduled_reminders s
                        WHERE s.task_id = d.id AND s.remind_at = d.remind_at)
      ORDER BY d.remind_at, d.id
      LIMIT $1::text::int) due
JOIN tasks t ON t.id = due.id
ORDER BY due.remind_at, due.id";

/// How many due reminders are left (the answer's `remaining`).
const COUNT_DUE: &str = "\
SELECT to_jsonb(count(*)) FROM tasks d
WHERE d.remind_at <= now() AND NOT d.completed AND isfinite(d.remind_at)
  AND NOT EXISTS (SELECT 1 FROM scheduled_reminders s
                  WHERE s.task_id = d.id AND s.remind_at = d.remind_at)";

/// Records outcomes; `remind_at` is rebuilt from whole seconds plus
/// microseconds, which is exact over Postgres' whole range (a single
/// `interval * float8` product is not). A row that exists already (a
/// concurrent skip of the same late reminder) is left as it is.
const RECORD: &str = "\
INSERT INTO scheduled_reminders (task_id, remind_at, event_id, state, published_at)
SELECT (r->>'task_id')::uuid,
       'epoch'::timestamptz + ((r->>'remind_at_us')::int8 / 1000000) * interval '1 second'
                            + ((r->>'remind_at_us')::int8 % 1000000) * interval '1 microsecond',
       (r->>'event_id')::uuid, r->>'state',
       CASE WHEN r->>'state' = 'published' THEN now() END
FROM jsonb_array_elements($1::text::jsonb) r
ON CONFLICT (task_id, remind_at) DO NOTHING";

/// One row of [`DUE`].
#[derive(Debug, Deserialize)]
pub struct DueRow {
    /// The reminder.
    #[serde(flatten)]
    pub due: Due,
    /// The database's `now()`: lateness is judged on one clock.
    pub now_us: i64,
}

/// Up to `limit` due reminders, oldest `remind_at` first.
pub fn due_page(conn: &Connection, limit: usize) -> Result<Vec<DueRow>, DbFault> {
    db::query_json(conn, DUE, &[db::text(limit.to_string())])
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

/// Records reminders in one statement; nothing to do for an empty list.
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
