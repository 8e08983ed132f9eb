//! What every component's entry point does the same way: name itself in
//! the logs, handle the request inside its `request` span, and answer in
//! one write ([`respond::send`]: no split writes, no delayed-ACK stall).

use std::future::Future;

use spin_sdk::http::{Request, Response, ResponseOutparam};
use tracing::Instrument;

use crate::{log, respond};

/// The entry of a component whose routing is async.
pub async fn serve<F, Fut>(component: &'static str, req: Request, out: ResponseOutparam, route: F)
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    log::init(component);
    let span = log::request_span(&req);
    respond::send(out, route(req).instrument(span).await);
}

/// The entry of a component whose routing is synchronous.
pub fn serve_sync(
    component: &'static str,
    req: Request,
    out: ResponseOutparam,
    route: impl FnOnce(Request) -> Response,
) {
    log::init(component);
    let answer = log::request_span(&req).in_scope(|| route(req));
    respond::send(out, answer);
}
