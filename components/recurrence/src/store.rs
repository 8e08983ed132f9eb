//! The SQL of the service: one statement reads the completed tasks of a
//! request, one creates their next occurrences, whatever the number of
//! events in it (docs/CONTRACT.md, "Dapr behaviour": a bulk's database
//! work does not grow by a round trip per entry). Rows come back as one
//! `jsonb` column and parameters go in as text with casts (spin-glue's
//! `db` conventions); a set travels as one JSON array.
//!
//! Round trips per request on the happy path: [`load_tasks`] (1),
//! [`insert_next`] (1; a second, rare SELECT only when a concurrent insert
//! won the race and is not yet visible to the statement's snapshot), then
//! the publishes to the sidecar. The connection is the request's one, lent
//! by `spin_glue::dapr::answer_events`.

use serde::Deserialize;
use serde_json::{json, Value};
use spin_glue::db::{self, DbFault};
use spin_sdk::pg4::Connection;

use recurrence_core::next_task::{NewTask, TaskRow};

/// Reads the completed tasks (ids as an array, so the planner sees how
/// many: `db::array_literal`) with their series' first `due_at`
/// ([`load_tasks`]).
///
/// The series start is a scalar subquery, not a self-join: PostgreSQL then
/// plans single-table lookups instead of choosing a join, which halves the
/// planning time (bench/FINDINGS.md, section 2).
const LOAD_TASKS: &str = "\
SELECT jsonb_build_object('id', t.id, 'series_id', t.series_id,
           'occurrence', t.occurrence, 'due_at', t.due_at, 'remind_at', t.remind_at,
           'completed_at', t.completed_at, 'recurrence_rule', t.recurrence_rule,
           'recurrence_anchor', t.recurrence_anchor, 'timezone', t.timezone,
           'series_start', (SELECT s.due_at FROM tasks s WHERE s.id = t.series_id))
FROM tasks t
WHERE t.id = ANY($1::text::uuid[])";

/// Inserts every next occurrence that does not exist, copying user,
/// title, description, priority, tags, rule, anchor and zone from its
/// completed task, and returns each either way ([`insert_next`]). Rows go
/// in by id, so concurrent requests lock in the same order; the set comes
/// as one array per column, so the planner knows its size.
const INSERT_NEXT: &str = "\
WITH input AS (
    SELECT * FROM unnest($1::text::uuid[], $2::text::uuid[], $3::text::uuid[], $4::text::int4[],
                         $5::text::timestamptz[], $6::text::timestamptz[])
        AS i(completed_id, id, series_id, occurrence, due_at, remind_at)
), ins AS (
    INSERT INTO tasks (id, user_id, title, description, priority, tags, due_at, remind_at,
                       completed, completed_at, recurrence_rule, recurrence_anchor, timezone,
                       series_id, occurrence)
    SELECT i.id, t.user_id, t.title, t.description, t.priority, t.tags, i.due_at, i.remind_at,
           false, NULL, t.recurrence_rule, t.recurrence_anchor, t.timezone,
           i.series_id, i.occurrence
    FROM input i JOIN tasks t ON t.id = i.completed_id
    ORDER BY i.id
    ON CONFLICT DO NOTHING
    RETURNING *
)
SELECT jsonb_build_object('inserted', true, 'task', to_jsonb(ins)) FROM ins
UNION ALL
SELECT jsonb_build_object('inserted', false, 'task', to_jsonb(t))
FROM tasks t JOIN input i ON t.series_id = i.series_id AND t.occurrence = i.occurrence
WHERE NOT EXISTS (SELECT 1 FROM ins WHERE ins.series_id = i.series_id AND ins.occurrence = i.occurrence)";

