//! Notification Service: `reminder.due` -> e-mail and push, each channel
//! exactly once, with a delivery log and outcome events; plus the subscriber
//! API. The imperative shell: routing, SQL and I/O live here; every decision
//! lives in the `notification-core` crate, and the Spin glue shared with
//! the other services in `spin-glue`.

mod api;
mod events;

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
        spin_glue::serve::entry("notification", req, out, super::route).await;
    }
}

/// Readiness and Dapr's binding probe are open; every other route needs
/// `app_api_token` when it is set. Runs inside the request's log span.
async fn route(req: Request) -> Response {
    let path = req.path().to_owned();
    if path == "/notifications/readyz" {
        return match req.method() {
            Method::Get => readiness::check(),
            _ => serve::method_not_allowed("GET"),
        };
    }
    // Dapr probes a binding route with OPTIONS at start-up and binds only on
    // a 2xx/405; the probe does nothing, so it needs no token.
    if path == "/outbox-flush" && *req.method() == Method::Options {
        return events::outbox::route(req).await;
    }
    if !serve::is_authorised(&req, &vars::get_or("app_api_token", "")) {
        return serve::unauthorised();
    }
    match path.as_str() {
        "/events/reminders" => events::reminder::handle(req).await,
        "/outbox-flush" => events::outbox::route(req).await,
        p if p.starts_with("/notifications/subscribers/") => api::route(req),
        _ => serve::not_found(),
    }
}
