//! The error value of every HTTP API route of the product (the subscriber
//! API, the rule preview, readiness and metrics), answered as the
//! contract's `{"error": {"code", "message"}}`. Pure: the rules that refuse
//! a request return it, and the component turns it into a response.

use serde_json::{json, Value};

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

    /// A 404 with `code` and `message`.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status: 404,
            code,
            message: message.into(),
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

    /// The response body: `{"error": {"code", "message"}}`.
    pub fn body(&self) -> Value {
        json!({ "error": { "code": self.code, "message": self.message } })
    }
}

#[cfg(test)]
mod tests;
