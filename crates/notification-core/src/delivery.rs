//! One `reminder.due`, decided: which deliveries it consists of, what the
//! claim of each means, how a provider's answer settles it, which rows and
//! outcome events that produces, its log line, and the answer to Dapr.
//!
//! A [`Delivery`] carries one delivery through the handler; its [`Step`]
//! says where it stands. The component only runs the three SQL statements
//! (lookup, claim, record), the provider calls and the publishes between
//! them, feeding each result back into the deliveries:
//!
//! ```text
//! plan(lookup) -> claim rows -> apply_claims -> needs_call? -> settle(attempt)
//!   -> outcome_event -> published(result) -> record_row / dead_token
//!   -> log_line -> retry_reason
//! ```

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::events::{NotificationOutcome, ReminderDue};
use crate::fcm::AccessToken;
use crate::keys::BusinessKey;
use crate::keys::Channel;
use crate::keys::{mask_email, mask_token};
use crate::policy::Attempt;
use crate::policy::{AttemptPolicy, DeliveryStatus, ReasonCode, Settlement};

/// Most device tokens pushed per reminder. FCM has no batch send, so each
/// token is one request; a bound keeps one reminder inside Dapr's delivery
/// timeout. Beyond it the oldest registrations win (and a log line says so).
pub const MAX_DEVICES: usize = 100;

/// How long a claim keeps a delivery to itself: longer than Dapr's delivery
/// timeout (30 s) plus the outbound deadlines, so a slow but live handler is
/// never overtaken; short enough that a crashed attempt is retried within
/// Dapr's retry window (about five minutes).
pub const LEASE_SECS: u32 = 60;

/// What the database knows about a reminder's recipient (the lookup row).
#[derive(Debug, Default, Deserialize)]
pub struct Lookup {
    /// `None` for an unknown subscriber.
    pub subscriber: Option<Recipient>,
    /// Registered FCM tokens, oldest first, at most [`MAX_DEVICES`].
    #[serde(default)]
    pub devices: Vec<String>,
    /// The cached FCM access token of the service account, if any.
    pub fcm_token: Option<CachedToken>,
}

impl Lookup {
    /// The zone the due time is rendered in (`UTC` for an unknown subscriber).
    pub fn timezone(&self) -> &str {
        self.subscriber
            .as_ref()
            .map_or("UTC", |s| s.timezone.as_str())
    }
}

/// The subscriber columns the event path reads.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Recipient {
    /// E-mail address; `None` or empty: no e-mail channel.
    pub email: Option<String>,
    /// IANA zone for rendering the due time.
    #[serde(default)]
    pub timezone: String,
    /// Enabled channel names as stored.
    #[serde(default)]
    pub channels: Vec<String>,
}

impl Recipient {
    /// The enabled channels this service knows (unknown names are ignored:
    /// the API validates them, and a stray value must not block a reminder).
    pub fn enabled_channels(&self) -> Vec<Channel> {
        let mut out = Vec::new();
        for name in &self.channels {
            if let Ok(channel) = name.parse::<Channel>() {
                if !out.contains(&channel) {
                    out.push(channel);
                }
            }
        }
        out
    }
}

/// A row of `fcm_tokens`, expiry in Unix seconds (no time-zone formatting
/// to get wrong).
#[derive(Debug, Deserialize)]
pub struct CachedToken {
    access_token: String,
    expires_at: i64,
}

impl CachedToken {
    /// The token, if it is readable and still fresh at `now`.
    pub fn fresh(&self, now: Timestamp) -> Option<AccessToken> {
        let expires_at = Timestamp::from_second(self.expires_at).ok()?;
        AccessToken::new(&self.access_token, expires_at)
            .ok()
            .filter(|t| t.is_fresh(now))
    }
}

/// Which channels have usable configuration.
#[derive(Debug, Clone, Copy)]
pub struct Ready {
    /// The e-mail relay variables are usable.
    pub email: bool,
    /// FCM is enabled and its variables are usable.
    pub push: bool,
}

