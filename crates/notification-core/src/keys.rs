//! Who a delivery goes to: the two channels, the business key and the
//! stable ids derived from it, and the recipient as logs may show it.
//!
//! Exactly-once per channel hinges on the key `(task_id, remind_at, channel,
//! recipient)`, not on the CloudEvent id: the same reminder redelivered under
//! any envelope id maps to the same delivery row. The ids are UUID v5 (name
//! based, SHA-1) so every replica, and every retry, computes the same value
//! without coordination.
//!
//! E-mail addresses and device tokens never appear in logs in clear
//! ([`mask_email`], [`mask_token`] keep just enough to tell two recipients
//! apart while debugging).

use jiff::Timestamp;
use uuid::Uuid;

/// Namespace of delivery ids. Fixed forever: changing it would re-send every
/// reminder that is redelivered across the change.
pub const DELIVERY_NAMESPACE: Uuid = Uuid::from_u128(0x12aa_edc4_02d1_4bb2_98ac_15d2_2d27_5658);

/// Namespace of reminder ids (collapse keys). Fixed forever for the same reason.
pub const REMINDER_NAMESPACE: Uuid = Uuid::from_u128(0x81f7_262a_f4b8_444c_b090_c91b_0d25_2fbc);

/// One delivery: a reminder, a channel and one recipient on it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BusinessKey {
    task_id: Uuid,
    remind_at: Timestamp,
    channel: Channel,
    recipient: String,
}

impl BusinessKey {
    /// Builds the key. Surrounding whitespace of the recipient is trimmed;
    /// see [`BusinessKey::delivery_id`] for the normalisation used in the id.
    pub fn new(task_id: Uuid, remind_at: Timestamp, channel: Channel, recipient: &str) -> Self {
        BusinessKey {
            task_id,
            remind_at,
            channel,
            recipient: recipient.trim().to_owned(),
        }
    }

    /// The key of a delivery that has no recipient at all (no address or no
    /// device for the channel): it still needs one stable row and one
    /// `notification.failed` with `no_address`, however often the reminder
    /// is redelivered.
    pub fn without_recipient(task_id: Uuid, remind_at: Timestamp, channel: Channel) -> Self {
        Self::new(task_id, remind_at, channel, "")
    }

    /// The task the reminder belongs to.
    pub fn task_id(&self) -> Uuid {
        self.task_id
    }

    /// When the reminder was due to fire (an instant: offsets do not matter).
    pub fn remind_at(&self) -> Timestamp {
        self.remind_at
    }

    /// The channel of this delivery.
    pub fn channel(&self) -> Channel {
        self.channel
    }

    /// The recipient (address or device token) as given, trimmed. Not for logs: use
    /// [`crate::mask_email`] / [`crate::mask_token`].
    pub fn recipient(&self) -> &str {
        &self.recipient
    }

    /// The delivery id: primary key of the delivery row, the e-mail
    /// idempotency key and the `delivery_id` of the outcome event.
    ///
    /// The name is `task_id \n remind_at(UTC RFC 3339) \n channel \n recipient`;
    /// only the last part is free-form, so the encoding is unambiguous.
    /// E-mail addresses are lower-cased (ASCII) for the id so that a change in
    /// letter case cannot cause a second e-mail; device tokens are taken as
    /// they are, because FCM tokens are case-sensitive.
    pub fn delivery_id(&self) -> Uuid {
        let recipient = match self.channel {
            Channel::Email => self.recipient.to_ascii_lowercase(),
            Channel::Push => self.recipient.clone(),
        };
        let name = format!(
            "{}\n{}\n{}\n{}",
            self.task_id.as_hyphenated(),
            self.remind_at,
            self.channel.as_str(),
            recipient
        );
        Uuid::new_v5(&DELIVERY_NAMESPACE, name.as_bytes())
    }

    /// The reminder id shared by all deliveries of this reminder (see [`reminder_id`]).
    pub fn reminder_id(&self) -> Uuid {
        reminder_id(self.task_id, self.remind_at)
    }
}

/// The id of one reminder `(task_id, remind_at)`, used as FCM collapse key,
/// Android notification tag and `apns-collapse-id` (36 bytes, below APNs'
/// 64-byte limit) so that a duplicate push replaces the shown notification.
pub fn reminder_id(task_id: Uuid, remind_at: Timestamp) -> Uuid {
    let name = format!("{}\n{}", task_id.as_hyphenated(), remind_at);
    Uuid::new_v5(&REMINDER_NAMESPACE, name.as_bytes())
}

/// A delivery channel, as named in events, the subscriber API and the
/// delivery log: one enum for all of them (its names are the contract's,
/// spelled once in `todo-contract`), so a misspelt channel cannot slip into
/// a key or a log row.
pub use todo_contract::Channel;

/// Masks an e-mail address as `a***@example.com`: first character of the
/// local part, then the domain. Anything without a usable `@` becomes `***`,
/// so a malformed address is never echoed back whole.
pub fn mask_email(address: &str) -> String {
    let address = address.trim();
    match address.rsplit_once('@') {
        Some((local, domain)) if !domain.is_empty() => match local.chars().next() {
            Some(first) => format!("{first}***@{domain}"),
            None => format!("***@{domain}"),
        },
        _ => "***".to_owned(),
    }
}

/// Masks an FCM device token as its first 6 characters followed by `…`.
///
/// Tokens of 12 characters or fewer (never real FCM tokens, which are ~150)
/// are fully hidden, so a short secret-like value cannot leak by half.
pub fn mask_token(token: &str) -> String {
    const KEEP: usize = 6;
    if token.chars().count() <= 2 * KEEP {
        return "…".to_owned();
    }
    let prefix: String = token.chars().take(KEEP).collect();
    format!("{prefix}…")
}

#[cfg(test)]
mod tests;
