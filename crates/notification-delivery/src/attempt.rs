//! What one provider call amounted to, on either channel: [`Attempt`].
//!
//! Every provider answer (relay, FCM send, FCM token endpoint) ends up as
//! "sent", "try again later" ([`Transient`]) or "never going to work"
//! ([`Failure`], with the reason code it is recorded under), so both channels
//! are settled by one rule ([`crate::AttemptPolicy::settle`]).

use std::time::Duration;

use jiff::Timestamp;

use crate::http::{header, truncate_detail, ProviderResponse};
use crate::policy::ReasonCode;
use crate::retry_after::parse_retry_after;

/// A failure that may succeed later (429, 5xx, timeouts, HTML error pages).
///
/// The caller answers Dapr with RETRY and, when `retry_after` is set, records
/// the earliest next attempt so a redelivery that arrives earlier does not
/// hammer the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transient {
    /// HTTP status, or `None` when no response arrived (timeout, refused).
    pub status: Option<u16>,
    /// The provider's `Retry-After`, already converted into a wait.
    pub retry_after: Option<Duration>,
    /// Short, truncated description for the delivery log (`last_error`).
    pub detail: String,
}

impl Transient {
    /// A transport-level failure (timeout, connection refused, TLS): the
    /// adapter has no response to classify but must still retry.
    pub fn transport(detail: &str) -> Self {
        Transient {
            status: None,
            retry_after: None,
            detail: truncate_detail(detail),
        }
    }

    /// Builds a transient failure from a response, reading its `Retry-After`.
    pub(crate) fn from_response(resp: &ProviderResponse, now: Timestamp, detail: &str) -> Self {
        Transient {
            status: Some(resp.status().as_u16()),
            retry_after: header(resp.headers(), "retry-after")
                .and_then(|v| parse_retry_after(v, now)),
            detail: truncate_detail(detail),
        }
    }
}

/// A failure that retrying cannot fix (other 4xx, rejected sender, dead
/// device token, refused credentials, a channel that cannot be served).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The reason the delivery is recorded and announced as failed with.
    pub reason: ReasonCode,
    /// HTTP status of the rejection, `None` when no provider answered.
    pub status: Option<u16>,
    /// The provider's own error message, truncated, for `last_error`.
    pub detail: String,
}

impl Failure {
    /// A failure without a provider answer (configuration, not the event).
    pub fn without_response(reason: ReasonCode, detail: &str) -> Self {
        Failure {
            reason,
            status: None,
            detail: truncate_detail(detail),
        }
    }

    pub(crate) fn new(reason: ReasonCode, status: u16, detail: &str) -> Self {
        Failure {
            reason,
            status: Some(status),
            detail: truncate_detail(detail),
        }
    }
}

/// What one provider call amounted to, whatever the channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The provider accepted the message.
    Sent {
        /// The provider's id for it (`id`, `X-Message-Id`, FCM's `name`).
        provider_message_id: Option<String>,
    },
    /// Worth retrying (429, 5xx, timeouts, transport errors).
    Transient(Transient),
    /// Final failure.
    Failed(Failure),
}

impl Attempt {
    /// A final failure with a provider's answer.
    pub(crate) fn failed(reason: ReasonCode, status: u16, detail: &str) -> Self {
        Attempt::Failed(Failure::new(reason, status, detail))
    }

    /// The failure reason to record if this attempt ends the delivery.
    pub fn reason(&self) -> Option<ReasonCode> {
        match self {
            Attempt::Sent { .. } | Attempt::Transient(_) => None,
            Attempt::Failed(f) => Some(f.reason),
        }
    }

    /// Text for the delivery log's `last_error` (`None` when sent).
    pub fn last_error(&self) -> Option<&str> {
        match self {
            Attempt::Sent { .. } => None,
            Attempt::Transient(t) => Some(&t.detail),
            Attempt::Failed(f) => Some(&f.detail),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-12-01T08:30:00Z".parse().unwrap()
    }

    #[test]
    fn retry_after_header_becomes_next_attempt() {
        let resp = crate::http::test_response(429, &[("Retry-After", "30")], "");
        let t = Transient::from_response(&resp, now(), "slow down");
        assert_eq!(t.retry_after, Some(Duration::from_secs(30)));
    }

    #[test]
    fn no_retry_after_means_no_next_attempt() {
        let t = Transient::transport("timed out");
        assert_eq!(t.status, None);
        assert_eq!(t.retry_after, None);
        assert_eq!(t.detail, "timed out");
    }
}
