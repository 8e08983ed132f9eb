//! The fake Dapr sidecar's publish API against the Dapr pub/sub API reference:
//! 204 on success, 400/403/404/500 with Dapr's error JSON, 401 with
//! DAPR_API_TOKEN.

use component_host::client;
use component_host::fakes::dapr::{FakeSidecar, SidecarConfig};

const TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

async fn publish(
    sidecar: &FakeSidecar,
    path_and_query: &str,
    headers: &[(&str, &str)],
) -> client::HttpResponse {
    let mut all = vec![("content-type", "application/json")];
    all.extend_from_slice(headers);
    client::send(
        "POST",
        &format!("{}{path_and_query}", sidecar.base_url()),
        &all,
        r#"{"delivery_id":"d-1","channel":"email"}"#,
    )
    .await
    .expect("publish request")
}

#[tokio::test]
async fn accepted_publish_is_204_and_recorded_with_metadata_and_trace() {
    let sidecar = FakeSidecar::start().await.unwrap();
    let r = publish(
        &sidecar,
        "/v1.0/publish/kafka-pubsub/notifications?metadata.cloudevent.id=evt-1&metadata.cloudevent.type=notification.sent&metadata.ttlInSeconds=60",
        &[("traceparent", TRACEPARENT)],
    )
    .await;
    assert_eq!(r.status, 204);
    assert!(r.body.is_empty());

    let publishes = sidecar.publishes();
    assert_eq!(publishes.len(), 1);
    let p = &publishes[0];
    assert_eq!(p.pubsub, "kafka-pubsub");
    assert_eq!(p.topic, "notifications");
    assert_eq!(p.cloudevent_id.as_deref(), Some("evt-1"));
    assert_eq!(p.cloudevent_type.as_deref(), Some("notification.sent"));
    assert_eq!(
        p.metadata.get("ttlInSeconds").map(String::as_str),
        Some("60")
    );
    assert_eq!(p.traceparent.as_deref(), Some(TRACEPARENT));
    assert_eq!(p.content_type.as_deref(), Some("application/json"));
    assert_eq!(p.data.as_ref().unwrap()["channel"], "email");
    assert_eq!(sidecar.publishes_to("notifications").len(), 1);
    assert!(sidecar.publishes_to("task-events").is_empty());
    assert_eq!(
        sidecar.spin_variables(),
        vec![("dapr_http_port", sidecar.port().to_string())]
    );
}

#[tokio::test]
async fn unknown_pubsub_is_400_err_pubsub_not_found() {
    let sidecar = FakeSidecar::start().await.unwrap();
    let r = publish(&sidecar, "/v1.0/publish/redis-pubsub/notifications", &[]).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        serde_json::json!({"errorCode": "ERR_PUBSUB_NOT_FOUND", "message": "pubsub 'redis-pubsub' not found"})
    );
    assert!(sidecar.publishes().is_empty());
    assert_eq!(sidecar.publish_attempts().len(), 1);
}

#[tokio::test]
async fn forbidden_topic_is_403_err_pubsub_forbidden() {
    let sidecar = FakeSidecar::start().await.unwrap();
    sidecar.forbid_topic("kafka-pubsub", "notifications");
    let r = publish(&sidecar, "/v1.0/publish/kafka-pubsub/notifications", &[]).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["errorCode"], "ERR_PUBSUB_FORBIDDEN");
    assert_eq!(
        r.json()["message"],
        "topic notifications is not allowed for app id todo-workers"
    );
    // Other topics still work.
    assert_eq!(
        publish(&sidecar, "/v1.0/publish/kafka-pubsub/task-events", &[])
            .await
            .status,
        204
    );
}

#[tokio::test]
async fn broker_failure_is_500_err_pubsub_publish_message_then_recovers() {
    let sidecar = FakeSidecar::start().await.unwrap();
    sidecar.fail_next_publishes(1, "kafka: broker not available");
    let r = publish(&sidecar, "/v1.0/publish/kafka-pubsub/notifications", &[]).await;
    assert_eq!(r.status, 500);
    assert_eq!(r.json()["errorCode"], "ERR_PUBSUB_PUBLISH_MESSAGE");
    assert_eq!(
        r.json()["message"],
        "error when publish to topic notifications in pubsub kafka-pubsub: kafka: broker not available"
    );
    assert!(sidecar.publishes().is_empty());
    assert_eq!(
        publish(&sidecar, "/v1.0/publish/kafka-pubsub/notifications", &[])
            .await
            .status,
        204
    );
    assert_eq!(sidecar.publishes().len(), 1);
}

#[tokio::test]
async fn missing_topic_is_404() {
    let sidecar = FakeSidecar::start().await.unwrap();
    assert_eq!(
        publish(&sidecar, "/v1.0/publish/kafka-pubsub", &[])
            .await
            .status,
        404
    );
    assert_eq!(
        publish(&sidecar, "/v1.0/publish/kafka-pubsub/", &[])
            .await
            .status,
        404
    );
    assert_eq!(publish(&sidecar, "/v1.0/publish", &[]).await.status, 404);
}

#[tokio::test]
async fn topic_may_contain_slashes_and_escapes() {
    let sidecar = FakeSidecar::start().await.unwrap();
    assert_eq!(
        publish(&sidecar, "/v1.0/publish/kafka-pubsub/a/b%20c", &[])
            .await
            .status,
        204
    );
    assert_eq!(sidecar.publishes()[0].topic, "a/b c");
}

#[tokio::test]
async fn api_token_is_required_when_configured() {
    let sidecar = FakeSidecar::start_with(SidecarConfig {
        api_token: Some("s3cret".into()),
        ..SidecarConfig::default()
    })
    .await
    .unwrap();
    let path = "/v1.0/publish/kafka-pubsub/notifications";

    let missing = publish(&sidecar, path, &[]).await;
    assert_eq!(missing.status, 401);
    assert_eq!(missing.text(), "invalid api token\n");
    let wrong = publish(&sidecar, path, &[("dapr-api-token", "nope")]).await;
    assert_eq!(wrong.status, 401);
    assert!(sidecar.publishes().is_empty());

    let ok = publish(&sidecar, path, &[("dapr-api-token", "s3cret")]).await;
    assert_eq!(ok.status, 204);
    assert_eq!(sidecar.publishes()[0].api_token.as_deref(), Some("s3cret"));

    // Health is exempt, as in daprd.
    let health = client::send(
        "GET",
        &format!("{}/v1.0/healthz", sidecar.base_url()),
        &[],
        "",
    )
    .await
    .unwrap();
    assert_eq!(health.status, 204);
}

#[tokio::test]
async fn any_pubsub_is_accepted_when_not_restricted() {
    let sidecar = FakeSidecar::start_with(SidecarConfig {
        pubsubs: None,
        ..SidecarConfig::default()
    })
    .await
    .unwrap();
    assert_eq!(
        publish(&sidecar, "/v1.0/publish/whatever/t", &[])
            .await
            .status,
        204
    );
}
