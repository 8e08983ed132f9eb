//! Delivery bookkeeping: statuses, failure reasons and the attempt budget.
//!
//! These are the decisions taken around each provider call. They are pure
//! so that the retry rules (a transient failure is retried until
//! `max_delivery_attempts` calls were made, then the delivery fails with
//! `attempts_exhausted`) are unit-tested here rather than only end to end.
//!
//! Every provider answer (relay, FCM send, FCM token endpoint) ends up as
//! an [`Attempt`]: "sent", "try again later" ([`Transient`]) or "never
//! going to work" ([`Failure`], with the reason code it is recorded under),
//! so both channels are settled by one rule ([`AttemptPolicy::settle`]).
//! A provider's `Retry-After` (RFC 9110 §10.2.3: delta-seconds or an
//! HTTP-date, sent with 429 and 503) becomes the earliest next attempt.

use std::fmt;
use std::time::Duration;

use jiff::fmt::rfc2822::DateTimeParser;
use jiff::Timestamp;

use crate::config_error::ConfigError;
use crate::provider_http::{header, truncate_detail, ProviderResponse};

todo_contract::wire_names! {
    /// Why a delivery ended in `failed`: the stable snake_case `reason` of
    /// `notification.failed` and of the delivery log. Consumers branch on
    /// these strings, so existing codes never change meaning.
    pub enum ReasonCode ("reason") {
        /// The subscriber has no e-mail address / no registered device for the channel.
        NoAddress = "no_address",
        /// FCM said the device token is unregistered or malformed; the token is deleted.
        InvalidToken = "invalid_token",
        /// The provider refused the message for good (4xx other than rate limits).
        RejectedByProvider = "rejected_by_provider",
        /// Transient failures used up `max_delivery_attempts`.
        AttemptsExhausted = "attempts_exhausted",
        /// The channel is requested but not configured (no `fcm_project_id`,
        /// no `email_from`, unusable provider credentials in configuration).
        ChannelNotConfigured = "channel_not_configured",
        /// The provider rejected our credentials even after a token refresh.
        ProviderAuthFailed = "provider_auth_failed",
    }
}

/// Status of a row in the delivery log (its names are the contract's,
/// spelled once in `todo-contract`).
pub use todo_contract::DeliveryStatus;

/// How a claimed delivery ends this time: the row to write and what to
/// tell Dapr. The whole retry rule in one value, so the component cannot
/// combine the pieces inconsistently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    /// Status to store.
    pub status: DeliveryStatus,
    /// Failure reason to store and publish (`failed` only).
    pub reason: Option<ReasonCode>,
    /// Provider calls made, this one included.
    pub attempts: u32,
    /// Provider message id of a sent delivery.
    pub provider_message_id: Option<String>,
    /// Provider error text for `last_error`.
    pub last_error: Option<String>,
    /// The provider's `Retry-After`, recorded as `next_attempt_at`; only
    /// set when the delivery will be retried.
    pub retry_after: Option<Duration>,
    /// When the outcome was reached, cut to milliseconds (Postgres keeps
    /// microseconds, so the stored `updated_at` and a later re-publish carry
    /// the same instant).
    pub at: Timestamp,
    /// Final: publish `notification.sent` / `notification.failed`.
    pub publish: bool,
    /// Transient: the event needs a RETRY.
    pub retry: bool,
}

impl Settlement {
    /// A claimed delivery that fails without a provider call: its budget is
    /// already spent (the limit was lowered since its last attempt:
    /// `attempts_exhausted`), or its channel cannot be served.
    pub fn without_call(reason: ReasonCode, attempts: u32, now: Timestamp) -> Self {
        Settlement {
            status: DeliveryStatus::Failed,
            reason: Some(reason),
            attempts,
            provider_message_id: None,
            last_error: None,
            retry_after: None,
            at: to_millis(now),
            publish: true,
            retry: false,
        }
    }
}

/// `now` cut to milliseconds.
fn to_millis(now: Timestamp) -> Timestamp {
    Timestamp::from_millisecond(now.as_millisecond()).unwrap_or(now)
}

/// The attempt budget from `max_delivery_attempts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptPolicy {
    max_attempts: u32,
}

impl Default for AttemptPolicy {
    fn default() -> Self {
        AttemptPolicy {
            max_attempts: Self::DEFAULT_MAX_ATTEMPTS,
        }
    }
}

