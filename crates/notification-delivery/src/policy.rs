//! Delivery bookkeeping: statuses, failure reasons and the attempt budget.
//!
//! These are the decisions taken around each provider call. They are pure
//! so that the retry rules (a transient failure is retried until
//! `max_delivery_attempts` calls were made, then the delivery fails with
//! `attempts_exhausted`) are unit-tested here rather than only end to end.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::attempt::Attempt;
use crate::settings::ConfigError;

/// Why a delivery ended in `failed`: the stable snake_case `reason` of
/// `notification.failed` and of the delivery log.
///
/// Consumers branch on these strings, so existing codes never change meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// The subscriber has no e-mail address / no registered device for the channel.
    NoAddress,
    /// FCM said the device token is unregistered or malformed; the token is deleted.
    InvalidToken,
    /// The provider refused the message for good (4xx other than rate limits).
    RejectedByProvider,
    /// Transient failures used up `max_delivery_attempts`.
    AttemptsExhausted,
    /// The channel is requested but not configured (no `fcm_project_id`,
    /// no `email_from`, unusable provider credentials in configuration).
    ChannelNotConfigured,
    /// The provider rejected our credentials even after a token refresh.
    ProviderAuthFailed,
}

impl ReasonCode {
    /// The wire code, e.g. `"attempts_exhausted"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::NoAddress => "no_address",
            ReasonCode::InvalidToken => "invalid_token",
            ReasonCode::RejectedByProvider => "rejected_by_provider",
            ReasonCode::AttemptsExhausted => "attempts_exhausted",
            ReasonCode::ChannelNotConfigured => "channel_not_configured",
            ReasonCode::ProviderAuthFailed => "provider_auth_failed",
        }
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Status of a row in the delivery log, as the contract's API exposes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Claimed, provider not yet answered.
    Pending,
    /// A transient failure happened; the next redelivery tries again.
    Retrying,
    /// The provider accepted the message (final).
    Sent,
    /// Given up, see the reason (final).
    Failed,
}

impl DeliveryStatus {
    /// The wire/SQL name (`"pending"`, `"retrying"`, `"sent"`, `"failed"`).
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Retrying => "retrying",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Failed => "failed",
        }
    }

    /// `sent` and `failed` never change again: a redelivered reminder skips them.
    pub fn is_final(self) -> bool {
        matches!(self, DeliveryStatus::Sent | DeliveryStatus::Failed)
    }
}

impl fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status string read back from the database that this crate does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown delivery status {0:?}")]
pub struct UnknownStatus(pub String);

impl FromStr for DeliveryStatus {
    type Err = UnknownStatus;

    /// Parses the SQL/wire name, for rows read back from Postgres.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pending" => Ok(DeliveryStatus::Pending),
            "retrying" => Ok(DeliveryStatus::Retrying),
            "sent" => Ok(DeliveryStatus::Sent),
            "failed" => Ok(DeliveryStatus::Failed),
            other => Err(UnknownStatus(other.to_owned())),
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attempt::{Failure, Transient};

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn reason_codes_are_stable_snake_case() {
        let all = [
            (ReasonCode::NoAddress, "no_address"),
            (ReasonCode::InvalidToken, "invalid_token"),
            (ReasonCode::RejectedByProvider, "rejected_by_provider"),
            (ReasonCode::AttemptsExhausted, "attempts_exhausted"),
            (ReasonCode::ChannelNotConfigured, "channel_not_configured"),
            (ReasonCode::ProviderAuthFailed, "provider_auth_failed"),
        ];
        for (code, text) in all {
            assert_eq!(code.as_str(), text);
            assert_eq!(serde_json::to_string(&code).unwrap(), format!("\"{text}\""));
        }
    }

    #[test]
    fn statuses_round_trip() {
        for s in [
            DeliveryStatus::Pending,
            DeliveryStatus::Retrying,
            DeliveryStatus::Sent,
            DeliveryStatus::Failed,
        ] {
            assert_eq!(s.as_str().parse::<DeliveryStatus>(), Ok(s));
        }
        assert!("done".parse::<DeliveryStatus>().is_err());
        assert!(DeliveryStatus::Sent.is_final());
        assert!(!DeliveryStatus::Retrying.is_final());
    }

