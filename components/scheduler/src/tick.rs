//! `POST /scheduler/tick`: publish due reminders (oldest first, at most
//! `scheduler_batch`), skip those later than `scheduler_max_lateness_seconds`,
//! record both in `scheduled_reminders`, and answer the counts.

use component_kit::dapr::Sidecar;
use component_kit::db::{self, DbFault};
use component_kit::{serve, vars};
use dapr_pubsub::trace::valid_traceparent;
use dapr_pubsub::ApiError;
use reminder_schedule::{plan_page, Settings, Tally, REMINDER_DUE, TOPIC};
use spin_sdk::http::{Request, Response};
use spin_sdk::pg4::Connection;

use crate::store::{self, State};

/// Pages one tick reads at most: pages after the first only follow skipped
/// reminders (late ones sort first), so this bounds how many a tick skips
/// (`MAX_PAGES` x batch) when the scheduler starts over an old database.
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
    let conn = db::open()?;
    let hint = store::due_page(&conn, settings.batch)?;
    if hint.is_empty() {
        return Ok(Tally::default());
    }
    if !store::try_lock(&conn)? {
        // Another replica is ticking; it publishes these.
        let remaining = if hint.len() < settings.batch {
            hint.len() as u64
        } else {
            store::count_due(&conn)?
        };
        return Ok(Tally {
            remaining,
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
        let rows = store::due_page(conn, settings.batch)?;
        let fetched = rows.len();
        let now_us = rows.first().map_or(0, |r| r.now_us);
        let page = rows.into_iter().map(|r| r.due).collect();
        let plan = plan_page(page, now_us, settings.max_lateness_s, room);
        let mut records: Vec<(&reminder_schedule::Due, State)> =
            plan.skip.iter().map(|d| (d, State::Skipped)).collect();
        let mut failed = false;
        for due in &plan.publish {
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
        let published = records.len() - plan.skip.len();
        tally.skipped += plan.skip.len() as u64;
        tally.published += published as u64;
        room -= published;
        if failed {
            tally.failed = 1;
            break;
        }
        if fetched < settings.batch {
            // The page held every due reminder: what it did not record is
            // exactly what is left.
            tally.remaining = (fetched - records.len()) as u64;
            return Ok(tally);
        }
        if room == 0 {
            break;
        }
    }
    tally.remaining = store::count_due(conn)?;
    Ok(tally)
}