/// Where one delivery stands within the request.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Planned, not claimed yet.
    Planned,
    /// This handler holds the lease: call the provider.
    Call {
        /// Provider calls made so far.
        attempts: u32,
        /// The lease, so the outcome is only written while it holds.
        lease_until: Timestamp,
    },
    /// Settled (by a call, or without one): write it.
    Settle {
        /// The new state of the row.
        settlement: Settlement,
        /// The lease the claim returned.
        lease_until: Timestamp,
    },
    /// Final, but its outcome event is not published yet: publish it (never
    /// send again). Failures the claim just recorded come back like this.
    Republish(NotificationOutcome),
    /// Final and published: nothing to do.
    Skip(DeliveryStatus),
    /// In flight in another handler, or waiting for the provider's
    /// `Retry-After` (the stored time): answer RETRY without a call.
    Busy(Option<Timestamp>),
}

/// One delivery of a reminder: one channel to one recipient.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// Its business key (the recipient is the address or device token).
    pub key: BusinessKey,
    /// `key.delivery_id()`, as text (the row's primary key).
    pub id: String,
    /// `Some`: the channel cannot be served; the delivery is recorded as
    /// `failed` with this reason without calling any provider.
    pub failure: Option<ReasonCode>,
    /// Where it stands.
    pub step: Step,
    /// Why publishing its outcome event failed just now, if it did.
    pub publish_error: Option<String>,
}

impl Delivery {
    fn new(key: BusinessKey, failure: Option<ReasonCode>) -> Self {
        Delivery {
            id: key.delivery_id().to_string(),
            key,
            failure,
            step: Step::Planned,
            publish_error: None,
        }
    }
}

/// The deliveries of `reminder`: the event's channels, else the
/// subscriber's (both channels for an unknown subscriber, which then fail
/// with `no_address`). A channel that is not configured, or has no address
/// or device, is one failed delivery keyed without recipient, so it is
/// recorded and announced once however often the reminder comes again.
pub fn plan(reminder: &ReminderDue, lookup: &Lookup, ready: Ready) -> Vec<Delivery> {
    let subscriber = lookup.subscriber.as_ref();
    let enabled = subscriber.map_or_else(|| Channel::ALL.to_vec(), |s| s.enabled_channels());
    let key = |channel, recipient: &str| {
        BusinessKey::new(reminder.task_id, reminder.remind_at, channel, recipient)
    };
    let failed = |channel, reason| {
        Delivery::new(
            BusinessKey::without_recipient(reminder.task_id, reminder.remind_at, channel),
            Some(reason),
        )
    };
    let mut out: Vec<Delivery> = Vec::new();
    for channel in reminder.channels_or(&enabled) {
        match channel {
            Channel::Email if !ready.email => {
                out.push(failed(channel, ReasonCode::ChannelNotConfigured))
            }
            Channel::Email => {
                match subscriber
                    .and_then(|s| s.email.as_deref())
                    .map(str::trim)
                    .filter(|e| !e.is_empty())
                {
                    Some(address) => out.push(Delivery::new(key(channel, address), None)),
                    None => out.push(failed(channel, ReasonCode::NoAddress)),
                }
            }
            Channel::Push if !ready.push => {
                out.push(failed(channel, ReasonCode::ChannelNotConfigured))
            }
            Channel::Push => {
                let before = out.len();
                for token in lookup.devices.iter().map(|t| t.trim()) {
                    let delivery = Delivery::new(key(channel, token), None);
                    if !token.is_empty() && !out.iter().any(|d| d.id == delivery.id) {
                        out.push(delivery);
                    }
                }
                if out.len() == before {
                    out.push(failed(channel, ReasonCode::NoAddress));
                }
            }
        }
    }
    out
}

