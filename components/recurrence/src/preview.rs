//! `GET /recurrence/preview?rule=&start=&timezone=&count=`: the next N
//! dates of a rule, for a UI; what the query means is decided in
//! `recurrence_core::preview`.

use recurrence_core::preview::occurrences;
use spin_glue::serve;
use spin_sdk::http::{Request, Response};

/// Answers the route: 200 `{"occurrences": [...]}` or 400 with the error.
pub fn handle(req: &Request) -> Response {
    match occurrences(req.query()) {
        Ok(dates) => serve::json(200, &serde_json::json!({ "occurrences": dates })),
        Err(e) => serve::api_error(&e),
    }
}
