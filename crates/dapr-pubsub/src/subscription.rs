//! The programmatic subscription list served at `GET /dapr/subscribe`.

use serde::{Deserialize, Serialize};

/// One Dapr programmatic subscription (v1 shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// The Dapr pub/sub component name.
    pub pubsubname: String,
    /// The topic consumed.
    pub topic: String,
    /// The app route Dapr POSTs deliveries to.
    pub route: String,
    /// Where Dapr sends events that were dropped or ran out of retries.
    pub dead_letter_topic: String,
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
/// blanks ignored), so one app can run as one Dapr app or split per service.
pub fn subscriptions_for(
    services: &str,
    pubsub: &str,
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
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_services_by_default_with_dead_letter_topics() {
        let subs = subscriptions_for("notification,recurrence", "kafka-pubsub").expect("known");
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
        let subs = subscriptions_for(" recurrence ", "p").expect("known");
        assert_eq!(subs.len(), 1);
        assert_eq!(subs[0].topic, "task-events");
        assert!(subscriptions_for("", "p")
            .expect("empty is fine")
            .is_empty());
    }

    #[test]
    fn unknown_service_is_an_error_naming_it() {
        let err = subscriptions_for("notification,billing", "p").expect_err("unknown");
        assert_eq!(err, UnknownService("billing".into()));
        assert!(err.to_string().contains("billing"));
    }
}
