//! `POST /retention/prune` (docs/CONTRACT.md, "Tables", "Retention"): the
//! Dapr cron binding `retention` calls it (hourly by default); each call
//! deletes, oldest first, at most `retention_batch` rows per table older
//! than `retention_days`, and answers what it deleted and how many
//! prunable rows are left.
//!
//! # Why it does not hold up the services' writers
//!
//! - **One batch per transaction.** Each table's batch is one `DELETE`
//!   statement, committed on its own (`store`); the three never share a
//!   transaction, and no lock outlives its batch.
//! - **Which locks.** A `DELETE` takes `ROW EXCLUSIVE` on the table, which
//!   conflicts with no write of the services (only with DDL such as
//!   `CREATE INDEX`), and a row lock on each row it deletes. Those rows are
//!   old and final: no service writes them, except a redelivery of a
//!   reminder older than `retention_days` (its claim's `ON CONFLICT` waits
//!   for the batch to commit, then finds the row gone). The rows are
//!   picked with `FOR UPDATE SKIP LOCKED`, so the prune never waits for a
//!   writer either, and its batch never grows longer by waiting.
//! - **The counter rows.** Migration 0006's statement triggers add each
//!   statement's deltas to `metric_counts` rows (one per label set, in the
//!   prune connection's slot). The trigger runs at the end of the `DELETE`
//!   and the transaction commits right after it, so a writer sharing that
//!   counter row waits for the commit only, never for the batch's scan.
//!   The counts are exact afterwards because the deletion goes through the
//!   same triggers as every other write (`tests/host/tests/retention_e2e.rs`
//!   compares them with counting the tables).
//! - **Cost per batch**, not per history: every batch reads its rows off an
//!   index in age order (migration 0008), `bench/retention_prune.sh`
//!   measures it over 1,000,000 old deliveries with a concurrent writer.
//!
//! `scheduled_reminders` rows are pruned only when the scheduler can never
//! look for them again (their task is completed, deleted or re-reminded)
//! and never younger than the scheduler's lateness limit
//! (`scheduler_core::retention::Retention::reminder_age_s`), so pruning
//! never makes a reminder go out again. A `reminder.due` redelivered by the
//! broker after its delivery rows were pruned would be delivered again:
//! `retention_days` is meant to exceed the broker's retention. As most old
//! recorded reminders belong to open tasks and stay, each call examines a
//! bounded window of them (2 x the batch), continuing where the last call
//! stopped (a cursor, `store`), so its cost does not grow with the history.
//! The price: a call whose window holds fewer prunable reminders than the
//! batch answers `remaining` without counting them beyond its window (the
//! count walks the whole history, so it runs only after a full batch, as
//! for the other tables); later calls sweep on and find them.

mod store;

use scheduler_core::retention::{needs_count, Deleted, PruneAnswer, Retention};
use scheduler_core::Settings;
use spin_glue::db::{self, DbFault};
use spin_glue::{serve, vars};
use spin_sdk::http::Response;
use todo_contract::ApiError;

use store::Table;

/// Answers one prune: 200 with the counts, 503 on a database fault, 500
/// when a retention (or the scheduler's lateness) variable is invalid.
pub fn handle() -> Response {
    let parsed = Retention::parse(
        &vars::get_or("retention_days", "30"),
        &vars::get_or("retention_batch", "5000"),
    )
    .map_err(|e| e.to_string())
    .and_then(|retention| {
        // The lateness limit bounds the age of prunable recorded reminders.
        let scheduler = Settings::parse(
            &vars::get_or("scheduler_batch", "500"),
            &vars::get_or("scheduler_max_lateness_seconds", "86400"),
        )
        .map_err(|e| e.to_string())?;
        Ok((retention, scheduler.max_lateness_s))
    });
    let (retention, max_lateness_s) = match parsed {
        Ok(parsed) => parsed,
        Err(invalid) => {
            tracing::warn!(
                reason = "invalid_configuration",
                detail = %invalid,
                "retention prune refused"
            );
            return serve::error(500, "invalid_configuration", invalid);
        }
    };
    if retention.keeps_everything() {
        return serve::json(200, &PruneAnswer::default());
    }
    match run(retention, max_lateness_s) {
        Ok(answer) => {
            if !answer.is_quiet() {
                tracing::info!(
                    deliveries = answer.deleted.deliveries,
                    rejected_events = answer.deleted.rejected_events,
                    scheduled_reminders = answer.deleted.scheduled_reminders,
                    remaining = answer.remaining,
                    "retention pruned"
                );
            }
            serve::json(200, &answer)
        }
        Err(fault) => {
            tracing::warn!(
                reason = "database_unavailable",
                detail = %fault.0,
                "retention prune failed"
            );
            // The detail may name hosts: it goes to the log, not the answer.
            serve::api_error(&ApiError::database_unavailable())
        }
    }
}

/// One batch per table, each committed on its own, on one connection.
fn run(retention: Retention, max_lateness_s: i64) -> Result<PruneAnswer, DbFault> {
    // Liveness: the request's only connection; nothing here opens another
    // while it is held (`spin_glue::db::Conn`).
    let conn = db::open()?;
    let age_s = retention.age_s();
    let mut remaining = 0;
    let mut batch = |table: Table, age_s: i64| -> Result<u64, DbFault> {
        let deleted = store::prune(
            &conn,
            table,
            age_s,
            retention.batch,
            retention.reminder_scan(),
        )?;
        if needs_count(deleted, retention.batch) {
            remaining += store::count(&conn, table, age_s)?;
        }
        Ok(deleted)
    };
    let deleted = Deleted {
        deliveries: batch(store::DELIVERIES, age_s)?,
        rejected_events: batch(store::REJECTED_EVENTS, age_s)?,
        scheduled_reminders: batch(
            store::SCHEDULED_REMINDERS,
            retention.reminder_age_s(max_lateness_s),
        )?,
    };
    Ok(PruneAnswer { deleted, remaining })
}