/// Reads occurrences by `(series_id, occurrence)` with a new snapshot
/// ([`insert_next`]'s rare second read).
const READ_OCCURRENCES: &str = "\
SELECT jsonb_build_object('inserted', false, 'task', to_jsonb(t))
FROM tasks t
JOIN jsonb_to_recordset($1::text::jsonb) AS i(series_id uuid, occurrence int4)
  ON t.series_id = i.series_id AND t.occurrence = i.occurrence";

/// The completed tasks of `task_ids` (each with its series' first
/// `due_at`, the engine's DTSTART: it keeps month ends and DST-gap times
/// exact across the series), in any order; a missing id has no row.
pub fn load_tasks(conn: &Connection, task_ids: &[&str]) -> Result<Vec<TaskRow>, DbFault> {
    let ids = db::array_literal(task_ids.iter().map(|id| Some(*id)));
    db::query_json(conn, LOAD_TASKS, &[db::text(ids)])
}

/// A stored occurrence and whether this call created it.
#[derive(Debug, Deserialize)]
pub struct Stored {
    /// `false`: it existed already (a redelivery, or a concurrent one won).
    pub inserted: bool,
    /// The whole row, as `to_jsonb` writes it.
    pub task: Value,
}

impl Stored {
    /// Its `(series_id, occurrence)`, to match it with what was asked for.
    fn key(&self) -> Option<(&str, i64)> {
        Some((
            self.task.get("series_id")?.as_str()?,
            self.task.get("occurrence")?.as_i64()?,
        ))
    }
}

/// Inserts each `(completed task id, new occurrence)` unless its
/// `(series_id, occurrence)` exists, and answers the stored row of each, in
/// the order asked (`None` when the completed task no longer exists:
/// deleted meanwhile). `news` must not repeat an occurrence.
///
/// `ON CONFLICT` names no target on purpose: the id is derived from
/// `(series_id, occurrence)`, so a racing request collides on the primary
/// key as often as on the `(series_id, occurrence)` index, and with a
/// target only that index is arbitrated (the other collision would be a
/// unique-violation error and a needless RETRY).
///
/// Under READ COMMITTED the statement's snapshot may not show a row that a
/// concurrent request committed while this insert waited on it (ON
/// CONFLICT sees it, the SELECT does not); then one more SELECT, with a
/// new snapshot, reads those.
pub fn insert_next(
    conn: &Connection,
    news: &[(&str, &NewTask)],
) -> Result<Vec<Option<Stored>>, DbFault> {
    let column = |value: fn(&(&str, &NewTask)) -> Option<String>| {
        let values: Vec<Option<String>> = news.iter().map(value).collect();
        db::text(db::array_literal(values.iter().map(Option::as_deref)))
    };
    let params = [
        column(|(completed_id, _)| Some((*completed_id).to_owned())),
        column(|(_, new)| Some(new.id.clone())),
        column(|(_, new)| Some(new.series_id.clone())),
        column(|(_, new)| Some(new.occurrence.to_string())),
        column(|(_, new)| Some(new.due_at.clone())),
        column(|(_, new)| new.remind_at.clone()),
    ];
    let mut stored: Vec<Stored> = db::query_json(conn, INSERT_NEXT, &params)?;
    let missing: Vec<Value> = news
        .iter()
        .filter(|(_, new)| !stored.iter().any(|s| matches(s, new)))
        .map(|(_, new)| json!({"series_id": new.series_id, "occurrence": new.occurrence}))
        .collect();
    if !missing.is_empty() {
        let again: Vec<Stored> = db::query_json(
            conn,
            READ_OCCURRENCES,
            &[db::text(Value::Array(missing).to_string())],
        )?;
        stored.extend(again);
    }
    let mut out = Vec::with_capacity(news.len());
    for (_, new) in news {
        let found = stored.iter().position(|s| matches(s, new));
        out.push(found.map(|at| stored.swap_remove(at)));
    }
    Ok(out)
}

fn matches(stored: &Stored, new: &NewTask) -> bool {
    stored.key() == Some((new.series_id.as_str(), i64::from(new.occurrence)))
}
