//! What happens to one planned delivery in this request, from its claim to
//! its settlement (pure bookkeeping; the I/O is in `reminder.rs`).

use jiff::Timestamp;
use notification_delivery::{
    AttemptPolicy, DeliveryStatus, NextStep, NotificationOutcome, ReasonCode,
};

use super::claim::Claim;
use super::outcome::{self, Attempt, Settled};
use super::plan::Planned;

/// The state of one delivery within the request.
pub enum Step {
    /// Call the provider (the claim's attempts and lease).
    Call { attempts: u32, lease_until: String },
    /// Settled (by a call, or without one): write it.
    Settle {
        settled: Settled,
        lease_until: String,
    },
    /// Publish an outcome that is already stored.
    Republish(NotificationOutcome),
    /// Final and published.
    Skip(DeliveryStatus),
    /// Held elsewhere or waiting for `Retry-After` (the stored time).
    Busy(Option<String>),
}

impl Step {
    /// What to do with a delivery the claim answered `claim` for.
    pub fn from_claim(
        policy: AttemptPolicy,
        p: &Planned,
        claim: Claim,
        user_id: &str,
        now: Timestamp,
    ) -> Step {
        match claim {
            Claim::Mine {
                status,
                attempts,
                lease_until,
            } => match (p.failure, policy.next_step(status, attempts, None, now)) {
                // The limit was lowered since the last attempt.
                (_, NextStep::GiveUp) => Step::Settle {
                    settled: outcome::fail_without_call(ReasonCode::AttemptsExhausted, attempts),
                    lease_until,
                },
                // A channel that cannot be served, found claimable (only a
                // row written by another version could be): fail, no call.
                (Some(reason), _) => Step::Settle {
                    settled: outcome::fail_without_call(reason, attempts),
                    lease_until,
                },
                (None, _) => Step::Call {
                    attempts,
                    lease_until,
                },
            },
            Claim::Unpublished(stored) => Step::Republish(outcome::outcome_event(
                &p.key,
                user_id,
                stored.status,
                stored.reason,
                stored.provider_message_id,
                stored.attempts,
                stored.at,
            )),
            Claim::Done(status) => Step::Skip(status),
            Claim::Busy { next_attempt_at } => Step::Busy(next_attempt_at),
        }
    }

    /// `true` while the provider still has to be called.
    pub fn is_call(&self) -> bool {
        matches!(self, Step::Call { .. })
    }

    /// Settles a `Call` with the provider's answer (other steps stay).
    pub fn settle(&mut self, policy: AttemptPolicy, attempt: Attempt) {
        if let Step::Call {
            attempts,
            lease_until,
        } = self
        {
            *self = Step::Settle {
                settled: outcome::settle(policy, *attempts, attempt),
                lease_until: std::mem::take(lease_until),
            };
        }
    }

    /// The outcome event to publish now, if any.
    pub fn outcome_event(&self, p: &Planned, user_id: &str) -> Option<NotificationOutcome> {
        match self {
            Step::Settle { settled, .. } if settled.publish => Some(outcome::outcome_event(
                &p.key,
                user_id,
                settled.status,
                settled.reason,
                settled.provider_message_id.clone(),
                settled.attempts,
                settled.at,
            )),
            Step::Republish(event) => Some(event.clone()),
            _ => None,
        }
    }
}
