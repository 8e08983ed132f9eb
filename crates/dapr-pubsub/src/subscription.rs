//! The programmatic subscription list served at `GET /dapr/subscribe`,
//! with the `bulkSubscribe` entry that makes daprd send events in bulks
//! (docs/CONTRACT.md, "Dapr behaviour").

use serde::{Deserialize, Serialize};

use crate::inbound::MAX_BULK_ENTRIES;

/// One Dapr programmatic subscription (v1 shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// The Dapr pub/sub component name.
    pub pubsubname: String,
    /// The topic consumed.
    pub topic: String,
    /// The app route Dapr POSTs events to.
    pub route: String,
    /// Where Dapr sends events that were dropped or ran out of retries.
    pub dead_letter_topic: String,
    /// Asks daprd for bulk requests; absent: one event per request.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub bulk_subscribe: Option<BulkSubscribe>,
}

/// Dapr's `bulkSubscribe` options: daprd collects up to
/// `max_messages_count` events, or waits `max_await_duration_ms`, and POSTs
/// them as one bulk the app answers entry by entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkSubscribe {
    /// Always `true` when present.
    pub enabled: bool,
    /// Most events in one bulk.
    pub max_messages_count: u32,
    /// Longest wait for a bulk to fill.
    pub max_await_duration_ms: u32,
}

/// `bulk_max_messages` when unset or unusable (Dapr's own default).
pub const DEFAULT_BULK_MAX_MESSAGES: u32 = 100;
/// `bulk_max_await_ms` when unset or unusable (Dapr's own default).
pub const DEFAULT_BULK_MAX_AWAIT_MS: u32 = 1000;

/// A bulk variable that could not be used as given, and what is used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable} = {given:?} is not usable ({why}); using {used}")]
pub struct BulkSettingError {
    /// The variable's name.
    pub variable: &'static str,
    /// The value given.
    pub given: String,
    /// Why it is not usable.
    pub why: &'static str,
    /// The value used instead.
    pub used: u32,
}

impl BulkSubscribe {
    /// Reads `bulk_max_messages` and `bulk_max_await_ms`: `None` when
    /// `bulk_max_messages` is `0` (bulk off). A value that is not a whole
    /// number falls back to the default, and more messages than a bulk the
    /// services handle ([`MAX_BULK_ENTRIES`]; more would be dropped whole as
    /// `too_large`) is lowered to that; each such case is reported so the
    /// component can log it.
    pub fn from_settings(
        max_messages: &str,
        max_await_ms: &str,
    ) -> (Option<BulkSubscribe>, Vec<BulkSettingError>) {
        let mut errors = Vec::new();
        let mut read =
            |variable: &'static str, given: &str, default: u32| match given.trim().parse::<u32>() {
                Ok(value) => value,
                Err(_) => {
                    errors.push(BulkSettingError {
                        variable,
                        given: given.to_owned(),
                        why: "not a whole number",
                        used: default,
                    });
                    default
                }
            };
        let messages = read("bulk_max_messages", max_messages, DEFAULT_BULK_MAX_MESSAGES);
        let await_ms = read("bulk_max_await_ms", max_await_ms, DEFAULT_BULK_MAX_AWAIT_MS);
        if messages == 0 {
            return (None, errors);
        }
        let limit = u32::try_from(MAX_BULK_ENTRIES).unwrap_or(u32::MAX);
        let messages = if messages > limit {
            errors.push(BulkSettingError {
                variable: "bulk_max_messages",
                given: max_messages.to_owned(),
                why: "more than the entries one bulk may carry",
                used: limit,
            });
            limit
        } else {
            messages
        };
        let bulk = BulkSubscribe {
            enabled: true,
            max_messages_count: messages,
            max_await_duration_ms: await_ms,
        };
        (Some(bulk), errors)
    }
}

/// A service name in `dapr_services` that this application does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown service '{0}' in dapr_services (known: notification, recurrence)")]
pub struct UnknownService(pub String);