/// A row the claim statement answered: `claimed` when this handler got the
/// lease, else the row as another handler (or an earlier one) left it.
#[derive(Debug, Clone, Deserialize)]
pub struct ClaimRow {
    delivery_id: String,
    claimed: bool,
    status: String,
    #[serde(default)]
    attempts: i64,
    reason: Option<String>,
    provider_message_id: Option<String>,
    updated_at: Option<Timestamp>,
    #[serde(default)]
    outcome_published: bool,
    lease_until: Option<Timestamp>,
    next_attempt_at: Option<Timestamp>,
}

/// Applies the claim's answer to each delivery. A delivery without a row
/// was inserted by a concurrent claim after the statement's snapshot was
/// taken: it is in flight there.
pub fn apply_claims(
    deliveries: &mut [Delivery],
    rows: &[ClaimRow],
    policy: AttemptPolicy,
    user_id: &str,
    now: Timestamp,
) {
    for d in deliveries {
        d.step = match rows.iter().find(|r| r.delivery_id == d.id) {
            Some(row) => d.step_after_claim(row, policy, user_id, now),
            None => Step::Busy(None),
        };
    }
}

impl Delivery {
    fn step_after_claim(
        &self,
        row: &ClaimRow,
        policy: AttemptPolicy,
        user_id: &str,
        now: Timestamp,
    ) -> Step {
        let Ok(status) = row.status.parse::<DeliveryStatus>() else {
            return Step::Busy(None);
        };
        let attempts = u32::try_from(row.attempts).unwrap_or(0);
        if status.is_final() {
            if row.outcome_published {
                return Step::Skip(status);
            }
            let at = row.updated_at.unwrap_or(now);
            let reason = row.reason.as_deref().and_then(reason_code);
            let event = match status {
                DeliveryStatus::Sent => NotificationOutcome::sent(
                    &self.key,
                    user_id,
                    row.provider_message_id.clone(),
                    attempts,
                    at,
                ),
                // A failed row always has a reason; `rejected_by_provider`
                // is the honest fallback should one ever be missing.
                _ => NotificationOutcome::failed(
                    &self.key,
                    user_id,
                    reason.unwrap_or(ReasonCode::RejectedByProvider),
                    attempts,
                    at,
                ),
            };
            return Step::Republish(event);
        }
        let (Some(lease_until), true) = (row.lease_until, row.claimed) else {
            return Step::Busy(row.next_attempt_at);
        };
        // The limit was lowered since the last attempt; or a channel that
        // cannot be served was found claimable (only a row written by
        // another version could be): fail, no call.
        let no_call = if policy.is_spent(attempts) {
            Some(ReasonCode::AttemptsExhausted)
        } else {
            self.failure
        };
        match no_call {
            Some(reason) => Step::Settle {
                settlement: Settlement::without_call(reason, attempts, now),
                lease_until,
            },
            None => Step::Call {
                attempts,
                lease_until,
            },
        }
    }

    /// `true` while the provider still has to be called.
    pub fn needs_call(&self) -> bool {
        matches!(self.step, Step::Call { .. })
    }

    /// Settles a delivery that needed a call with the provider's answer
    /// (any other step stays as it is).
    pub fn settle(&mut self, policy: AttemptPolicy, attempt: Attempt, now: Timestamp) {
        if let Step::Call {
            attempts,
            lease_until,
        } = &mut self.step
        {
            self.step = Step::Settle {
                settlement: policy.settle(*attempts, attempt, now),
                lease_until: *lease_until,
            };
        }
    }

    /// The outcome event to publish now, if any.
    pub fn outcome_event(&self, user_id: &str) -> Option<NotificationOutcome> {
        match &self.step {
            Step::Settle { settlement: s, .. } if s.publish => Some(match (s.status, s.reason) {
                (DeliveryStatus::Sent, _) => NotificationOutcome::sent(
                    &self.key,
                    user_id,
                    s.provider_message_id.clone(),
                    s.attempts,
                    s.at,
                ),
                (_, reason) => NotificationOutcome::failed(
                    &self.key,
                    user_id,
                    reason.unwrap_or(ReasonCode::RejectedByProvider),
                    s.attempts,
                    s.at,
                ),
            }),
            Step::Republish(event) => Some(event.clone()),
            _ => None,
        }
    }

