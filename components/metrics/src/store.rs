//! The scrape's SQL: one statement returning every number of a scrape as
//! one `jsonb` object ([`metrics_core::Snapshot`]), so a scrape costs
//! one round trip and reads one consistent snapshot. `bench/metrics_scrape.sh`
//! runs [`SCRAPE`] verbatim over a million deliveries.
//!
//! Times are computed in SQL as seconds (`extract(epoch FROM interval)`),
//! since Spin 3.6.3 does not decode `timestamptz` columns.

use metrics_core::Snapshot;
use spin_glue::db::{self, DbError, DbFault};
use spin_glue::readiness;
use spin_sdk::pg4::Connection;

/// Every series of docs/CONTRACT.md "Metrics" in one statement:
/// - final deliveries per channel and status, rejected events per topic
///   and reason, scheduled reminders per state and generated tasks, as
///   gauges (`n`) and as `_total` counters (`total`): sums over
///   `metric_counts`, the running counts migration 0009's triggers keep (a
///   few hundred rows at most, whatever the tables' sizes);
/// - pending and retrying deliveries: counted by an index-only scan of the
///   partial index `deliveries_in_flight` (0009), which holds only them (the
///   deliveries being sent or waiting for a retry);
/// - the oldest prunable row per table: the first entry of
///   `deliveries_prunable` (0009) and of `rejected_events_received_at`
///   (0002);
/// - the outbox: the partial index `deliveries_unpublished` (0003), which
///   holds only unpublished final outcomes, with the same predicate as the
///   notification service's outbox flush;
/// - the scheduler backlog: the due head of `scheduler_due_queue` (0007)
///   checked like the scheduler's own page (components/scheduler/src/store.rs:
///   task open with this `remind_at`, not recorded), so it reads the
///   reminders due and not yet handled, never the recorded history;
/// - `max(version)` of `schema_migrations`, judged like readiness.
const SCRAPE: &str = "\
WITH counts AS (SELECT series, labels, sum(n) AS n, sum(total) AS total FROM metric_counts
                GROUP BY series, labels HAVING sum(n) > 0 OR sum(total) > 0)
SELECT jsonb_build_object(
    'deliveries', (SELECT coalesce(jsonb_agg(jsonb_build_object('key', k.labels, 'n', k.n)), '[]')
                   FROM (SELECT c.labels, c.n FROM counts c WHERE c.series = 'deliveries' AND c.n > 0
                         UNION ALL
                         SELECT ARRAY[f.channel, f.status], f.n
                         FROM (SELECT channel, status, count(*) AS n FROM deliveries
                               WHERE status IN ('pending', 'retrying') GROUP BY channel, status) f) k),
    'deliveries_finished_total', (SELECT coalesce(jsonb_agg(jsonb_build_object('key', c.labels, 'n', c.total)), '[]') FROM counts c WHERE c.series = 'deliveries' AND c.total > 0),
    'rejected_events_total', (SELECT coalesce(jsonb_agg(jsonb_build_object('key', c.labels, 'n', c.total)), '[]') FROM counts c WHERE c.series = 'rejected_events' AND c.total > 0),
    'scheduled_reminders_total', (SELECT coalesce(jsonb_agg(jsonb_build_object('key', c.labels, 'n', c.total)), '[]') FROM counts c WHERE c.series = 'scheduled_reminders' AND c.total > 0),
    'generated_tasks_total', coalesce((SELECT sum(c.total) FROM counts c WHERE c.series = 'generated_tasks'), 0),
    'retention_oldest_seconds', jsonb_build_array(
        jsonb_build_object('key', ARRAY['deliveries'], 'n',
            (SELECT coalesce(greatest(extract(epoch FROM now() - min(updated_at)), 0), 0) FROM deliveries
             WHERE status IN ('sent', 'failed') AND outcome_published)),
        jsonb_build_object('key', ARRAY['rejected_events'], 'n',
            (SELECT coalesce(greatest(extract(epoch FROM now() - min(received_at)), 0), 0) FROM rejected_events))),
    'outbox_unpublished', o.n,
    'outbox_oldest_unpublished_seconds', o.age,
    'rejected_events', (SELECT coalesce(jsonb_agg(jsonb_build_object('key', c.labels, 'n', c.n)), '[]') FROM counts c WHERE c.series = 'rejected_events' AND c.n > 0),
    'generated_tasks', coalesce((SELECT sum(c.n) FROM counts c WHERE c.series = 'generated_tasks'), 0),
    'scheduler_due_backlog', b.n,
    'scheduler_lag_seconds', b.age,
    'scheduled_reminders', (SELECT coalesce(jsonb_agg(jsonb_build_object('key', c.labels, 'n', c.n)), '[]') FROM counts c WHERE c.series = 'scheduled_reminders' AND c.n > 0),
    'schema_version', (SELECT max(version) FROM schema_migrations))
FROM (SELECT count(*) AS n,
             coalesce(greatest(extract(epoch FROM now() - min(updated_at)), 0), 0) AS age
      FROM deliveries WHERE status IN ('sent', 'failed') AND NOT outcome_published) o,
     (SELECT count(*) AS n,
             coalesce(greatest(extract(epoch FROM now() - min(q.remind_at)), 0), 0) AS age
      FROM scheduler_due_queue q
      JOIN tasks t ON t.id = q.task_id AND t.remind_at = q.remind_at AND NOT t.completed
      WHERE q.remind_at <= now()
        AND NOT EXISTS (SELECT 1 FROM scheduled_reminders s
                        WHERE s.task_id = q.task_id AND s.remind_at = q.remind_at)) b";

/// What a scrape found.
pub enum Scrape {
    /// Every number, and whether the schema is current (boxed: the
    /// snapshot is large next to the other variant).
    Full(Box<Snapshot>, bool),
    /// The database answers but the tables are not there yet (never
    /// migrated): only `todo_schema_ready 0` can be said.
    Unmigrated,
}

/// Reads the snapshot. An error (a secret-free description) means no
/// honest numbers can be given (connection refused or cut, a statement that
/// failed on a migrated schema): the caller answers 503 rather than stale
/// or zero values.
pub fn scrape() -> Result<Scrape, DbFault> {
    // Liveness: the request's only connection; nothing here opens another
    // while it is held (`spin_glue::db::Conn`).
    let conn = db::open()?;
    match db::query_one::<Snapshot>(&conn, SCRAPE, &[]) {
        Ok(Some(snapshot)) => {
            let ready = readiness::schema_is_current(snapshot.schema_version.as_deref());
            Ok(Scrape::Full(Box::new(snapshot), ready))
        }
        Ok(None) => Err(DbError::RowShape("the scrape returned no row".into()).into()),
        Err(fault) if fault.answered_by_server() => unmigrated_or(&conn, fault),
        Err(fault) => Err(fault),
    }
}

/// After the scrape statement failed with a server error: if the schema is
/// behind or absent (no `schema_migrations` at all) that is the reason,
/// else the original fault stands. Runs only on this error path.
fn unmigrated_or(conn: &Connection, scrape_fault: DbFault) -> Result<Scrape, DbFault> {
    match db::query_one::<Option<String>>(conn, readiness::APPLIED_VERSION_SQL, &[]) {
        Ok(applied)
            if readiness::schema_is_current(applied.as_ref().and_then(Option::as_deref)) =>
        {
            Err(scrape_fault)
        }
        Ok(_) => Ok(Scrape::Unmigrated),
        Err(fault) if fault.answered_by_server() => Ok(Scrape::Unmigrated),
        Err(fault) => Err(fault),
    }
}
