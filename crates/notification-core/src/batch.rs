//! The reminders of one Dapr request (a single event or a bulk), decided
//! as one set so the component runs one lookup, one claim and one record
//! statement for all of them (docs/CONTRACT.md, "Dapr behaviour": a bulk's
//! database work does not grow by a round trip per entry).
//!
//! Each reminder is still answered as if it had come alone. The same
//! delivery (business key) planned by two reminders of the set, such as
//! the same event twice in one bulk, is claimed, sent and recorded once and
//! answers both; its log line is written under the first.

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::delivery::{self, CachedToken, ClaimRow, Lookup, Ready, Recipient, Step};
use crate::events::ReminderDue;
use crate::policy::{AttemptPolicy, ReasonCode};
use crate::{Channel, Delivery, DeliveryStatus};

/// What the lookup statement answers for a set of reminders: each user's
/// subscriber and devices, and the service account's cached access token.
#[derive(Debug, Default, Deserialize)]
pub struct Lookups {
    /// One entry per distinct user of the set.
    #[serde(default)]
    pub users: Vec<UserLookup>,
    /// The cached FCM access token of the service account, if any.
    pub fcm_token: Option<CachedToken>,
}

/// One user's part of [`Lookups`].
#[derive(Debug, Default, Deserialize)]
pub struct UserLookup {
    /// The `user_id` it was looked up by.
    pub user_id: String,
    /// `None` for an unknown subscriber.
    pub subscriber: Option<Recipient>,
    /// Registered FCM tokens, oldest first, at most
    /// [`delivery::MAX_DEVICES`].
    #[serde(default)]
    pub devices: Vec<String>,
}

impl Lookups {
    /// The [`Lookup`] of one user (an unknown subscriber when absent).
    pub fn of(&self, user_id: &str) -> Lookup {
        match self.users.iter().find(|u| u.user_id == user_id) {
            Some(found) => Lookup {
                subscriber: found.subscriber.clone(),
                devices: found.devices.clone(),
                fcm_token: None,
            },
            None => Lookup::default(),
        }
    }
}

/// The deliveries of a set of reminders, each business key once.
#[derive(Debug, Default)]
pub struct ReminderSet {
    /// The reminders, in the order given.
    pub reminders: Vec<ReminderDue>,
    /// Each reminder's subscriber, devices and zone.
    pub lookups: Vec<Lookup>,
    /// Every delivery of the set, each business key once.
    pub deliveries: Vec<Delivery>,
    /// Per delivery: the first reminder that planned it (its owner: its
    /// user id, content, trace and log line).
    owners: Vec<usize>,
    /// Per reminder: the indices of its deliveries.
    members: Vec<Vec<usize>>,
}

impl ReminderSet {
    /// Plans every reminder with its user's lookup ([`delivery::plan`]).
    pub fn plan(reminders: Vec<ReminderDue>, lookups: &Lookups, ready: Ready) -> Self {
        let mut set = ReminderSet::default();
        for reminder in reminders {
            let owner = set.reminders.len();
            let lookup = lookups.of(&reminder.user_id);
            let mut members = Vec::new();
            for planned in delivery::plan(&reminder, &lookup, ready) {
                let at = match set.deliveries.iter().position(|d| d.id == planned.id) {
                    Some(at) => at,
                    None => {
                        set.deliveries.push(planned);
                        set.owners.push(owner);
                        set.deliveries.len() - 1
                    }
                };
                if !members.contains(&at) {
                    members.push(at);
                }
            }
            set.reminders.push(reminder);
            set.lookups.push(lookup);
            set.members.push(members);
        }
        set
    }

    /// The reminder that owns delivery `at`.
    pub fn owner(&self, at: usize) -> Option<usize> {
        self.owners.get(at).copied()
    }

    /// The user of delivery `at` (its owner's), for its row and event.
    pub fn user_of(&self, at: usize) -> &str {
        self.owner(at)
            .and_then(|r| self.reminders.get(r))
            .map_or("", |r| r.user_id.as_str())
    }

