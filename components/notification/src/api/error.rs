//! The API's error value as a response: `ApiError` (the pure value the
//! rules answer with, in `notification_api`) becomes
//! `{"error": {"code", "message"}}`; a database fault is logged and
//! answered 503.

use notification_api::ApiError;
use spin_glue::db::DbFault;
use spin_glue::serve;
use spin_sdk::http::Response;

/// Why a request was not served: a rule's answer, or a database fault.
#[derive(Debug)]
pub enum Refusal {
    /// A 4xx from the input rules (or a 404).
    Api(ApiError),
    /// Postgres is unreachable or failed.
    Database(DbFault),
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Refusal::Api(e)
    }
}

impl From<DbFault> for Refusal {
    fn from(fault: DbFault) -> Self {
        Refusal::Database(fault)
    }
}

impl Refusal {
    /// The contract's error response. The database fault's detail goes to
    /// the log only (it may name hosts), never to the caller.
    pub fn into_response(self) -> Response {
        let e = match self {
            Refusal::Api(e) => e,
            Refusal::Database(fault) => {
                tracing::warn!(
                    reason = "database_unavailable",
                    detail = %fault,
                    "subscriber API: database unavailable"
                );
                ApiError::database_unavailable()
            }
        };
        serve::api_error(&e)
    }
}
