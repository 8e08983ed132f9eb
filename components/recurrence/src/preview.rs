//! `GET /recurrence/preview?rule=&start=&timezone=&count=`: the next N
//! dates of a rule, for a UI; what the query means is decided in
//! `recurrence_planning::preview`.

use component_kit::serve;
use recurrence_planning::preview::occurrences;
use spin_sdk::http::{Request, Response};

/// Answers the route: 200 `{"occurrences": [...]}` or 400 with the error.
pub fn handle(req: &Request) -> Response {
    match occurrences(req.query()) {
        Ok(dates) => serve::json(200, &serde_json::json!({ "occurrences": dates })),
        Err(e) => serve::api_error(&e),
    }
}
