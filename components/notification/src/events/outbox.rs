//! `POST /outbox-flush` (Dapr cron binding): re-publishes outcome events
//! whose publish failed, for rows no redelivery will revisit (Dapr gave up,
//! or the event was answered before the sidecar came back).
//!
//! **One publish per outcome per round, however many replicas flush.**
//! Every replica's sidecar fires the cron, so flushes run concurrently. A
//! flush first *claims* its rows in one statement ([`CLAIM`]): it locks
//! unclaimed unpublished outcomes with `FOR UPDATE SKIP LOCKED` and sets
//! `flush_claimed_until` (migration 0008) to a short lease, then commits.
//! A concurrent flush skips the rows being claimed and, once the claim has
//! committed, finds them claimed; so each outcome goes to one flush. The
//! flush then publishes (no transaction spans a publish, and it holds one
//! connection throughout) and finally marks the published rows and
//! releases the claim of the rest in one statement ([`SETTLE`]).
//!
//! A flush that dies leaves its claims to run out after [`LEASE_SECS`],
//! then another flush publishes them (with the same CloudEvent id, so
//! consumers can de-duplicate). A flush publishes only while its lease
//! certainly holds ([`PUBLISH_WINDOW`]), so a slow flush never overlaps
//! the next one's claim of the same rows.

use std::time::{Duration, Instant};

use dapr_pubsub::trace::valid_traceparent;
use notification_core::NotificationOutcome;
use serde::Deserialize;
use serde_json::{json, Value};
use spin_glue::dapr::{Sidecar, PUBLISH_TIMEOUT};
use spin_glue::db::{self, DbFault};
use spin_glue::serve;
use spin_sdk::http::{Method, Request, Response};

/// Rows handled per call: the cron fires every 30 s, so a backlog drains
/// steadily without one call outliving its HTTP timeout.
pub const BATCH: usize = 100;

/// How long a flush's claim holds its rows.
pub const LEASE_SECS: u64 = 60;

/// The time after its claim during which a flush may start a publish: the
/// lease less one publish's deadline and a margin for the statements, so
/// every publish ends while the claim still holds.
const PUBLISH_WINDOW: Duration = Duration::from_secs(LEASE_SECS - PUBLISH_TIMEOUT.as_secs() - 10);

/// Claims up to `$1` final, unpublished, unclaimed outcomes, oldest first,
/// for `$2` seconds, and returns each one's outcome payload (the same
/// fields and `at` = `updated_at` as the first publish attempt) with the
/// claim's lease. Reads the partial index `deliveries_unpublished`; the
/// claim changes no indexed column, so it is a HOT update.
const CLAIM: &str = "\
WITH free AS (
    SELECT delivery_id FROM deliveries
    WHERE status IN ('sent', 'failed') AND NOT outcome_published
      AND (flush_claimed_until IS NULL OR flush_claimed_until <= now())
    ORDER BY updated_at, delivery_id
    LIMIT $1::text::int
    FOR UPDATE SKIP LOCKED),
claimed AS (
    UPDATE deliveries d SET flush_claimed_until = now() + $2::text::int8 * interval '1 second'
    FROM free WHERE d.delivery_id = free.delivery_id
    RETURNING d.*)
SELECT jsonb_build_object(
    'lease', flush_claimed_until,
    'outcome', jsonb_build_object(
        'delivery_id', delivery_id, 'user_id', user_id, 'task_id', task_id, 'channel', channel,
        'provider_message_id', CASE WHEN status = 'sent' THEN provider_message_id END,
        'attempts', attempts, 'at', updated_at,
        'reason', CASE WHEN status = 'failed' THEN COALESCE(reason, 'rejected_by_provider') END))
FROM claimed
ORDER BY updated_at, delivery_id";

/// Marks the outcomes just published (`$1`), still final, as published,
/// and releases the claim on the other rows of this flush (`$2`) while it
/// is still this flush's own (`$3`, the lease it set).
const SETTLE: &str = "\
UPDATE deliveries d SET
    outcome_published = d.outcome_published OR d.delivery_id = ANY (published.ids),
    flush_claimed_until = CASE WHEN d.flush_claimed_until = $3::text::timestamptz
                               THEN NULL ELSE d.flush_claimed_until END
