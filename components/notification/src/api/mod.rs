//! The subscriber API (docs/CONTRACT.md, "Subscriber API"): subscribers,
//! devices and the delivery log, JSON in and out.
//!
//! Conventions of every route here:
//! - Errors are `{"error": {"code", "message"}}` with a 4xx status and a
//!   field-specific code (`invalid_email`, `invalid_cursor`, ...); an
//!   unreachable or failing database is 503 `database_unavailable`, never
//!   a trap.
//! - Times are RFC 3339 in UTC with `Z` (`2026-12-01T08:30:00Z`), with
//!   fractional seconds only when the stored value has them.
//! - A wrong method on a known route is 405 with `allow`, checked before
//!   the path segments are validated.
//!
//! Layout: the rules (paths, bodies, query strings, cursors) are pure, in
//! `notification_api`, and unit-tested there; [`subscribers`],
//! [`devices`] and [`deliveries`] run the SQL, [`error`] turns a refusal
//! into a response; they are tested end to end in
//! `tests/host/tests/notification_api*.rs`.

mod deliveries;
mod devices;
mod error;
mod subscribers;

use notification_api::path::{self, Kind};
use spin_glue::serve;
use spin_sdk::http::{Method, Request, Response};

use error::Refusal;

/// Routes `/notifications/subscribers/...` (already authenticated by the
/// caller). Synchronous: it only talks to Postgres, which is blocking in
/// Spin's API.
pub fn route(req: Request) -> Response {
    dispatch(&req).unwrap_or_else(Refusal::into_response)
}

fn dispatch(req: &Request) -> Result<Response, Refusal> {
    let Some(route) = path::parse(req.path()) else {
        return Ok(serve::not_found());
    };
    match (route.kind, req.method()) {
        (Kind::Subscriber, Method::Get) => subscribers::get(&route.user_id()?),
        (Kind::Subscriber, Method::Put) => subscribers::put(&route.user_id()?, req.body()),
        (Kind::Devices, Method::Post) => devices::register(&route.user_id()?, req.body()),
        (Kind::Device, Method::Delete) => devices::unregister(&route.user_id()?, &route.token()?),
        (Kind::Deliveries, Method::Get) => deliveries::list(&route.user_id()?, req.query()),
        (kind, _) => Ok(serve::method_not_allowed(kind.allowed())),
    }
}
