//! Failure shapes shared by the e-mail and push classifiers.
//!
//! Every provider answer ends up as "sent", "try again later" or "never going
//! to work". The two failure shapes live here so both channels record them the
//! same way in the delivery log.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::http::{truncate_detail, ProviderResponse};
use crate::retry_after::parse_retry_after;

/// A failure that may succeed later (429, 5xx, timeouts, HTML error pages).
///
/// The caller answers Dapr with RETRY and, when `retry_after` is set, records
/// [`Transient::next_attempt_at`] so a redelivery that arrives earlier does not
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
            status: Some(resp.status),
            retry_after: resp
                .header("retry-after")
                .and_then(|v| parse_retry_after(v, now)),
            detail: truncate_detail(detail),
        }
    }

    /// The earliest time the next attempt should be made, when the provider
    /// said so; `None` means "whenever Dapr redelivers".
    pub fn next_attempt_at(&self, now: Timestamp) -> Option<Timestamp> {
        let wait = SignedDuration::try_from(self.retry_after?).ok()?;
        now.checked_add(wait).ok()
    }
}

/// A failure that retrying cannot fix (other 4xx, rejected sender, bad key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permanent {
    /// HTTP status of the rejection.
    pub status: u16,
    /// The provider's own error message, truncated, for `last_error`.
    pub detail: String,
}

impl Permanent {
    pub(crate) fn new(status: u16, detail: &str) -> Self {
        Permanent {
            status,
            detail: truncate_detail(detail),
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
        let resp = ProviderResponse {
            status: 429,
            headers: vec![("Retry-After".into(), "30".into())],
            body: vec![],
        };
        let t = Transient::from_response(&resp, now(), "slow down");
        assert_eq!(t.retry_after, Some(Duration::from_secs(30)));
        assert_eq!(
            t.next_attempt_at(now()),
            Some("2026-12-01T08:30:30Z".parse().unwrap())
        );
    }

    #[test]
    fn no_retry_after_means_no_next_attempt() {
        let t = Transient::transport("timed out");
        assert_eq!(t.status, None);
        assert_eq!(t.next_attempt_at(now()), None);
        assert_eq!(t.detail, "timed out");
    }
}