    /// Device tokens FCM called dead, each with its owner's user:
    /// `(user, token)`, to delete in the record statement.
    pub fn dead_tokens(&self) -> Vec<(&str, &str)> {
        self.deliveries
            .iter()
            .enumerate()
            .filter_map(|(at, d)| Some((self.user_of(at), d.dead_token()?)))
            .collect()
    }

    /// How many deliveries the record statement should settle: fewer rows
    /// written means a lease ran out and another handler took them over.
    pub fn to_settle(&self) -> usize {
        self.deliveries
            .iter()
            .filter(|d| matches!(d.step, Step::Settle { .. }))
            .count()
    }

    /// The indices of reminder `at`'s deliveries.
    pub fn members(&self, at: usize) -> &[usize] {
        self.members.get(at).map_or(&[], Vec::as_slice)
    }

    /// The claim statement's input: one line per delivery, inserted
    /// `pending` (leased) or, when it cannot be served, directly `failed`
    /// with a `last_error` that says why in words (`not_configured` tells
    /// why a channel is not configured), with its owner's user, task and
    /// reminder time.
    pub fn claim_input(&self, not_configured: &dyn Fn(Channel) -> Option<String>) -> Value {
        self.deliveries
            .iter()
            .enumerate()
            .map(|(at, d)| {
                let channel = d.key.channel();
                let why = d.failure.map(|reason| {
                    unserved_because(reason, channel, not_configured(channel).as_deref())
                });
                json!({
                    "last_error": why,
                    "delivery_id": d.id,
                    "user_id": self.user_of(at),
                    "task_id": d.key.task_id().to_string(),
                    "remind_at": d.key.remind_at().to_string(),
                    "channel": d.key.channel().as_str(),
                    "recipient": d.key.recipient(),
                    "status": if d.failure.is_some() { DeliveryStatus::Failed } else { DeliveryStatus::Pending }.as_str(),
                    "reason": d.failure.map(ReasonCode::as_str),
                })
            })
            .collect()
    }

    /// Applies the claim's answer to every delivery
    /// ([`delivery::apply_claims`], each with its owner's user).
    pub fn apply_claims(&mut self, rows: &[ClaimRow], policy: AttemptPolicy, now: Timestamp) {
        let users: Vec<String> = (0..self.deliveries.len())
            .map(|at| self.user_of(at).to_owned())
            .collect();
        for (d, user) in self.deliveries.iter_mut().zip(users) {
            delivery::apply_claims(std::slice::from_mut(d), rows, policy, &user, now);
        }
    }

    /// The answer for reminder `at`: `None` (SUCCESS) when each of its
    /// deliveries is done, else why it needs a RETRY
    /// ([`delivery::retry_reason`]).
    pub fn retry_reason(&self, at: usize) -> Option<String> {
        let mine: Vec<Delivery> = self
            .members(at)
            .iter()
            .filter_map(|d| self.deliveries.get(*d).cloned())
            .collect();
        delivery::retry_reason(&mine)
    }
}

/// Why a delivery that is never attempted failed, for the delivery log's
/// `last_error` (read by people; never a secret: configuration errors
/// name variables, not their values).
pub fn unserved_because(
    reason: ReasonCode,
    channel: Channel,
    not_configured: Option<&str>,
) -> String {
    match (reason, channel) {
        (ReasonCode::NoAddress, Channel::Email) => {
            "no e-mail address: the subscriber has none, or is not registered".to_owned()
        }
        (ReasonCode::NoAddress, Channel::Push) => {
            "no device: the subscriber has registered none, or is not registered".to_owned()
        }
        (ReasonCode::ChannelNotConfigured, _) => match not_configured {
            Some(why) => format!("{} is not configured: {why}", channel.as_str()),
            None => format!("{} is not configured", channel.as_str()),
        },
        (other, _) => format!("not attempted: {}", other.as_str()),
    }
}

#[cfg(test)]
mod tests;
