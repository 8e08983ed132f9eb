//! The API's error value: a status, a stable snake_case code and a human
//! sentence (CONTRACT.md, section 3: `{"error": {"code", "message"}}`).
//!
//! Pure, so validation can return it and be tested natively; only
//! [`ApiError::into_response`] touches Spin.

use component_kit::db::DbFault;
use component_kit::{log, respond};
use spin_sdk::http::Response;

/// Why a request was not served. Validation builds 4xx ones; the database
/// glue builds the 503.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status (4xx, or 503 for an unreachable database).
    pub status: u16,
    /// Stable snake_case code clients can branch on.
    pub code: &'static str,
    /// Human sentence naming the field or value at fault.
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
    /// detail goes to the log only (it may name hosts), never to the caller.
    pub fn database(fault: &DbFault) -> Self {
        log::warn(
            "subscriber API: database unavailable",
            serde_json::json!({"reason": "database_unavailable", "detail": fault.0}),
        );
        ApiError {
            status: 503,
            code: "database_unavailable",
            message: "the database is unavailable; try again later".into(),
        }
    }

    /// The contract's error response.
    pub fn into_response(self) -> Response {
        respond::error(self.status, self.code, self.message)
    }
}

impl From<DbFault> for ApiError {
    fn from(fault: DbFault) -> Self {
        ApiError::database(&fault)
    }
}
