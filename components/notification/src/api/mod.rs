//! The subscriber API (CONTRACT.md, section 3): subscribers, devices and the
//! delivery log.

use component_kit::respond;
use spin_sdk::http::{Request, Response};

/// Routes `/notifications/subscribers/...`.
pub fn route(_req: Request) -> Response {
    respond::error(501, "not_implemented", "the subscriber API is not implemented yet")
}
