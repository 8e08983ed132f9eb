//! `POST /events/reminders` and the outbox flush.

use component_kit::respond;
use spin_sdk::http::{Request, Response};

/// Answers a Dapr delivery of `reminders`.
pub async fn handle(_req: Request) -> Response {
    respond::error(501, "not_implemented", "reminder delivery is not implemented yet")
}

/// Republishes outcome events whose publish failed (Dapr cron binding).
pub async fn outbox_flush(_req: Request) -> Response {
    respond::error(501, "not_implemented", "outbox flush is not implemented yet")
}
