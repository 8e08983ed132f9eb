//! Requests to the sidecar's publish API (`/v1.0/publish/{pubsub}/{topic}`),
//! described with the `http` crate's types like every outbound call (the
//! caller adds the `traceparent` it continues and sends it with a deadline).

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

/// The publish call of the JSON `payload` for a sidecar on `localhost:{port}`; `api_token` is
/// sent as `dapr-api-token` when non-empty. Fails only for a port or token
/// an HTTP stack refuses (a deployment error, never the event's).
pub fn publish_request(
    port: &str,
    event: OutgoingEvent<'_>,
    payload: Vec<u8>,
    api_token: &str,
) -> Result<http::Request<Vec<u8>>, http::Error> {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let url = format!(
        "http://localhost:{port}/v1.0/publish/{}/{}?metadata.cloudevent.id={}&metadata.cloudevent.type={}",
        enc(event.pubsub),
        enc(event.topic),
        enc(event.id),
        enc(event.event_type),
    );
    let mut request = http::Request::post(url)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(payload)?;
    if !api_token.is_empty() {
        let mut token = http::HeaderValue::try_from(api_token)?;
        token.set_sensitive(true);
        request.headers_mut().insert("dapr-api-token", token);
    }
    Ok(request)
}

/// Dapr answers 204 on success; anything else is a transient fault.
pub fn publish_succeeded(status: u16) -> bool {
    status == 204
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
        let req = publish_request("3500", event, br#"{"task_id":"x"}"#.to_vec(), "tok").unwrap();
        assert_eq!(req.method(), http::Method::POST);
        assert_eq!(
            req.uri(),
            "http://localhost:3500/v1.0/publish/kafka-pubsub/task-events?metadata.cloudevent.id=6f1c+a&metadata.cloudevent.type=task.created"
        );
        assert_eq!(req.headers()["content-type"], "application/json");
        assert_eq!(req.headers()["dapr-api-token"], "tok");
        assert!(req.headers()["dapr-api-token"].is_sensitive());
        assert_eq!(req.body(), br#"{"task_id":"x"}"#);
    }

    #[test]
    fn no_token_header_when_unset_and_only_204_succeeds() {
        let event = OutgoingEvent {
            pubsub: "p",
            topic: "t",
            id: "i",
            event_type: "x",
        };
        let req = publish_request("3500", event, b"{}".to_vec(), "").unwrap();
        assert!(req.headers().get("dapr-api-token").is_none());
        // A token that would split the header is refused, not sent.
        assert!(publish_request("3500", event, b"{}".to_vec(), "a\r\nX-Evil: 1").is_err());
        assert!(publish_succeeded(204));
        assert!(!publish_succeeded(200));
        assert!(!publish_succeeded(500));
    }
}