/// The topic and route each service consumes (docs/CONTRACT.md, "Routes").
const SERVICES: [(&str, &str, &str); 2] = [
    ("notification", "reminders", "/events/reminders"),
    ("recurrence", "task-events", "/events/task-events"),
];

/// The subscriptions of the services named in `services` (comma separated,
/// blanks ignored), so one app can run as one Dapr app or split per service;
/// each asks for `bulk` requests when given.
pub fn subscriptions_for(
    services: &str,
    pubsub: &str,
    bulk: Option<BulkSubscribe>,
) -> Result<Vec<Subscription>, UnknownService> {
    let mut out: Vec<Subscription> = Vec::new();
    for name in services.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let Some((_, topic, route)) = SERVICES.iter().find(|(n, _, _)| *n == name) else {
            return Err(UnknownService(name.to_owned()));
        };
        if out.iter().any(|s| s.topic == *topic) {
            continue;
        }
        out.push(Subscription {
            pubsubname: pubsub.to_owned(),
            topic: (*topic).to_owned(),
            route: (*route).to_owned(),
            dead_letter_topic: format!("{topic}-dlq"),
            bulk_subscribe: bulk,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_services_by_default_with_dead_letter_topics() {
        let subs =
            subscriptions_for("notification,recurrence", "kafka-pubsub", None).expect("known");
        let json = serde_json::to_value(&subs).expect("serialises");
        assert_eq!(
            json,
            serde_json::json!([
                {"pubsubname":"kafka-pubsub","topic":"reminders","route":"/events/reminders","deadLetterTopic":"reminders-dlq"},
                {"pubsubname":"kafka-pubsub","topic":"task-events","route":"/events/task-events","deadLetterTopic":"task-events-dlq"}
            ])
        );
    }

    #[test]
    fn split_deployment_lists_one_service() {
        let subs = subscriptions_for(" recurrence ", "p", None).expect("known");
        assert_eq!(subs.len(), 1);
        assert_eq!(subs[0].topic, "task-events");
        assert!(subscriptions_for("", "p", None)
            .expect("empty is fine")
            .is_empty());
    }

    #[test]
    fn unknown_service_is_an_error_naming_it() {
        let err = subscriptions_for("notification,billing", "p", None).expect_err("unknown");
        assert_eq!(err, UnknownService("billing".into()));
        assert!(err.to_string().contains("billing"));
    }

    #[test]
    fn bulk_is_asked_for_with_the_variables_and_zero_turns_it_off() {
        let (bulk, errors) = BulkSubscribe::from_settings("100", "1000");
        assert!(errors.is_empty());
        let subs = subscriptions_for("notification", "p", bulk).expect("known");
        assert_eq!(
            serde_json::to_value(&subs[0]).expect("serialises")["bulkSubscribe"],
            serde_json::json!({"enabled": true, "maxMessagesCount": 100, "maxAwaitDurationMs": 1000})
        );
        let (off, errors) = BulkSubscribe::from_settings(" 0 ", "250");
        assert_eq!((off, errors.len()), (None, 0));
        let subs = subscriptions_for("notification", "p", off).expect("known");
        assert!(serde_json::to_value(&subs[0])
            .expect("serialises")
            .get("bulkSubscribe")
            .is_none());
    }

    #[test]
    fn unusable_bulk_settings_fall_back_and_say_so() {
        let (bulk, errors) = BulkSubscribe::from_settings("lots", "-5");
        assert_eq!(
            bulk,
            Some(BulkSubscribe {
                enabled: true,
                max_messages_count: DEFAULT_BULK_MAX_MESSAGES,
                max_await_duration_ms: DEFAULT_BULK_MAX_AWAIT_MS,
            })
        );
        let named: Vec<&str> = errors.iter().map(|e| e.variable).collect();
        assert_eq!(named, ["bulk_max_messages", "bulk_max_await_ms"]);
        // More than a bulk may carry would have every bulk dropped whole.
        let (bulk, errors) = BulkSubscribe::from_settings("5000", "10");
        assert_eq!(bulk.map(|b| b.max_messages_count), Some(1000));
        assert_eq!(errors.len(), 1);
        assert!(errors[0].to_string().contains("using 1000"));
    }
}
