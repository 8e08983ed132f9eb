//! Requests to the sidecar's publish API (`/v1.0/publish/{pubsub}/{topic}`).

use crate::trace::valid_traceparent;

/// A publish call, ready for whatever HTTP client the caller has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishRequest {
    /// Full URL including the `metadata.cloudevent.*` query parameters.
    pub url: String,
    /// Headers: content type, and `traceparent` / `dapr-api-token` when set.
    pub headers: Vec<(String, String)>,
    /// The JSON payload; Dapr wraps it in a CloudEvent.
    pub body: Vec<u8>,
}

/// What identifies a published event to its consumers.
#[derive(Debug, Clone, Copy)]
pub struct OutgoingEvent<'a> {
    /// Dapr pub/sub component name.
    pub pubsub: &'a str,
    /// Destination topic.
    pub topic: &'a str,
    /// CloudEvent id: deterministic, so consumers can de-duplicate retries.
    pub id: &'a str,
    /// CloudEvent type, e.g. `task.created`.
    pub event_type: &'a str,
}

impl PublishRequest {
    /// Builds the call for a sidecar on `localhost:{port}`. `traceparent`
    /// continues the incoming trace when it is a valid W3C value (see
    /// [`crate::trace`]); `api_token` is sent when non-empty.
    pub fn new(
        port: &str,
        event: OutgoingEvent<'_>,
        payload: &serde_json::Value,
        traceparent: Option<&str>,
        api_token: &str,
    ) -> Self {
        let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let url = format!(
            "http://localhost:{port}/v1.0/publish/{}/{}?metadata.cloudevent.id={}&metadata.cloudevent.type={}",
            enc(event.pubsub),
            enc(event.topic),
            enc(event.id),
            enc(event.event_type),
        );
        let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        if let Some(tp) = valid_traceparent(traceparent) {
            headers.push(("traceparent".to_owned(), tp.to_owned()));
        }
        if !api_token.is_empty() {
            headers.push(("dapr-api-token".to_owned(), api_token.to_owned()));
        }
        PublishRequest {
            url,
            headers,
            body: payload.to_string().into_bytes(),
        }
    }

    /// Dapr answers 204 on success; anything else is a transient fault.
    pub fn succeeded(status: u16) -> bool {
        status == 204
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_the_sidecar_call() {
        let event = OutgoingEvent {
            pubsub: "kafka-pubsub",
            topic: "task-events",
            id: "6f1c a",
            event_type: "task.created",
        };
        let req = PublishRequest::new(
            "3500",
            event,
            &serde_json::json!({"task_id": "x"}),
            Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            "tok",
        );
        assert_eq!(
            req.url,
            "http://localhost:3500/v1.0/publish/kafka-pubsub/task-events?metadata.cloudevent.id=6f1c+a&metadata.cloudevent.type=task.created"
        );
        assert!(req.headers.contains(&(
            "traceparent".into(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into()
        )));
        assert!(req
            .headers
            .contains(&("dapr-api-token".into(), "tok".into())));
        assert_eq!(req.body, br#"{"task_id":"x"}"#);
    }

    #[test]
    fn no_token_header_when_unset_and_only_204_succeeds() {
        let event = OutgoingEvent {
            pubsub: "p",
            topic: "t",
            id: "i",
            event_type: "x",
        };
        let req = PublishRequest::new("3500", event, &serde_json::json!({}), None, "");
        assert!(req
            .headers
            .iter()
            .all(|(k, _)| k != "dapr-api-token" && k != "traceparent"));
        // A malformed traceparent (here a header injection) is not forwarded.
        let event = OutgoingEvent {
            pubsub: "p",
            topic: "t",
            id: "i",
            event_type: "x",
        };
        let bad = "00-t-s-01\r\nX-Evil: 1";
        let req = PublishRequest::new("3500", event, &serde_json::json!({}), Some(bad), "");
        assert!(req.headers.iter().all(|(k, _)| k != "traceparent"));
        assert!(PublishRequest::succeeded(204));
        assert!(!PublishRequest::succeeded(200));
        assert!(!PublishRequest::succeeded(500));
    }
}
