//! Why a channel or the delivery policy cannot be configured from the Spin
//! variables. A leaf: the modules that read configuration (`settings`) and
//! those that report it (`policy`, `email`, `fcm`) all name it without
//! importing each other. Messages name variables, never secret values.

/// A Spin variable holds a value the delivery policy cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `email_provider` is not `resend`, `sendgrid` or `mailpit`.
    #[error("email_provider {0:?} is not one of \"resend\", \"sendgrid\", \"mailpit\"")]
    UnknownEmailProvider(String),
    /// A `*_base` variable is not `http(s)://host[:port]`.
    #[error("{variable} must be an http(s) URL like scheme://host[:port], got {value:?}")]
    InvalidBaseUrl {
        /// Name of the Spin variable.
        variable: &'static str,
        /// The rejected value (base URLs are not secret).
        value: String,
    },
    /// A required variable is empty.
    #[error("{0} must be set")]
    Missing(&'static str),
    /// A value that goes into an HTTP header has control or non-ASCII characters.
    #[error("{0} contains characters that cannot be sent in an HTTP header")]
    InvalidHeaderValue(&'static str),
    /// `max_delivery_attempts` is not a positive integer.
    #[error("max_delivery_attempts must be an integer >= 1, got {0:?}")]
    InvalidMaxAttempts(String),
    /// `fcm_project_id` is empty, which disables push.
    #[error("fcm_project_id is empty: push is disabled")]
    PushDisabled,
    /// `fcm_service_account_json` has no usable `client_email`.
    #[error("fcm_service_account_json has no usable client_email")]
    NoClientEmail,
    /// `fcm_project_id` has characters a Firebase project id cannot have.
    #[error("fcm_project_id {0:?} is not a valid project id")]
    InvalidProjectId(String),
}
