//! Notification Service (placeholder until its issue lands): readiness
//! works, the event and API routes answer 501.

use component_kit::{auth, readiness, respond, vars};
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(req: Request) -> Response {
    if req.path() == "/notifications/readyz" {
        return readiness::check();
    }
    if !auth::is_authorised(&req, &vars::get_or("app_api_token", "")) {
        return respond::unauthorised();
    }
    respond::error(501, "not_implemented", "this route is not implemented yet")
}
