//! The SQL of the service: one statement to read, one to create. Rows come
//! back as one `jsonb` column and parameters go in as text with casts
//! (component-kit's `db` conventions).
//!
//! Round trips per `task.completed` on the happy path: [`load_task`] (1),
//! [`insert_next`] (1; a second, rare SELECT only when a concurrent insert
//! won the race and is not yet visible to the statement's snapshot), then
//! the publish to the sidecar (1) — three in all. The connection comes from
//! Spin's pool and is opened once per request, even for a bulk delivery.

use component_kit::db::{self, DbFault};
use serde::Deserialize;
use serde_json::Value;
use spin_sdk::pg4::Connection;

use recurrence_planning::plan::{NewTask, TaskRow};

/// Reads the completed task with its series' first `due_at` ([`load_task`]).
const LOAD_TASK: &str = "SELECT jsonb_build_object('id', t.id, 'series_id', t.series_id, \
                  'occurrence', t.occurrence, 'due_at', t.due_at, 'remind_at', t.remind_at, \
                  'completed_at', t.completed_at, 'recurrence_rule', t.recurrence_rule, \
                  'recurrence_anchor', t.recurrence_anchor, 'timezone', t.timezone, \
                  'series_start', (SELECT s.due_at FROM tasks s WHERE s.id = t.series_id)) \
         FROM tasks t WHERE t.id = $1::text::uuid";

/// Inserts the next occurrence unless it exists, and returns it either way
/// ([`insert_next`]).
const INSERT_NEXT: &str = "WITH ins AS ( \
           INSERT INTO tasks (id, user_id, title, description, priority, tags, due_at, remind_at, \
                              completed, completed_at, recurrence_rule, recurrence_anchor, timezone, \
                              series_id, occurrence) \
           SELECT $2::text::uuid, t.user_id, t.title, t.description, t.priority, t.tags, \
                  $5::text::timestamptz, $6::text::timestamptz, false, NULL, \
                  t.recurrence_rule, t.recurrence_anchor, t.timezone, $3::text::uuid, $4::int4 \
           FROM tasks t WHERE t.id = $1::text::uuid \
           ON CONFLICT DO NOTHING \
           RETURNING *) \
         SELECT jsonb_build_object('inserted', true, 'task', to_jsonb(ins)) FROM ins \
         UNION ALL \
         SELECT jsonb_build_object('inserted', false, 'task', to_jsonb(t)) FROM tasks t \
         WHERE t.series_id = $3::text::uuid AND t.occurrence = $4::int4 \
           AND NOT EXISTS (SELECT 1 FROM ins)";

/// Reads an occurrence by `(series_id, occurrence)` with a new snapshot
/// ([`insert_next`]'s rare second read).
const READ_OCCURRENCE: &str =
    "SELECT jsonb_build_object('inserted', false, 'task', to_jsonb(t)) FROM tasks t \
         WHERE t.series_id = $1::text::uuid AND t.occurrence = $2::int4";

/// The completed task and, in the same statement, its series' first
/// `due_at` (the engine's DTSTART: it keeps month ends and DST-gap times
/// exact across the series). `None`: no such task.
///
/// The series start is a scalar subquery, not a self-join: PostgreSQL then
/// plans two single-table lookups instead of choosing a join, which halves
/// the planning time (0.056 -> 0.030 ms, EXPLAIN over 200 plans), and every
/// statement of this app is planned anew (bench/FINDINGS.md, section 2).
pub fn load_task(conn: &Connection, task_id: &str) -> Result<Option<TaskRow>, DbFault> {
    db::query_one(conn, LOAD_TASK, &[db::text(task_id)])
}

/// A stored occurrence and whether this call created it.
#[derive(Debug, Deserialize)]
pub struct Stored {
    /// `false`: it existed already (a redelivery, or a concurrent one won).
    pub inserted: bool,
    /// The whole row, as `to_jsonb` writes it.
    pub task: Value,
}

/// Inserts `new` unless its `(series_id, occurrence)` exists, copying user,
/// title, description, priority, tags, rule, anchor and zone from the
/// completed task in SQL, and returns the row either way. `None` when the
/// completed task no longer exists (deleted meanwhile).
///
/// `ON CONFLICT` names no target on purpose: the id is derived from
/// `(series_id, occurrence)`, so a racing delivery collides on the primary
/// key as often as on the `(series_id, occurrence)` index, and with a
/// target only that index is arbitrated (the other collision would be a
/// unique-violation error and a needless RETRY).
///
/// Under READ COMMITTED the statement's snapshot may not show a row that a
/// concurrent delivery committed while this insert waited on it (ON
/// CONFLICT sees it, the SELECT does not); then one more SELECT, with a
/// new snapshot, reads it.
pub fn insert_next(
    conn: &Connection,
    completed_id: &str,
    new: &NewTask,
) -> Result<Option<Stored>, DbFault> {
    let stored = db::query_one(
        conn,
        INSERT_NEXT,
        &[
            db::text(completed_id),
            db::text(new.id.as_str()),
            db::text(new.series_id.as_str()),
            db::int(new.occurrence),
            db::text(new.due_at.as_str()),
            db::opt_text(new.remind_at.as_deref()),
        ],
    )?;
    if stored.is_some() {
        return Ok(stored);
    }
    db::query_one(
        conn,
        READ_OCCURRENCE,
        &[db::text(new.series_id.as_str()), db::int(new.occurrence)],
    )
}
