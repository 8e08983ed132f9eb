//! `GET /dapr/subscribe`: the topics of the services named in
//! `dapr_services`, so one Spin app can run as one Dapr app or be split per
//! component with one sidecar each, each asking for bulk requests of
//! `bulk_max_messages` events (`0`: one event per request) waiting at most
//! `bulk_max_await_ms` (docs/CONTRACT.md, "Dapr behaviour").

use dapr_pubsub::BulkSubscribe;
use spin_glue::{serve, vars};
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
    fn handle(req: Request, out: ResponseOutparam) {
        spin_glue::serve::entry_sync("subscriptions", req, out, super::route);
    }
}

/// Serves the subscription list, inside the request's log span.
fn route(req: Request) -> Response {
    if !serve::is_authorised(&req, &vars::get_or("app_api_token", "")) {
        return serve::unauthorised();
    }
    if *req.method() != Method::Get {
        return serve::method_not_allowed("GET");
    }
    let services = vars::get_or("dapr_services", "notification,recurrence");
    let pubsub = vars::get_or("pubsub_name", "kafka-pubsub");
    let (bulk, unusable) = BulkSubscribe::from_settings(
        &vars::get_or("bulk_max_messages", "100"),
        &vars::get_or("bulk_max_await_ms", "1000"),
    );
    for e in &unusable {
        tracing::warn!(reason = "invalid_configuration", detail = %e, "bulk setting replaced");
    }
    match dapr_pubsub::subscriptions_for(&services, &pubsub, bulk) {
        Ok(subs) => serve::json(200, &subs),
        Err(err) => {
            tracing::warn!(
                reason = "unknown_service",
                service = %err.0,
                "dapr_services names an unknown service"
            );
            serve::json(
                500,
                &serde_json::json!({"error": {"code": "unknown_service", "message": err.to_string()}}),
            )
        }
    }
}
