//! `POST /outbox-flush` (Dapr cron binding): re-publishes outcome events
//! whose publish failed, for rows no redelivery will revisit (Dapr gave up,
//! or the event was answered before the sidecar came back).

use component_kit::dapr::Sidecar;
use component_kit::db::{self, DbFault};
use component_kit::serve;
use dapr_pubsub::trace::valid_traceparent;
use notification_delivery::NotificationOutcome;
use serde_json::json;
use spin_sdk::http::{Method, Request, Response};

/// Rows handled per call: the cron fires every 30 s, so a backlog drains
/// steadily without one call outliving its HTTP timeout.
pub const BATCH: usize = 100;

/// The outcome payload of every final, unpublished row, oldest first; the
/// same fields and `at` (`updated_at`) as the first publish attempt.
const UNPUBLISHED: &str = "\
SELECT jsonb_build_object(
    'delivery_id', delivery_id, 'user_id', user_id, 'task_id', task_id, 'channel', channel,
    'provider_message_id', CASE WHEN status = 'sent' THEN provider_message_id END,
    'attempts', attempts, 'at', updated_at,
    'reason', CASE WHEN status = 'failed' THEN COALESCE(reason, 'rejected_by_provider') END)
FROM deliveries
WHERE status IN ('sent', 'failed') AND NOT outcome_published
ORDER BY updated_at, delivery_id
LIMIT $1::text::int";

/// Marks the outcomes just published, still final, as published.
const MARK: &str = "\
UPDATE deliveries SET outcome_published = true
WHERE delivery_id IN (SELECT jsonb_array_elements_text($1::text::jsonb)::uuid)
  AND status IN ('sent', 'failed')";

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

async fn run(req: &Request) -> Result<(usize, usize), DbFault> {
    let conn = db::open()?;
    let rows: Vec<serde_json::Value> =
        db::query_json(&conn, UNPUBLISHED, &[db::text(BATCH.to_string())])?;
    let traceparent = valid_traceparent(req.header("traceparent").and_then(|v| v.as_str()));
    let sidecar = Sidecar::from_vars();
    let mut done: Vec<String> = Vec::new();
    let mut failed = 0;
    for row in rows {
        let event: NotificationOutcome = match serde_json::from_value(row) {
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
        match super::reminder::publish(&sidecar, &event, traceparent).await {
            Ok(()) => done.push(event.cloudevent_id()),
            Err(e) => {
                failed += 1;
                tracing::warn!(
                    delivery_id = %event.cloudevent_id(),
                    reason = "publish_failed",
                    detail = %e,
                    "outbox publish failed"
                );
                break;
            }
        }
    }
    if !done.is_empty() {
        db::execute(&conn, MARK, &[db::text(json!(done).to_string())])?;
    }
    Ok((done.len(), failed))
}