FROM (SELECT ARRAY(SELECT jsonb_array_elements_text($1::text::jsonb)::uuid) AS ids) published
WHERE d.delivery_id IN (SELECT jsonb_array_elements_text($2::text::jsonb)::uuid)
  AND d.status IN ('sent', 'failed')";

/// One row of [`CLAIM`].
#[derive(Debug, Deserialize)]
struct Claimed {
    /// `flush_claimed_until` as Postgres wrote it (exact to the
    /// microsecond when cast back).
    lease: String,
    /// The outcome event's payload.
    outcome: Value,
}

/// Publishes up to [`BATCH`] pending outcomes; 200 with the counts, 503
/// when Postgres is unreachable. Stops at the first publish failure: the
/// sidecar is down, and the next tick tries again.
async fn flush(req: &Request) -> Response {
    match run(req).await {
        Ok((published, failed)) => {
            if published + failed > 0 {
                tracing::info!(published, publish_failed = failed, "outbox flushed");
            }
            serve::json(200, &json!({"published": published, "failed": failed}))
        }
        Err(fault) => {
            tracing::warn!(
                reason = "database_unavailable",
                detail = %fault,
                "outbox flush failed"
            );
            serve::error(503, "database_unavailable", fault.to_string())
        }
    }
}

/// Republishes outcome events whose publish failed (Dapr cron binding).
/// `OPTIONS` is Dapr's start-up probe of a binding route: 200 binds it.
pub async fn route(req: Request) -> Response {
    match req.method() {
        Method::Post => flush(&req).await,
        Method::Options => Response::builder()
            .status(200)
            .header("allow", "POST, OPTIONS")
            .build(),
        _ => serve::method_not_allowed("POST, OPTIONS"),
    }
}

/// Claim, publish within the lease, settle: three steps on one connection.
async fn run(req: &Request) -> Result<(usize, usize), DbFault> {
    let started = Instant::now();
    // Liveness: the request's only connection; nothing here opens another
    // while it is held (`spin_glue::db::Conn`).
    let conn = db::open()?;
    let rows: Vec<Claimed> = db::query_json(
        &conn,
        CLAIM,
        &[
            db::text(BATCH.to_string()),
            db::text(LEASE_SECS.to_string()),
        ],
    )?;
    let Some(lease) = rows.first().map(|r| r.lease.clone()) else {
        return Ok((0, 0));
    };
    let traceparent = valid_traceparent(req.header("traceparent").and_then(|v| v.as_str()));
    let sidecar = Sidecar::from_vars();
    let mut claimed: Vec<String> = Vec::with_capacity(rows.len());
    let mut done: Vec<String> = Vec::new();
    let mut failed = 0;
    let mut stopped = false;
    for row in rows {
        if let Some(id) = row.outcome.get("delivery_id").and_then(Value::as_str) {
            claimed.push(id.to_owned());
        }
        if stopped {
            continue;
        }
        let event: NotificationOutcome = match serde_json::from_value(row.outcome) {
            Ok(event) => event,
            Err(e) => {
                tracing::warn!(
                    reason = "unreadable_row",
                    detail = %e,
                    "unpublished delivery row cannot be read"
                );
                continue;
            }
        };
        if started.elapsed() > PUBLISH_WINDOW {
            // The rest waits for a later round rather than risk a publish
            // after the lease ran out.
            stopped = true;
            continue;
        }
        match super::outcomes::publish(&sidecar, &event, traceparent).await {
            Ok(()) => done.push(event.cloudevent_id()),
            Err(e) => {
                failed += 1;
                stopped = true;
                tracing::warn!(
                    delivery_id = %event.cloudevent_id(),
                    reason = "publish_failed",
                    detail = %e,
                    "outbox publish failed"
                );
            }
        }
    }
    db::execute(
        &conn,
        SETTLE,
        &[
            db::text(json!(done).to_string()),
            db::text(json!(claimed).to_string()),
            db::text(lease),
        ],
    )?;
    Ok((done.len(), failed))
}