impl AttemptPolicy {
    /// The contract's default for `max_delivery_attempts`.
    pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

    /// A budget of `max_attempts` provider calls per delivery; zero would
    /// mean "never send" and is refused as a configuration error.
    pub fn new(max_attempts: u32) -> Result<Self, ConfigError> {
        if max_attempts == 0 {
            return Err(ConfigError::InvalidMaxAttempts("0".to_owned()));
        }
        Ok(AttemptPolicy { max_attempts })
    }

    /// Parses the Spin variable; empty means the default (5).
    pub fn from_variable(raw: &str) -> Result<Self, ConfigError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(Self::default());
        }
        raw.parse::<u32>()
            .ok()
            .filter(|n| *n >= 1)
            .map(|max_attempts| AttemptPolicy { max_attempts })
            .ok_or_else(|| ConfigError::InvalidMaxAttempts(raw.to_owned()))
    }

    /// `true` once `attempts` provider calls use up the budget.
    pub fn is_spent(self, attempts: u32) -> bool {
        attempts >= self.max_attempts
    }

    /// Settles one provider call made when `attempts_before` calls were
    /// already recorded.
    ///
    /// Sent → `sent`, published; final failure → `failed` with its reason,
    /// published; transient failure → `retrying` and RETRY (waiting for the
    /// provider's `Retry-After`) while the budget lasts, then `failed` /
    /// `attempts_exhausted`, published, and no RETRY (the event is answered
    /// SUCCESS).
    pub fn settle(self, attempts_before: u32, attempt: Attempt, now: Timestamp) -> Settlement {
        let attempts = attempts_before.saturating_add(1);
        let done = |status, reason, provider_message_id, last_error| Settlement {
            status,
            reason,
            attempts,
            provider_message_id,
            last_error,
            retry_after: None,
            at: to_millis(now),
            publish: true,
            retry: false,
        };
        match attempt {
            Attempt::Sent {
                provider_message_id,
            } => done(DeliveryStatus::Sent, None, provider_message_id, None),
            Attempt::Failed(f) => {
                done(DeliveryStatus::Failed, Some(f.reason), None, Some(f.detail))
            }
            Attempt::Transient(t) if self.is_spent(attempts) => done(
                DeliveryStatus::Failed,
                Some(ReasonCode::AttemptsExhausted),
                None,
                Some(t.detail),
            ),
            Attempt::Transient(t) => Settlement {
                status: DeliveryStatus::Retrying,
                retry_after: t.retry_after,
                publish: false,
                retry: true,
                ..done(DeliveryStatus::Retrying, None, None, Some(t.detail))
            },
        }
    }
}

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

    /// A call that could not be made because of the deployment (unusable
    /// variables or service account): retrying the event cannot fix it, so
    /// the delivery fails as `channel_not_configured`, saying why.
    pub fn not_configured(why: &dyn fmt::Display) -> Self {
        Attempt::Failed(Failure::without_response(
            ReasonCode::ChannelNotConfigured,
            &why.to_string(),
        ))
    }

    /// A call that got no answer (refused, lost, timed out): transient.
    pub fn no_answer(why: &dyn fmt::Display) -> Self {
        Attempt::Transient(Transient::transport(&why.to_string()))
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

/// Upper bound applied to any `Retry-After`, so a bogus header (a year away)
/// cannot park a delivery forever; the attempt budget still applies after it.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

static RFC2822: DateTimeParser = DateTimeParser::new();

/// Parses a `Retry-After` value into a wait from `now`.
///
/// Accepts delta-seconds (`"120"`) and the IMF-fixdate form of HTTP-date
/// (`"Wed, 21 Oct 2015 07:28:00 GMT"`, parsed as RFC 2822, which it is a
/// profile of). A date in the past yields zero. The result is capped at
/// [`MAX_RETRY_AFTER`]. Anything unparseable yields `None` (the header is
/// advisory: ignoring a broken one is safer than failing the delivery).
pub fn parse_retry_after(value: &str, now: Timestamp) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        // Digits only: delta-seconds. Overlong numbers saturate to the cap.
        let secs = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER));
    }
    let at = RFC2822.parse_timestamp(value).ok()?;
    let wait = at.duration_since(now);
    if wait.is_negative() {
        return Some(Duration::ZERO);
    }
    let wait = Duration::try_from(wait).ok()?;
    Some(wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests;
