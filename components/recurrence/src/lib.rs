//! The Recurring Task Service (docs/CONTRACT.md: "Routes", "Events",
//! "Dapr behaviour", "Recurrence rules"): when a
//! recurring task is completed, create its next occurrence exactly once and
//! announce it as `task.created`; preview a rule's next dates for a UI.
//!
//! The imperative shell, the same shape as the Notification Service:
//! routing and auth here, one file per route (`events.rs`, `preview.rs`),
//! the SQL in `store.rs`; every decision is in the `recurrence-core`
//! crate (payload, next occurrence, `task.created`, preview query), over
//! the `recurrence-rules` engine.
//!
//! No input may panic: a trap is a 500, which Dapr retries forever.
//!
//! # Decisions
//!
//! - **Numbering**: the new task is always the completed one's
//!   `occurrence + 1` and COUNT counts tasks, the first being 1, also after a late
//!   completion that skips dates (`recurrence_rules::Numbering::Tasks`).
//! - **Identity**: the new id is UUID v5 of `"<series_id>:<occurrence>"`
//!   (`recurrence_core::next_task::occurrence_id`), inserted with `ON CONFLICT DO NOTHING`, so
//!   duplicates, different events for one completion and concurrent
//!   requests all end in one row and publish the same CloudEvent id.
//! - **Times**: the row's `completed_at` wins over the event's; anchor `due`
//!   without a `due_at` falls back to anchor `completion`; `remind_at` keeps
//!   its exact duration before `due_at` (null stays null).
//! - **Cost**: two SQL statements and one publish per event (see `store.rs`;
//!   measured by `tests/host/tests/recurrence_api.rs`). The release build is
//!   about 0.9 MB, most of it the IANA time-zone database the engine embeds.

mod events;
mod preview;
mod store;

use spin_glue::{readiness, serve, vars};
use spin_sdk::http::{Method, Request, Response};

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
    async fn handle(req: Request, out: ResponseOutparam) {
        spin_glue::serve::entry("recurrence", req, out, super::route).await;
    }
}

/// Readiness is open (probes carry no token); every other route needs
/// `app_api_token` when it is set.
async fn route(req: Request) -> Response {
    let path = req.path();
    if path == "/recurrence/readyz" {
        return match req.method() {
            Method::Get => readiness::check(),
            _ => serve::method_not_allowed("GET"),
        };
    }
    if !serve::is_authorised(&req, &vars::get_or("app_api_token", "")) {
        return serve::unauthorised();
    }
    match (path, req.method()) {
        ("/events/task-events", Method::Post) => events::handle(&req).await,
        ("/events/task-events", _) => serve::method_not_allowed("POST"),
        ("/recurrence/preview", Method::Get) => preview::handle(&req),
        ("/recurrence/preview", _) => serve::method_not_allowed("GET"),
        _ => serve::not_found(),
    }
}
