//! Which deliveries a reminder consists of: one per channel and recipient,
//! or one failed delivery per channel that cannot be served at all.
//!
//! Pure, so the channel rules are unit-tested natively.

use notification_delivery::{BusinessKey, Channel, ReasonCode, ReminderDue};

use super::lookup::Found;

/// One delivery of the reminder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// Its business key (the recipient is the address or device token).
    pub key: BusinessKey,
    /// `key.delivery_id()`, as text (the row's primary key).
    pub id: String,
    /// `Some`: the channel cannot be served; the delivery is recorded as
    /// `failed` with this reason without calling any provider.
    pub failure: Option<ReasonCode>,
}

impl Planned {
    fn new(key: BusinessKey, failure: Option<ReasonCode>) -> Self {
        Planned {
            id: key.delivery_id().to_string(),
            key,
            failure,
        }
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

/// The deliveries of `reminder`: the event's channels, else the
/// subscriber's (both channels for an unknown subscriber, which then fail
/// with `no_address`). A channel that is not configured, or has no address
/// or device, is one failed delivery keyed without recipient, so it is
/// recorded and announced once however often the reminder comes again.
pub fn plan(reminder: &ReminderDue, found: &Found, ready: Ready) -> Vec<Planned> {
    let subscriber = found.subscriber.as_ref();
    let enabled = subscriber.map_or_else(|| Channel::ALL.to_vec(), |s| s.enabled_channels());
    let key = |channel, recipient: &str| {
        BusinessKey::new(reminder.task_id, reminder.remind_at, channel, recipient)
    };
    let failed = |channel, reason| {
        Planned::new(
            BusinessKey::without_recipient(reminder.task_id, reminder.remind_at, channel),
            Some(reason),
        )
    };
    let mut out: Vec<Planned> = Vec::new();
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
                    Some(address) => out.push(Planned::new(key(channel, address), None)),
                    None => out.push(failed(channel, ReasonCode::NoAddress)),
                }
            }
            Channel::Push if !ready.push => {
                out.push(failed(channel, ReasonCode::ChannelNotConfigured))
            }
            Channel::Push => {
                let before = out.len();
                for token in found.devices.iter().map(|t| t.trim()) {
                    let planned = Planned::new(key(channel, token), None);
                    if !token.is_empty() && !out.iter().any(|p| p.id == planned.id) {
                        out.push(planned);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::lookup::Subscriber;
    use serde_json::json;

    fn reminder(channels: Option<&[&str]>) -> ReminderDue {
        let mut data = json!({
            "task_id": "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b", "user_id": "u-42",
            "title": "Pay rent", "remind_at": "2026-12-01T08:30:00Z",
        });
        if let Some(c) = channels {
            data["channels"] = json!(c);
        }
        ReminderDue::from_value(&data).unwrap()
    }

    fn found(email: Option<&str>, channels: &[&str], devices: &[&str]) -> Found {
        Found {
            subscriber: Some(Subscriber {
                email: email.map(str::to_owned),
                timezone: "UTC".into(),
                channels: channels.iter().map(|c| c.to_string()).collect(),
            }),
            devices: devices.iter().map(|d| d.to_string()).collect(),
            fcm_token: None,
        }
    }

    const READY: Ready = Ready {
        email: true,
        push: true,
    };

    fn summary(planned: &[Planned]) -> Vec<(Channel, String, Option<ReasonCode>)> {
        planned
            .iter()
            .map(|p| (p.key.channel(), p.key.recipient().to_owned(), p.failure))
            .collect()
    }

    #[test]
    fn event_channels_win_over_the_subscribers() {
        let f = found(Some("ada@example.com"), &["email"], &["tok-1", "tok-2"]);
        let p = plan(&reminder(Some(&["push"])), &f, READY);
        assert_eq!(
            summary(&p),
            vec![
                (Channel::Push, "tok-1".into(), None),
                (Channel::Push, "tok-2".into(), None)
            ]
        );
        let p = plan(&reminder(None), &f, READY);
        assert_eq!(
            summary(&p),
            vec![(Channel::Email, "ada@example.com".into(), None)]
        );
        assert!(plan(&reminder(Some(&[])), &f, READY).is_empty());
    }

    #[test]
    fn missing_addresses_and_unknown_subscribers_fail_with_no_address() {
        let f = found(Some("  "), &["email", "push"], &[]);
        let p = plan(&reminder(None), &f, READY);
        assert_eq!(
            summary(&p),
            vec![
                (Channel::Email, String::new(), Some(ReasonCode::NoAddress)),
                (Channel::Push, String::new(), Some(ReasonCode::NoAddress))
            ]
        );
        let p = plan(&reminder(None), &Found::default(), READY);
        assert_eq!(p.len(), 2);
        assert!(p.iter().all(|d| d.failure == Some(ReasonCode::NoAddress)));
    }

    #[test]
    fn unconfigured_channels_fail_before_looking_at_addresses() {
        let f = found(Some("ada@example.com"), &["email", "push"], &["tok-1"]);
        let p = plan(
            &reminder(None),
            &f,
            Ready {
                email: false,
                push: false,
            },
        );
        assert_eq!(
            summary(&p),
            vec![
                (
                    Channel::Email,
                    String::new(),
                    Some(ReasonCode::ChannelNotConfigured)
                ),
                (
                    Channel::Push,
                    String::new(),
                    Some(ReasonCode::ChannelNotConfigured)
                )
            ]
        );
    }

    #[test]
    fn ids_are_the_business_keys_and_duplicates_collapse() {
        let f = found(Some("ada@example.com"), &["push"], &["tok-1", "tok-1 "]);
        let p = plan(&reminder(None), &f, READY);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].id, p[0].key.delivery_id().to_string());
    }
}
