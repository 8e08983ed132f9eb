//! How a component serves one HTTP request: its entry point ([`entry`]:
//! name itself in the logs, handle the request inside its `request` span,
//! answer in one write), the caller check ([`is_authorised`],
//! docs/CONTRACT.md, "Authentication"), and the answers: JSON, the
//! contract's error shape `{"error": {"code", "message"}}`, Dapr's request
//! statuses, and [`send`], which hands an answer to Spin in one piece.

use std::future::Future;

use dapr_pubsub::{AppStatus, BulkResponse};
use serde::Serialize;
use spin_sdk::http::{
    Headers, OutgoingBody, OutgoingResponse, Request, Response, ResponseOutparam,
};
use subtle::ConstantTimeEq;
use todo_contract::ApiError;
use tracing::Instrument;

use crate::log;

/// The entry of a component whose routing is async.
pub async fn entry<F, Fut>(component: &'static str, req: Request, out: ResponseOutparam, route: F)
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    log::init(component);
    let span = log::request_span(&req);
    send(out, route(req).instrument(span).await);
}

/// The entry of a component whose routing is synchronous.
pub fn entry_sync(
    component: &'static str,
    req: Request,
    out: ResponseOutparam,
    route: impl FnOnce(Request) -> Response,
) {
    log::init(component);
    let answer = log::request_span(&req).in_scope(|| route(req));
    send(out, answer);
}

/// The header Dapr sends when its sidecar runs with `APP_API_TOKEN`.
pub const TOKEN_HEADER: &str = "dapr-api-token";

/// True when `app_api_token` is empty (auth off) or the request carries it.
/// Compared in constant time so the token cannot be guessed byte by byte.
pub fn is_authorised(req: &Request, app_api_token: &str) -> bool {
    if app_api_token.is_empty() {
        return true;
    }
    let given = req
        .header(TOKEN_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or(&[]);
    given.ct_eq(app_api_token.as_bytes()).into()
}

/// Hands `res` to Spin with its body written and finished *before*
/// `response-outparam.set`, and with `content-length`.
///
/// Why: spin-sdk's default (`set_with_body`) sets the outparam first and
/// writes the body afterwards, so Spin's hyper sometimes polls in between
/// and writes the head alone, then the body: the late small write waits
/// ~40 ms for the client's delayed ACK (Nagle; Spin 3.6.3 never sets
/// `TCP_NODELAY`). With head, body and end all there at hyper's first poll
/// the answer leaves in one write (bench/FINDINGS.md, section 1).
///
/// The host buffers a body written before `set` without waiting: in
/// wasmtime-wasi-http 42 (Spin 3.6.3 keeps its defaults) `check-write`
/// grants one chunk of up to 1 MiB while its channel has room. Whatever
/// `check-write` does not grant (only a body over that size) is written
/// after `set`, as spin-sdk does, since waiting for room before `set` would
/// wait for a reader that does not exist yet.
pub fn send(out: ResponseOutparam, mut res: Response) {
    let body = std::mem::take(res.body_mut());
    // 204 and 304 carry no body and must not announce one.
    if !matches!(*res.status(), 204 | 304) {
        res.set_header("content-length", body.len().to_string());
    }
    let head = OutgoingResponse::try_from(res).unwrap_or_else(|_| bare(500));
    let Ok(outgoing) = head.body() else {
        return out.set(head);
    };
    let Ok(stream) = outgoing.write() else {
        return out.set(head);
    };
    let mut rest: &[u8] = &body;
    while !rest.is_empty() {
        let granted = match stream.check_write() {
            Ok(0) | Err(_) => break,
            Ok(n) => usize::try_from(n).unwrap_or(usize::MAX).min(rest.len()),
        };
        let (now, later) = rest.split_at(granted);
        if stream.write(now).is_err() {
            break;
        }
        rest = later;
    }
    if rest.is_empty() {
        drop(stream);
        // A failed finish (a short body) makes the host abort the answer.
        let _ = OutgoingBody::finish(outgoing, None);
        return out.set(head);
    }
    out.set(head);
    // `blocking-write-and-flush` takes at most 4096 bytes per call.
    for chunk in rest.chunks(4096) {
        if stream.blocking_write_and_flush(chunk).is_err() {
            break;
        }
    }
    drop(stream);
    let _ = OutgoingBody::finish(outgoing, None);
}

/// A head with no headers, for when our own headers cannot be converted
/// (never expected: every header here is a constant or a number).
fn bare(status: u16) -> OutgoingResponse {
    let head = OutgoingResponse::new(Headers::new());
    let _ = head.set_status_code(status);
    head
}

/// A JSON response with the given status.
pub fn json<T: Serialize>(status: u16, body: &T) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"null".to_vec());
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(bytes)
        .build()
}

/// The answer for a refused request (the rules return [`ApiError`]).
pub fn api_error(e: &ApiError) -> Response {
    json(e.status, &e.body())
}

/// An API error: `code` is stable snake_case, `message` a human sentence.
pub fn error(status: u16, code: &str, message: impl Into<String>) -> Response {
    json(
        status,
        &serde_json::json!({ "error": { "code": code, "message": message.into() } }),
    )
}

/// 401 for a missing or wrong `dapr-api-token`.
pub fn unauthorised() -> Response {
    error(
        401,
        "unauthorized",
        "missing or wrong dapr-api-token header",
    )
}

/// 404 for a path this component does not serve.
pub fn not_found() -> Response {
    error(404, "not_found", "no such route")
}

/// 405 with the methods the route does accept.
pub fn method_not_allowed(allowed: &str) -> Response {
    let mut res = error(405, "method_not_allowed", format!("use {allowed}"));
    res.set_header("allow", allowed);
    res
}

/// 204 with no body.
pub fn no_content() -> Response {
    Response::builder().status(204).build()
}

/// A Dapr request answer: always HTTP 200, the decision is in the body.
pub fn dapr_status(status: AppStatus) -> Response {
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(status.to_body())
        .build()
}

/// A Dapr bulk request answer: HTTP 200 with one status per entry.
pub fn dapr_bulk_status(statuses: &BulkResponse) -> Response {
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(statuses.to_body())
        .build()
}
