//! `GET /metrics` (docs/CONTRACT.md, "Metrics"): the services' state in
//! PostgreSQL as Prometheus gauges, computed at scrape time (a component
//! instance lives for one request and keeps nothing between them).
//!
//! A thin adapter: the route here, the one statement in `store.rs`, the
//! series and the text format in the plain `metrics-core` crate.
//!
//! # Decisions
//!
//! - **No token:** scrapers do not send `dapr-api-token`, and the contract
//!   exempts `/metrics` like readiness; the answer holds counts only.
//! - **Down is 503, not zeros:** when PostgreSQL cannot be read the answer
//!   is 503 with the error shape, so Prometheus marks the target down
//!   instead of recording false values.
//! - **Never migrated is 200 with `todo_schema_ready 0`** and no other
//!   series: the database answers, the tables are not there yet.

mod store;

use metrics_core::{render, CONTENT_TYPE};
use spin_glue::serve;
use spin_sdk::http::{Method, Request, Response};

/// The scrape route.
const METRICS: &str = "/metrics";

/// The wasi:http export. spin-sdk's `#[http_component]` expands to unsafe
/// export glue, so the workspace's `unsafe_code` lint is lifted for this
/// module alone; the crate writes no unsafe code of its own.
#[allow(unsafe_code)]
mod export {
    use spin_sdk::http::{Request, ResponseOutparam};
    use spin_sdk::http_component;

    /// Logs in the request's span and answers in one write
    /// ([`spin_glue::serve`]).
    #[http_component]
    fn handle(req: Request, out: ResponseOutparam) {
        spin_glue::serve::entry_sync("metrics", req, out, super::route);
    }
}

/// Serves `GET /metrics`, open to scrapers without a token, inside the
/// request's log span.
fn route(req: Request) -> Response {
    if req.path() != METRICS {
        return serve::not_found();
    }
    if *req.method() != Method::Get {
        return serve::method_not_allowed("GET");
    }
    let body = match store::scrape() {
        Ok(store::Scrape::Full(snapshot, ready)) => render(Some(&snapshot), ready),
        Ok(store::Scrape::Unmigrated) => render(None, false),
        Err(fault) => {
            tracing::warn!(
                reason = "database_unavailable",
                detail = %fault,
                "metrics unavailable"
            );
            return serve::error(
                503,
                "database_unavailable",
                format!("PostgreSQL cannot be read: {fault}"),
            );
        }
    };
    Response::builder()
        .status(200)
        .header("content-type", CONTENT_TYPE)
        .body(body)
        .build()
}
