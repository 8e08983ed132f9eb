//! Delivery bookkeeping: statuses, failure reasons and the attempt budget.
//!
//! These are the decisions the component takes around each provider call.
//! They are pure so that the retry rules of issue 4 are unit-tested here
//! rather than only end to end.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::config::ConfigError;

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

/// What to do with a claimed delivery row when a reminder (re)arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Already `sent` or `failed`: do nothing, the channel counts as handled.
    Skip,
    /// Call the provider now.
    Attempt,
    /// The provider asked us to wait (`Retry-After`) and the time has not come:
    /// answer RETRY without calling it and without spending an attempt.
    WaitUntil(Timestamp),
    /// The budget is spent: mark `failed` with `attempts_exhausted`, publish
    /// `notification.failed`, answer SUCCESS.
    GiveUp,
}

/// After a transient failure: try again on the next delivery, or stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterTransient {
    /// Store `retrying` and answer RETRY so Dapr redelivers.
    Retry,
    /// Store `failed` / `attempts_exhausted`; the event is answered SUCCESS.
    AttemptsExhausted,
}

/// The result of one provider call, reduced to what the bookkeeping needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptResult {
    /// The provider accepted the message.
    Sent,
    /// A transient failure (see [`crate::Transient`]).
    Transient,
    /// A final failure with its reason.
    Failed(ReasonCode),
}

/// How to record an attempt and answer Dapr: the whole retry rule of issue 4
/// in one value, so the component cannot combine the pieces inconsistently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settlement {
    /// Status to store on the delivery row.
    pub status: DeliveryStatus,
    /// Reason to store (and publish) when the status is `failed`.
    pub reason: Option<ReasonCode>,
    /// `true` when the outcome is final: publish `notification.sent` /
    /// `notification.failed`.
    pub publish_outcome: bool,
    /// `true` when this channel needs the event answered RETRY.
    pub retry_event: bool,
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

    /// The configured budget.
    pub fn max_attempts(self) -> u32 {
        self.max_attempts
    }

    /// Decides what to do with a claimed row before calling the provider.
    ///
    /// `attempts` is the number of provider calls already recorded and
    /// `next_attempt_at` the stored earliest retry time, if any.
    pub fn next_step(
        self,
        status: DeliveryStatus,
        attempts: u32,
        next_attempt_at: Option<Timestamp>,
        now: Timestamp,
    ) -> NextStep {
        if status.is_final() {
            return NextStep::Skip;
        }
        if attempts >= self.max_attempts {
            return NextStep::GiveUp;
        }
        match next_attempt_at {
            Some(at) if at > now => NextStep::WaitUntil(at),
            _ => NextStep::Attempt,
        }
    }

    /// Settles one attempt: `attempts_made` includes this call.
    ///
    /// Sent → `sent`, published; permanent failure → `failed` with its
    /// reason, published; transient failure → `retrying` and RETRY while the
    /// budget lasts, then `failed` / `attempts_exhausted`, published, and no
    /// RETRY (the event is answered SUCCESS).
    pub fn settle(self, result: AttemptResult, attempts_made: u32) -> Settlement {
        let done = |status, reason| Settlement {
            status,
            reason,
            publish_outcome: true,
            retry_event: false,
        };
        match result {
            AttemptResult::Sent => done(DeliveryStatus::Sent, None),
            AttemptResult::Failed(reason) => done(DeliveryStatus::Failed, Some(reason)),
            AttemptResult::Transient => match self.after_transient(attempts_made) {
                AfterTransient::Retry => Settlement {
                    status: DeliveryStatus::Retrying,
                    reason: None,
                    publish_outcome: false,
                    retry_event: true,
                },
                AfterTransient::AttemptsExhausted => {
                    done(DeliveryStatus::Failed, Some(ReasonCode::AttemptsExhausted))
                }
            },
        }
    }

    /// Decides after a transient failure; `attempts_made` includes the call
    /// that just failed.
    pub fn after_transient(self, attempts_made: u32) -> AfterTransient {
        if attempts_made >= self.max_attempts {
            AfterTransient::AttemptsExhausted
        } else {
            AfterTransient::Retry
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(AttemptPolicy::from_variable("").unwrap().max_attempts(), 5);
        assert_eq!(
            AttemptPolicy::from_variable(" 3 ").unwrap().max_attempts(),
            3
        );
        assert!(AttemptPolicy::from_variable("0").is_err());
        assert!(AttemptPolicy::from_variable("-1").is_err());
        assert!(AttemptPolicy::from_variable("five").is_err());
        assert!(AttemptPolicy::new(0).is_err());
    }

    #[test]
    fn retry_until_the_budget_is_spent() {
        let p = AttemptPolicy::new(3).unwrap();
        assert_eq!(p.after_transient(1), AfterTransient::Retry);
        assert_eq!(p.after_transient(2), AfterTransient::Retry);
        assert_eq!(p.after_transient(3), AfterTransient::AttemptsExhausted);
        assert_eq!(p.after_transient(7), AfterTransient::AttemptsExhausted);
    }

    #[test]
    fn settlement_of_each_result() {
        let p = AttemptPolicy::new(2).unwrap();
        let sent = p.settle(AttemptResult::Sent, 1);
        assert_eq!(
            sent,
            Settlement {
                status: DeliveryStatus::Sent,
                reason: None,
                publish_outcome: true,
                retry_event: false
            }
        );
        let rejected = p.settle(AttemptResult::Failed(ReasonCode::InvalidToken), 1);
        assert_eq!(rejected.status, DeliveryStatus::Failed);
        assert_eq!(rejected.reason, Some(ReasonCode::InvalidToken));
        assert!(rejected.publish_outcome && !rejected.retry_event);
        let again = p.settle(AttemptResult::Transient, 1);
        assert_eq!(
            again,
            Settlement {
                status: DeliveryStatus::Retrying,
                reason: None,
                publish_outcome: false,
                retry_event: true
            }
        );
        let exhausted = p.settle(AttemptResult::Transient, 2);
        assert_eq!(
            exhausted,
            Settlement {
                status: DeliveryStatus::Failed,
                reason: Some(ReasonCode::AttemptsExhausted),
                publish_outcome: true,
                retry_event: false
            }
        );
    }

    #[test]
    fn next_step_skips_final_rows() {
        let p = AttemptPolicy::default();
        let now = ts("2026-12-01T08:30:00Z");
        assert_eq!(
            p.next_step(DeliveryStatus::Sent, 1, None, now),
            NextStep::Skip
        );
        assert_eq!(
            p.next_step(DeliveryStatus::Failed, 9, None, now),
            NextStep::Skip
        );
    }

    #[test]
    fn next_step_honours_retry_after_and_budget() {
        let p = AttemptPolicy::new(2).unwrap();
        let now = ts("2026-12-01T08:30:00Z");
        let later = ts("2026-12-01T08:31:00Z");
        assert_eq!(
            p.next_step(DeliveryStatus::Pending, 0, None, now),
            NextStep::Attempt
        );
        assert_eq!(
            p.next_step(DeliveryStatus::Retrying, 1, Some(later), now),
            NextStep::WaitUntil(later)
        );
        assert_eq!(
            p.next_step(DeliveryStatus::Retrying, 1, Some(now), now),
            NextStep::Attempt
        );
        assert_eq!(
            p.next_step(DeliveryStatus::Retrying, 2, None, now),
            NextStep::GiveUp
        );
    }
}