    #[test]
    fn variable_parsing() {
        assert_eq!(
            AttemptPolicy::from_variable("").unwrap(),
            AttemptPolicy::new(5).unwrap()
        );
        assert_eq!(
            AttemptPolicy::from_variable(" 3 ").unwrap(),
            AttemptPolicy::new(3).unwrap()
        );
        assert!(AttemptPolicy::from_variable("0").is_err());
        assert!(AttemptPolicy::from_variable("-1").is_err());
        assert!(AttemptPolicy::from_variable("five").is_err());
        assert!(AttemptPolicy::new(0).is_err());
    }

    fn now() -> Timestamp {
        ts("2026-12-01T08:30:00.123456Z")
    }

    #[test]
    fn retry_until_the_budget_is_spent() {
        let p = AttemptPolicy::new(3).unwrap();
        let busy = || Attempt::Transient(Transient::transport("HTTP 503"));
        assert!(p.settle(0, busy(), now()).retry);
        assert!(p.settle(1, busy(), now()).retry);
        assert_eq!(
            p.settle(2, busy(), now()).reason,
            Some(ReasonCode::AttemptsExhausted)
        );
        assert_eq!(
            p.settle(6, busy(), now()).reason,
            Some(ReasonCode::AttemptsExhausted)
        );
    }

    #[test]
    fn settlement_of_each_result() {
        let p = AttemptPolicy::new(2).unwrap();
        let sent = p.settle(
            0,
            Attempt::Sent {
                provider_message_id: Some("m-1".into()),
            },
            now(),
        );
        assert_eq!(
            sent,
            Settlement {
                status: DeliveryStatus::Sent,
                reason: None,
                attempts: 1,
                provider_message_id: Some("m-1".into()),
                last_error: None,
                retry_after: None,
                at: ts("2026-12-01T08:30:00.123Z"),
                publish: true,
                retry: false
            }
        );
        let rejected = p.settle(
            0,
            Attempt::Failed(Failure::without_response(ReasonCode::InvalidToken, "gone")),
            now(),
        );
        assert_eq!(rejected.status, DeliveryStatus::Failed);
        assert_eq!(rejected.reason, Some(ReasonCode::InvalidToken));
        assert_eq!(rejected.last_error.as_deref(), Some("gone"));
        assert!(rejected.publish && !rejected.retry);
        let mut slow = Transient::transport("HTTP 429");
        slow.retry_after = Some(Duration::from_secs(30));
        let again = p.settle(0, Attempt::Transient(slow.clone()), now());
        assert_eq!(
            (
                again.status,
                again.reason,
                again.attempts,
                again.publish,
                again.retry
            ),
            (DeliveryStatus::Retrying, None, 1, false, true)
        );
        assert_eq!(again.retry_after, Some(Duration::from_secs(30)));
        assert_eq!(again.last_error.as_deref(), Some("HTTP 429"));
        let exhausted = p.settle(1, Attempt::Transient(slow), now());
        assert_eq!(
            (
                exhausted.status,
                exhausted.reason,
                exhausted.publish,
                exhausted.retry
            ),
            (
                DeliveryStatus::Failed,
                Some(ReasonCode::AttemptsExhausted),
                true,
                false
            )
        );
        // Only a delivery that will be retried waits for the provider.
        assert_eq!(exhausted.retry_after, None);
    }

    #[test]
    fn failing_without_a_call() {
        let s = Settlement::without_call(ReasonCode::AttemptsExhausted, 5, now());
        assert_eq!(
            (s.status, s.reason, s.attempts, s.publish, s.retry),
            (
                DeliveryStatus::Failed,
                Some(ReasonCode::AttemptsExhausted),
                5,
                true,
                false
            )
        );
        assert_eq!(s.at, ts("2026-12-01T08:30:00.123Z"));
    }

    #[test]
    fn the_budget_is_spent_at_max_attempts() {
        let p = AttemptPolicy::new(2).unwrap();
        assert!(!p.is_spent(0));
        assert!(!p.is_spent(1));
        assert!(p.is_spent(2));
    }
}
