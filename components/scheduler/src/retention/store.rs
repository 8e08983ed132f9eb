//! The prune's SQL: one `DELETE` per table per call, each its own
//! transaction (Spin's Postgres API autocommits every statement), plus a
//! count per table when its batch came back full.
//!
//! Each `DELETE` picks its rows in a CTE, oldest first off an age index
//! (migration 0008; 0002 for `rejected_events`), with
//! `FOR UPDATE SKIP LOCKED`: the prune never waits for a row a writer
//! holds, and a concurrent prune on another replica takes other rows.
//! `scheduled_reminders` is swept in bounded windows ([`PRUNE_REMINDERS`]).
//! Ages are whole seconds (`scheduler_core::retention`), judged on the
//! database's clock.

use spin_glue::db::{self, DbFault};
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
    FOR UPDATE SKIP LOCKED),
gone AS (DELETE FROM deliveries d USING doomed WHERE d.delivery_id = doomed.delivery_id RETURNING 1)
SELECT to_jsonb(count(*)) FROM gone";

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
    FOR UPDATE SKIP LOCKED),
gone AS (DELETE FROM rejected_events r USING doomed WHERE r.rejection_id = doomed.rejection_id RETURNING 1)
SELECT to_jsonb(count(*)) FROM gone";

/// Rejected events left to prune.
const COUNT_REJECTED: &str = "\
SELECT to_jsonb(count(*)) FROM rejected_events
WHERE received_at < now() - $1::text::int8 * interval '1 second'";

/// Recorded reminders older than `$1` seconds (published ones by
/// `published_at`, skipped ones by `recorded_at`), at most `$2`, whose
/// task is gone, completed, or now has another `remind_at`: the scheduler
/// reads only open tasks' current reminder, so it never looks for these
/// rows again.
///
/// Most old records belong to tasks left open, which stay, so the rows are
/// swept in windows: the call examines at most `$3` rows of index
/// `scheduled_reminders_age` after `retention_cursor`'s position (one
/// probe of `tasks`' primary key each), deletes the prunable ones among
/// them oldest first, and moves the cursor to the last row it deleted
/// when the batch filled, else to the last row it examined, or back to
/// the oldest when the window reached the end. A call's cost is bounded by
/// `$3`, whatever the history; a reminder that became prunable behind the
/// cursor goes on the next sweep. Two concurrent calls may examine the
/// same window; `SKIP LOCKED` gives each row to one of them.
const PRUNE_REMINDERS: &str = "\
WITH cursor AS (
    SELECT age, task_id, remind_at FROM retention_cursor WHERE name = 'scheduled_reminders'),
examined AS (
    SELECT s.task_id, s.remind_at, COALESCE(s.published_at, s.recorded_at) AS age,
           NOT EXISTS (SELECT 1 FROM tasks t
                       WHERE t.id = s.task_id AND NOT t.completed AND t.remind_at = s.remind_at) AS prunable
    FROM scheduled_reminders s
    WHERE COALESCE(s.published_at, s.recorded_at) < now() - $1::text::int8 * interval '1 second'
      AND (COALESCE(s.published_at, s.recorded_at), s.task_id, s.remind_at)
          > ((SELECT age FROM cursor), (SELECT task_id FROM cursor), (SELECT remind_at FROM cursor))
    ORDER BY COALESCE(s.published_at, s.recorded_at), s.task_id, s.remind_at
    LIMIT $3::text::int),
chosen AS (
    SELECT task_id, remind_at, age FROM examined WHERE prunable
    ORDER BY age, task_id, remind_at
    LIMIT $2::text::int),
doomed AS (
    SELECT s.task_id, s.remind_at FROM scheduled_reminders s
    WHERE (s.task_id, s.remind_at) IN (SELECT task_id, remind_at FROM chosen)
    FOR UPDATE SKIP LOCKED),
gone AS (
    DELETE FROM scheduled_reminders s USING doomed
    WHERE s.task_id = doomed.task_id AND s.remind_at = doomed.remind_at
    RETURNING 1),
next AS (
    SELECT age, task_id, remind_at FROM (
        (SELECT 1 AS k, age, task_id, remind_at FROM chosen
         WHERE (SELECT count(*) FROM chosen) >= $2::text::int
         ORDER BY age DESC, task_id DESC, remind_at DESC LIMIT 1)
        UNION ALL
        (SELECT 2, age, task_id, remind_at FROM examined
         WHERE (SELECT count(*) FROM examined) >= $3::text::int
         ORDER BY age DESC, task_id DESC, remind_at DESC LIMIT 1)
        UNION ALL
        SELECT 3, '-infinity', '00000000-0000-0000-0000-000000000000', '-infinity') o
    ORDER BY k LIMIT 1),
moved AS (
    UPDATE retention_cursor r SET age = n.age, task_id = n.task_id, remind_at = n.remind_at
    FROM next n WHERE r.name = 'scheduled_reminders'
    RETURNING 1)
SELECT to_jsonb(count(*)) FROM gone";

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
    /// How many parameters `prune` takes (PostgreSQL refuses extra ones).
    params: usize,
    count: &'static str,
}

/// `deliveries` (final and published).
pub const DELIVERIES: Table = Table {
    prune: PRUNE_DELIVERIES,
    params: 2,
    count: COUNT_DELIVERIES,
};
/// `rejected_events`.
pub const REJECTED_EVENTS: Table = Table {
    prune: PRUNE_REJECTED,
    params: 2,
    count: COUNT_REJECTED,
};
/// `scheduled_reminders` (of tasks the scheduler no longer reminds).
pub const SCHEDULED_REMINDERS: Table = Table {
    prune: PRUNE_REMINDERS,
    params: 3,
    count: COUNT_REMINDERS,
};

/// Deletes one batch of `table`'s rows older than `age_s` seconds,
/// examining at most `scan` rows where the table is swept in windows
/// (`scheduled_reminders`; the others ignore it); the number deleted.
pub fn prune(
    conn: &Connection,
    table: Table,
    age_s: i64,
    batch: u32,
    scan: u32,
) -> Result<u64, DbFault> {
    let params = [
        db::text(age_s.to_string()),
        db::text(batch.to_string()),
        db::text(scan.to_string()),
    ];
    let params = params.get(..table.params).unwrap_or(&params);
    Ok(db::query_one(conn, table.prune, params)?.unwrap_or(0))
}

/// How many of `table`'s rows are older than `age_s` and prunable.
pub fn count(conn: &Connection, table: Table, age_s: i64) -> Result<u64, DbFault> {
    Ok(db::query_one(conn, table.count, &[db::text(age_s.to_string())])?.unwrap_or(0))
}
