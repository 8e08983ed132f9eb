//! The subscriber API's rules, pure: which resource a path names
//! ([`path`]), request bodies and query strings ([`input`], with the field
//! rules in [`validate`]), the paging cursor ([`cursor`]), and the error
//! value every rule answers with ([`ApiError`]). The component runs the SQL
//! and turns an [`ApiError`] into the `{"error": {"code", "message"}}`
//! response (docs/CONTRACT.md, "Subscriber API").

pub mod cursor;
pub mod input;
pub mod path;
pub mod validate;

/// Why a request was not served: a status, a stable snake_case code
/// clients can branch on, and a human sentence naming the field or value
/// at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status (4xx, or 503 for an unreachable database).
    pub status: u16,
    /// Stable snake_case code.
    pub code: &'static str,
    /// Human sentence.
    pub message: String,
}

impl ApiError {
    /// A 400 with `code` and `message`.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status: 400,
            code,
            message: message.into(),
        }
    }

    /// A 404 for a subscriber that was never stored.
    pub fn subscriber_not_found(user_id: &str) -> Self {
        ApiError {
            status: 404,
            code: "subscriber_not_found",
            message: format!("no subscriber with user_id {user_id:?}"),
        }
    }

    /// A 503: Postgres is unreachable or failed. Clients should retry; the
    /// fault itself goes to the log only (it may name hosts), never to the
    /// caller.
    pub fn database_unavailable() -> Self {
        ApiError {
            status: 503,
            code: "database_unavailable",
            message: "the database is unavailable; try again later".into(),
        }
    }
}
