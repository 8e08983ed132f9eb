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
