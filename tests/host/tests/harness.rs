//! The application as `spin up` serves it: Spin's own routes and answers,
//! the start-up errors of a bad configuration, and the subscription list.
//! These run the real Spin CLI, so they also prove the harness does.

use std::collections::HashMap;

use component_host::derived_manifest::spin_toml;
use component_host::TestApp;

fn overrides(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

async fn app(pairs: &[(&str, &str)]) -> TestApp {
    let mut vars = overrides(&[("database_url", "postgres://nobody@127.0.0.1:1/none")]);
    vars.extend(overrides(pairs));
    TestApp::start(&spin_toml(), &vars)
        .await
        .expect("app starts")
}

async fn get(url: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let res = component_host::client::send("GET", url, headers, "")
        .await
        .expect("request succeeds");
    (res.status, res.text())
}

#[tokio::test]
async fn unknown_routes_get_a_404_and_spins_health_answers() {
    let app = app(&[]).await;
    let (status, _) = get(&format!("{}/nope", app.base_url()), &[]).await;
    assert_eq!(status, 404);
    let (status, _) = get(&format!("{}/events/unknown", app.base_url()), &[]).await;
    assert_eq!(status, 404);
    let (status, body) = get(&format!("{}/.well-known/spin/health", app.base_url()), &[]).await;
    assert_eq!((status, body.as_str()), (200, "OK"));
}

#[tokio::test]
async fn a_missing_required_variable_stops_spin_at_start() {
    let err = TestApp::start(&spin_toml(), &HashMap::new())
        .await
        .err()
        .expect("database_url is required");
    let text = format!("{err:#}");
    assert!(text.contains("database_url"), "{text}");
}

/// Spin 3.6.3 starts with an `allowed_outbound_hosts` entry that does not
/// parse after templating (the former test host refused to start): it logs
/// the error and refuses the component's outbound connections, so the
/// component reports itself not ready instead of serving.
#[tokio::test]
async fn an_invalid_allowed_host_is_logged_and_the_component_not_ready() {
    let app = app(&[
        ("database_url", "postgres://nobody@localhost:5432/none"),
        ("email_relay_base", "not a url"),
    ])
    .await;
    let res = component_host::client::send(
        "GET",
        &format!("{}/notifications/readyz", app.base_url()),
        &[],
        "",
    )
    .await
    .expect("readyz");
    assert_eq!(res.status, 503, "{}", res.text());
    let needle = "Error parsing allowed outbound hosts";
    let logs = app.logs_once_containing(needle).await;
    assert!(logs.contains(needle), "{logs}");
}

#[tokio::test]
async fn dapr_subscribe_lists_the_configured_services() {
    let joint = app(&[]).await;
    let (status, body) = get(&format!("{}/dapr/subscribe", joint.base_url()), &[]).await;
    assert_eq!(status, 200);
    let subs: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(subs.as_array().map(Vec::len), Some(2));
    assert_eq!(subs[0]["deadLetterTopic"], "reminders-dlq");
    assert_eq!(subs[1]["route"], "/events/task-events");

    let split = app(&[("dapr_services", "recurrence"), ("pubsub_name", "other")]).await;
    let (_, body) = get(&format!("{}/dapr/subscribe", split.base_url()), &[]).await;
    let subs: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(
        subs,
        serde_json::json!([{"pubsubname":"other","topic":"task-events","route":"/events/task-events","deadLetterTopic":"task-events-dlq",
                            "bulkSubscribe": {"enabled": true, "maxMessagesCount": 100, "maxAwaitDurationMs": 1000}}])
    );
}

#[tokio::test]
async fn app_api_token_guards_the_subscription_list() {
    let app = app(&[("app_api_token", "s3cret")]).await;
    let url = format!("{}/dapr/subscribe", app.base_url());
    let (status, body) = get(&url, &[]).await;
    assert_eq!(status, 401);
    let err: serde_json::Value = serde_json::from_str(&body).expect("error shape");
    assert_eq!(err["error"]["code"], "unauthorized");
    assert_eq!(get(&url, &[("dapr-api-token", "wrong")]).await.0, 401);
    assert_eq!(get(&url, &[("dapr-api-token", "s3cret")]).await.0, 200);
}
