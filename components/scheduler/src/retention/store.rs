//! The prune's SQL: one `DELETE` per table per call, each its own
//! transaction (Spin's Postgres API autocommits every statement), plus a
//! count per table when its batch came back full.
//!
//! Each `DELETE` picks its rows in a CTE, oldest first off an age index
//! (migration 0008; 0002 for `rejected_events`), with
//! `FOR UPDATE SKIP LOCKED`: the prune never waits for a row a writer
//! holds, and a concurrent prune on another replica takes other rows.
//! Ages are whole seconds (`reminder_schedule::retention`), judged on the
//! database's clock.

use component_kit::db::{self, DbFault};
use spin_sdk::pg4::Connection;

/// Final, published deliveries older than `$1` seconds, at most `$2`, by
/// `updated_at`: the CTE's predicate is the partial index
/// `deliveries_prunable`'s, so it walks only prunable rows. Pending,
/// retrying and unpublished rows never match.
const PRUNE_DELIVERIES: &str = "\
WITH doomed AS (
    SELECT delivery_id FROM deliveries
    WHERE outcome_published AND status IN ('sent', 'failed')
      AND updated_at < now() - $1::text::int8 * interval '1 second'
    ORDER BY updated_at
    LIMIT $2::text::int
    FOR UPDATE SKIP LOCKED)
DELETE FROM deliveries d USING doomed WHERE d.delivery_id = doomed.delivery_id";

/// Prunable deliveries left (index-only over `deliveries_prunable`).
const COUNT_DELIVERIES: &str = "\
SELECT to_jsonb(count(*)) FROM deliveries
WHERE outcome_published AND status IN ('sent', 'failed')
  AND updated_at < now() - $1::text::int8 * interval '1 second'";

/// Rejected events older than `$1` seconds, at most `$2`, by
/// `received_at` (index `rejected_events_received_at`).
const PRUNE_REJECTED: &str = "\
WITH doomed AS (
    SELECT rejection_id FROM rejected_events
    WHERE received_at < now() - $1::text::int8 * interval '1 second'
    ORDER BY received_at
    LIMIT $2::text::int
    FOR UPDATE SKIP LOCKED)
DELETE FROM rejected_events r USING doomed WHERE r.rejection_id = doomed.rejection_id";

/// Rejected events left to prune.
const COUNT_REJECTED: &str = "\
SELECT to_jsonb(count(*)) FROM rejected_events
WHERE received_at < now() - $1::text::int8 * interval '1 second'";

/// Recorded reminders older than `$1` seconds (published ones by
/// `published_at`, skipped ones by `recorded_at`), at most `$2`, whose
/// task is gone, completed, or now has another `remind_at`: the scheduler
/// reads only open tasks' current reminder, so it never looks for these
/// rows again. The age comes from index `scheduled_reminders_age`; each
/// candidate costs one probe of `tasks`' primary key.
const PRUNE_REMINDERS: &str = "\
WITH doomed AS (
    SELECT s.task_id, s.remind_at FROM scheduled_reminders s
    WHERE COALESCE(s.published_at, s.recorded_at) < now() - $1::text::int8 * interval '1 second'
      AND NOT EXISTS (SELECT 1 FROM tasks t
                      WHERE t.id = s.task_id AND NOT t.completed AND t.remind_at = s.remind_at)
    ORDER BY COALESCE(s.published_at, s.recorded_at)
    LIMIT $2::text::int
    FOR UPDATE OF s SKIP LOCKED)
DELETE FROM scheduled_reminders s USING doomed
WHERE s.task_id = doomed.task_id AND s.remind_at = doomed.remind_at";

/// Recorded reminders left to prune.
const COUNT_REMINDERS: &str = "\
SELECT to_jsonb(count(*)) FROM scheduled_reminders s
WHERE COALESCE(s.published_at, s.recorded_at) < now() - $1::text::int8 * interval '1 second'
  AND NOT EXISTS (SELECT 1 FROM tasks t
                  WHERE t.id = s.task_id AND NOT t.completed AND t.remind_at = s.remind_at)";

/// A pruned table: its batch `DELETE` and its count of what is left.
#[derive(Debug, Clone, Copy)]
pub struct Table {
    prune: &'static str,
    count: &'static str,
}

/// `deliveries` (final and published).
pub const DELIVERIES: Table = Table {
    prune: PRUNE_DELIVERIES,
    count: COUNT_DELIVERIES,
};
/// `rejected_events`.
pub const REJECTED_EVENTS: Table = Table {
    prune: PRUNE_REJECTED,
    count: COUNT_REJECTED,
};
/// `scheduled_reminders` (of tasks the scheduler no longer reminds).
pub const SCHEDULED_REMINDERS: Table = Table {
    prune: PRUNE_REMINDERS,
    count: COUNT_REMINDERS,
};

/// Deletes one batch of `table`'s rows older than `age_s` seconds; the
/// number deleted.
pub fn prune(conn: &Connection, table: Table, age_s: i64, batch: u32) -> Result<u64, DbFault> {
    db::execute(
        conn,
        table.prune,
        &[db::text(age_s.to_string()), db::text(batch.to_string())],
    )
}

/// How many of `table`'s rows are older than `age_s` and prunable.
pub fn count(conn: &Connection, table: Table, age_s: i64) -> Result<u64, DbFault> {
    Ok(db::query_one(conn, table.count, &[db::text(age_s.to_string())])?.unwrap_or(0))
}
