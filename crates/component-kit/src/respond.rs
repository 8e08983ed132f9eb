//! JSON answers, including the contract's error shape
//! `{"error": {"code", "message"}}`.

use dapr_pubsub::{ApiError, AppStatus, BulkResponse};
use serde::Serialize;
use spin_sdk::http::Response;

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

/// A Dapr delivery answer: always HTTP 200, the decision is in the body.
pub fn delivery(status: AppStatus) -> Response {
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(status.to_body())
        .build()
}

/// A Dapr bulk delivery answer: HTTP 200 with one status per entry.
pub fn bulk_delivery(statuses: &BulkResponse) -> Response {
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(statuses.to_body())
        .build()
}
