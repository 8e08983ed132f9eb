//! Business keys and the stable ids derived from them.
//!
//! Exactly-once per channel hinges on the key `(task_id, remind_at, channel,
//! recipient)`, not on the CloudEvent id: the same reminder redelivered under
//! any envelope id maps to the same delivery row. The ids are UUID v5 (name
//! based, SHA-1) so every replica, and every retry, computes the same value
//! without coordination.

use jiff::Timestamp;
use uuid::Uuid;

use crate::channel::Channel;

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

#[cfg(test)]
mod tests {
    use super::*;

    fn task() -> Uuid {
        "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b".parse().unwrap()
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn delivery_id_matches_an_independent_uuid5() {
        // Expected value computed outside Rust (Python's uuid.uuid5) over
        // "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b\n2026-12-01T08:30:00Z\nemail\nada@example.com".
        let key = BusinessKey::new(
            task(),
            at("2026-12-01T08:30:00Z"),
            Channel::Email,
            "ada@example.com",
        );
        assert_eq!(key.delivery_id().to_string(), EXPECTED_DELIVERY_ID);
        assert_eq!(key.reminder_id().to_string(), EXPECTED_REMINDER_ID);
    }

    const EXPECTED_DELIVERY_ID: &str = "a532a81a-289a-5697-ace2-8b0b4e7cdb26";
    const EXPECTED_REMINDER_ID: &str = "fa4d4b92-bc22-53ac-aa5c-dded1fc9d625";

    #[test]
    fn same_instant_in_another_offset_is_the_same_delivery() {
        let a = BusinessKey::new(
            task(),
            at("2026-12-01T08:30:00Z"),
            Channel::Email,
            "ada@example.com",
        );
        let b = BusinessKey::new(
            task(),
            at("2026-12-01T09:30:00+01:00"),
            Channel::Email,
            " ADA@Example.com ",
        );
        assert_eq!(a.delivery_id(), b.delivery_id());
    }

    #[test]
    fn each_component_changes_the_id() {
        let base = BusinessKey::new(task(), at("2026-12-01T08:30:00Z"), Channel::Push, "tokenA");
        let others = [
            BusinessKey::new(
                Uuid::nil(),
                at("2026-12-01T08:30:00Z"),
                Channel::Push,
                "tokenA",
            ),
            BusinessKey::new(task(), at("2026-12-01T08:30:01Z"), Channel::Push, "tokenA"),
            BusinessKey::new(task(), at("2026-12-01T08:30:00Z"), Channel::Email, "tokenA"),
            BusinessKey::new(task(), at("2026-12-01T08:30:00Z"), Channel::Push, "tokena"),
        ];
        for other in &others {
            assert_ne!(base.delivery_id(), other.delivery_id(), "{other:?}");
        }
    }

    #[test]
    fn missing_recipient_has_its_own_stable_id() {
        let none =
            BusinessKey::without_recipient(task(), at("2026-12-01T08:30:00Z"), Channel::Push);
        let again =
            BusinessKey::without_recipient(task(), at("2026-12-01T08:30:00Z"), Channel::Push);
        let some = BusinessKey::new(task(), at("2026-12-01T08:30:00Z"), Channel::Push, "t");
        assert_eq!(none.delivery_id(), again.delivery_id());
        assert_ne!(none.delivery_id(), some.delivery_id());
    }

    #[test]
    fn reminder_id_ignores_channel_and_recipient() {
        let a = BusinessKey::new(task(), at("2026-12-01T08:30:00Z"), Channel::Push, "t1");
        let b = BusinessKey::new(task(), at("2026-12-01T08:30:00Z"), Channel::Email, "x@y.z");
        assert_eq!(a.reminder_id(), b.reminder_id());
        assert_ne!(a.reminder_id(), a.delivery_id());
        assert_eq!(a.reminder_id().to_string().len(), 36);
    }
}
