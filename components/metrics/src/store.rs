//! The scrape's SQL: one statement returning every number of a scrape as
//! one `jsonb` object ([`metrics_exposition::Snapshot`]), so a scrape costs
//! one round trip and reads one consistent snapshot. `bench/metrics_scrape.sh`
//! runs [`SCRAPE`] verbatim over a million deliveries.
//!
//! Times are computed in SQL as seconds (`extract(epoch FROM interval)`),
//! since Spin 3.6.3 does not decode `timestamptz` columns.

use component_kit::db::{self, DbFault};
use component_kit::readiness;
use metrics_exposition::Snapshot;
use serde::de::DeserializeOwned;
use spin_sdk::pg4::{Connection, DbValue, PgError, QueryError, RowSet};

/// Every series of docs/CONTRACT.md "Metrics" in one statement:
/// - deliveries per channel and status, rejected events per topic and
///   reason, scheduled reminders per state and generated tasks: sums over
///   `metric_counts`, the running counts migration 0006's triggers keep
///   (a few hundred rows at most, whatever the tables' sizes);
/// - the outbox: the partial index `deliveries_unpublished` (0003), which
///   holds only unpublished final outcomes, with the same predicate as the
///   notification service's outbox flush;
/// - the scheduler backlog: the predicate of the scheduler's own due read
///   (components/scheduler/src/store.rs), an index-only scan of the partial
///   index `tasks_reminders_due` (0004) and a primary-key probe each;
/// - `max(version)` of `schema_migrations`, judged like readiness.
const SCRAPE: &str = "\
WITH counts AS (SELECT series, labels, sum(n) AS n FROM metric_counts
                GROUP BY series, labels HAVING sum(n) > 0)
SELECT jsonb_build_object(
    'deliveries', (SELECT coalesce(jsonb_agg(jsonb_build_object('key', c.labels, 'n', c.n)), '[]') FROM counts c WHERE c.series = 'deliveries'),
    'outbox_unpublished', o.n,
    'outbox_oldest_unpublished_seconds', o.age,
    'rejected_events', (SELECT coalesce(jsonb_agg(jsonb_build_object('key', c.labels, 'n', c.n)), '[]') FROM counts c WHERE c.series = 'rejected_events'),
    'generated_tasks', coalesce((SELECT sum(c.n) FROM counts c WHERE c.series = 'generated_tasks'), 0),
    'scheduler_due_backlog', b.n,
    'scheduler_lag_seconds', b.age,
    'scheduled_reminders', (SELECT coalesce(jsonb_agg(jsonb_build_object('key', c.labels, 'n', c.n)), '[]') FROM counts c WHERE c.series = 'scheduled_reminders'),
    'schema_version', (SELECT max(version) FROM schema_migrations))
FROM (SELECT count(*) AS n,
             coalesce(greatest(extract(epoch FROM now() - min(updated_at)), 0), 0) AS age
      FROM deliveries WHERE status IN ('sent', 'failed') AND NOT outcome_published) o,
     (SELECT count(*) AS n,
             coalesce(greatest(extract(epoch FROM now() - min(d.remind_at)), 0), 0) AS age
      FROM tasks d
      WHERE d.remind_at <= now() AND NOT d.completed AND isfinite(d.remind_at)
        AND NOT EXISTS (SELECT 1 FROM scheduled_reminders s
                        WHERE s.task_id = d.id AND s.remind_at = d.remind_at)) b";

/// What a scrape found.
pub enum Scrape {
    /// Every number, and whether the schema is current.
    Full(Snapshot, bool),
    /// The database answers but the tables are not there yet (never
    /// migrated): only `todo_schema_ready 0` can be said.
    Unmigrated,
}

/// Reads the snapshot. An error (a secret-free description) means no
/// honest numbers can be given (connection refused or cut, a statement that
/// failed on a migrated schema): the caller answers 503 rather than stale
/// or zero values.
pub fn scrape() -> Result<Scrape, String> {
    let conn = db::open().map_err(|e| e.to_string())?;
    match conn.query(SCRAPE, &[]) {
        Ok(rows) => {
            let snapshot: Snapshot = first_json(&rows)?;
            let ready = readiness::schema_is_current(snapshot.schema_version.as_deref());
            Ok(Scrape::Full(snapshot, ready))
        }
        Err(e) if answered(&e) => unmigrated_or(&conn, fault(e)),
        Err(e) => Err(fault(e)),
    }
}

/// After the scrape statement failed with a server error: if the schema is
/// behind or absent (no `schema_migrations` at all) that is the reason,
/// else the original fault stands. Runs only on this error path.
fn unmigrated_or(conn: &Connection, scrape_fault: String) -> Result<Scrape, String> {
    match conn.query(readiness::APPLIED_VERSION_SQL, &[]) {
        Ok(rows) => {
            let applied: Option<String> = first_json(&rows)?;
            if readiness::schema_is_current(applied.as_deref()) {
                Err(scrape_fault)
            } else {
                Ok(Scrape::Unmigrated)
            }
        }
        Err(e) if answered(&e) => Ok(Scrape::Unmigrated),
        Err(e) => Err(fault(e)),
    }
}

/// The first row's single `jsonb` column, decoded.
fn first_json<T: DeserializeOwned>(rows: &RowSet) -> Result<T, String> {
    match rows.rows.first().and_then(|row| row.first()) {
        Some(DbValue::Jsonb(bytes)) => {
            serde_json::from_slice(bytes).map_err(|e| format!("unexpected row shape: {e}"))
        }
        other => Err(format!("expected one jsonb row, got {other:?}")),
    }
}

/// component-kit's secret-free description of a Postgres error.
fn fault(e: PgError) -> String {
    DbFault::from(e).to_string()
}

/// True when PostgreSQL itself answered with an error (e.g. an undefined
/// table), so the server is up; false for connection faults.
fn answered(e: &PgError) -> bool {
    matches!(e, PgError::QueryFailed(QueryError::DbError(_)))
}
