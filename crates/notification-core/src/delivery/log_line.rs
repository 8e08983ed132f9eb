//! The one structured log line of a delivery: what happened to it this
//! time ([`Action`]), at a level that follows from it, with ids, channel,
//! status and reason, and never the address or token in clear.

use serde_json::{json, Value};
use tracing::Level;

use super::{masked_recipient, scrub, Delivery, Step};
use crate::policy::{DeliveryStatus, ReasonCode};

todo_contract::wire_names! {
    /// What this request did with a delivery: the log line's `action`.
    pub enum Action ("action") {
        /// Claimed and waiting for its call (not logged: nothing happened).
        Pending = "pending",
        /// The provider accepted it.
        Sent = "sent",
        /// Given up (see the reason).
        Failed = "failed",
        /// A transient failure; the next redelivery tries again.
        Retrying = "retrying",
        /// Settled, but its outcome event could not be published.
        PublishFailed = "publish_failed",
        /// Final earlier; its outcome event is published now.
        Republished = "republished",
        /// Final and published earlier: nothing to do.
        Skipped = "skipped",
        /// In flight in another handler, or waiting for `Retry-After`.
        Busy = "busy",
    }
}

impl Action {
    /// What a settlement to `status` did.
    fn of(status: DeliveryStatus) -> Self {
        match status {
            DeliveryStatus::Pending => Action::Pending,
            DeliveryStatus::Retrying => Action::Retrying,
            DeliveryStatus::Sent => Action::Sent,
            DeliveryStatus::Failed => Action::Failed,
        }
    }

    /// `warn` for what an operator should look at when it persists (a
    /// retry, a lost publish, a delivery held elsewhere); `info` otherwise.
    pub fn level(self) -> Level {
        match self {
            Action::Busy | Action::Retrying | Action::PublishFailed => Level::WARN,
            _ => Level::INFO,
        }
    }
}

impl Delivery {
    /// The one structured log line of this delivery: its level and fields.
    /// `not_configured` says why the channel is not configured, for a
    /// `channel_not_configured` failure. `None` for a delivery still
    /// waiting for its call (it has nothing to say).
    pub fn log_line(&self, event_id: &str, not_configured: Option<&str>) -> Option<(Level, Value)> {
        let config_error = |reason: Option<ReasonCode>| {
            not_configured.filter(|_| reason == Some(ReasonCode::ChannelNotConfigured))
        };
        let publish_error = self.publish_error.as_deref();
        let until = match &self.step {
            Step::Busy(Some(until)) => Some(format!("next attempt or lease at {until}")),
            _ => None,
        };
        let (status, reason, attempts, action, error) = match &self.step {
            Step::Settle { settlement: s, .. } => (
                Some(s.status),
                s.reason,
                Some(s.attempts),
                if s.publish && publish_error.is_some() {
                    Action::PublishFailed
                } else if s.retry {
                    Action::Retrying
                } else {
                    Action::of(s.status)
                },
                publish_error
                    .or(s.last_error.as_deref())
                    .or_else(|| config_error(s.reason)),
            ),
            Step::Republish(o) => {
                let status = if o.reason.is_some() {
                    DeliveryStatus::Failed
                } else {
                    DeliveryStatus::Sent
                };
                let action = match publish_error {
                    Some(_) => Action::PublishFailed,
                    // Recorded as failed by the claim just now.
                    None if o.attempts == 0 => Action::of(status),
                    None => Action::Republished,
                };
                let error = publish_error.or_else(|| config_error(o.reason));
                (Some(status), o.reason, Some(o.attempts), action, error)
            }
            Step::Skip(status) => (Some(*status), None, None, Action::Skipped, None),
            Step::Busy(_) => (None, None, None, Action::Busy, until.as_deref()),
            Step::Planned | Step::Call { .. } => return None,
        };
        let fields = json!({
            "event_id": event_id,
            "delivery_id": self.id,
            "task_id": self.key.task_id().to_string(),
            "channel": self.key.channel().as_str(),
            "recipient": masked_recipient(&self.key),
            "status": status.map(DeliveryStatus::as_str),
            "reason": reason.map(ReasonCode::as_str),
            "attempts": attempts,
            "action": action.as_str(),
            "error": error.map(|e| scrub(e, &self.key)),
        });
        Some((action.level(), fields))
    }
}
