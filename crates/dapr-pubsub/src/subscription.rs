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
mod tests;
