//! The reminder scheduler (docs/CONTRACT.md, "Scheduler"): a Dapr
//! `bindings.cron` input binding named `reminder-scheduler` POSTs
//! `/scheduler/tick`, and each tick publishes the due reminders of `tasks`
//! as `reminder.due`, oldest first, each recorded in `scheduled_reminders`.
//!
//! The same component serves `POST /retention/prune` (the cron binding
//! `retention`, docs/CONTRACT.md "Retention"), in `retention/`.
//!
//! A thin adapter: routing and auth here, the tick's steps in `tick.rs`,
//! the SQL in `store.rs`, and every decision (lateness, batch, CloudEvent
//! id, payload, answer) in the plain `scheduler-core` crate.
//!
//! # Decisions
//!
//! - **One tick at a time:** a tick that finds something due takes a
//!   session advisory lock (`pg_try_advisory_lock`), then reads the due
//!   reminders again. The second read is the "re-check after locking" of
//!   the contract: it starts after the previous holder recorded and
//!   committed its rows, so concurrent replicas never publish a reminder
//!   twice; a tick that finds the lock taken answers at once. A crash
//!   between publish and record leaves the reminder unrecorded and the next
//!   tick republishes it with the same CloudEvent id. Spin's Postgres pool
//!   recycles connections with `pg_advisory_unlock_all()`, so even a trap
//!   cannot leave the lock held; no transaction ever spans a publish.
//! - **Cheap when idle, whatever the history:** the first read needs no
//!   lock and, with nothing due, is the only statement (one descent of the
//!   primary key of `scheduler_due_queue`, migration 0007, which a trigger
//!   on `tasks` fills; why a queue: `tick.rs`).
//! - **Times** travel as epoch microseconds, so ids and payloads are exact
//!   whatever the database session's time zone.

mod retention;
mod store;
mod tick;

use spin_glue::{readiness, serve, vars};
use spin_sdk::http::{Method, Request, Response};

/// The cron binding's route.
const TICK: &str = "/scheduler/tick";
/// The `retention` cron binding's route.
const PRUNE: &str = "/retention/prune";
/// Readiness of a pod that runs only the scheduler (split deployment):
/// like the other services' readyz, open to probes without a token.
const READYZ: &str = "/scheduler/readyz";

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
        spin_glue::serve::entry("scheduler", req, out, super::route).await;
    }
}

/// `OPTIONS` is Dapr's start-up probe of a binding route (it binds only on
/// a 2xx or 405) and does nothing, so it needs no token; `POST` does.
async fn route(req: Request) -> Response {
    if req.path() == READYZ {
        return match req.method() {
            Method::Get => readiness::check(),
            _ => serve::method_not_allowed("GET"),
        };
    }
    let path = req.path();
    if path != TICK && path != PRUNE {
        return serve::not_found();
    }
    if *req.method() == Method::Options {
        return Response::builder().status(200).build();
    }
    if !serve::is_authorised(&req, &vars::get_or("app_api_token", "")) {
        return serve::unauthorised();
    }
    match req.method() {
        Method::Post if path == PRUNE => retention::handle(),
        Method::Post => tick::handle(&req).await,
        _ => serve::method_not_allowed("POST, OPTIONS"),
    }
}