    /// The record statement's line for this delivery: a settlement (with
    /// whether its outcome was published just now), or a re-published
    /// outcome to mark; `None` when there is nothing to write.
    pub fn record_row(&self) -> Option<Value> {
        match &self.step {
            Step::Settle {
                settlement: s,
                lease_until,
            } => Some(json!({
                "delivery_id": self.id,
                "settle": true,
                "lease_until": lease_until.to_string(),
                "status": s.status.as_str(),
                "reason": s.reason.map(ReasonCode::as_str),
                "attempts": s.attempts,
                "provider_message_id": s.provider_message_id,
                "last_error": s.last_error.as_deref().map(|e| scrub(e, &self.key)),
                "retry_after_secs": s.retry_after.map(|d| d.as_secs_f64()),
                "at": s.at.to_string(),
                "published": s.publish && self.publish_error.is_none(),
            })),
            Step::Republish(_) if self.publish_error.is_none() => Some(json!({
                "delivery_id": self.id,
                "settle": false,
            })),
            _ => None,
        }
    }

    /// The device token to delete: FCM called it unregistered or invalid.
    pub fn dead_token(&self) -> Option<&str> {
        match &self.step {
            Step::Settle { settlement, .. }
                if self.key.channel() == Channel::Push
                    && settlement.reason == Some(ReasonCode::InvalidToken) =>
            {
                Some(self.key.recipient())
            }
            _ => None,
        }
    }
}

/// The answer to Dapr, decided by the deliveries: `None` (SUCCESS) when
/// every delivery is done, else why the event needs a RETRY.
pub fn retry_reason(deliveries: &[Delivery]) -> Option<String> {
    let (mut retrying, mut busy, mut unpublished) = (0, 0, 0);
    for d in deliveries {
        match &d.step {
            Step::Settle { settlement, .. } if settlement.publish && d.publish_error.is_some() => {
                unpublished += 1
            }
            Step::Settle { settlement, .. } if settlement.retry => retrying += 1,
            Step::Republish(_) if d.publish_error.is_some() => unpublished += 1,
            Step::Busy(_) | Step::Call { .. } | Step::Planned => busy += 1,
            _ => {}
        }
    }
    if retrying + busy + unpublished == 0 {
        return None;
    }
    Some(format!(
        "{retrying} delivery(ies) retrying after a transient provider failure, {busy} in flight elsewhere or waiting for Retry-After, {unpublished} outcome(s) not published"
    ))
}

/// Reads a stored reason code (the wire names of [`ReasonCode`]).
fn reason_code(text: &str) -> Option<ReasonCode> {
    text.parse().ok()
}

/// The recipient as it may appear in logs.
pub(crate) fn masked_recipient(key: &BusinessKey) -> String {
    match (key.channel(), key.recipient()) {
        (_, "") => String::new(),
        (Channel::Email, address) => mask_email(address),
        (Channel::Push, token) => mask_token(token),
    }
}

/// Provider text with the recipient masked: relays like to quote the
/// address they refused.
pub(crate) fn scrub(text: &str, key: &BusinessKey) -> String {
    let recipient = key.recipient();
    if recipient.is_empty() {
        return text.to_owned();
    }
    let mut out = text.replace(recipient, &masked_recipient(key));
    if key.channel() == Channel::Email {
        // Case-insensitive second pass (addresses are quoted as typed).
        let lower = recipient.to_ascii_lowercase();
        if let Some(pos) = out.to_ascii_lowercase().find(&lower) {
            if let Some(found) = out.get(pos..pos + lower.len()) {
                let found = found.to_owned();
                out = out.replace(&found, &masked_recipient(key));
            }
        }
    }
    out
}

mod log_line;

pub use log_line::Action;

#[cfg(test)]
mod tests;
