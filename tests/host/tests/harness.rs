//! The host itself behaves like Spin 3.6.3 where the components cannot tell
//! the difference: routing, variables, well-known routes, and the errors a
//! broken manifest or configuration produces.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use component_host::manifest::Manifest;
use component_host::routes::Router;
use component_host::variables::{VariableError, Variables};
use component_host::TestApp;

fn manifest_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spin.toml")
}

fn overrides(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn routes_of_the_contract_reach_their_components() {
    let manifest = Manifest::load(&manifest_path()).expect("spin.toml loads");
    let router = Router::build(&manifest).expect("routes build");
    let m = router
        .route("/notifications/subscribers/u-42/devices/tok-1")
        .expect("device route");
    assert_eq!(m.component, "notification");
    assert_eq!(m.params.get("user_id").map(String::as_str), Some("u-42"));
    assert_eq!(m.params.get("token").map(String::as_str), Some("tok-1"));
    assert_eq!(
        router
            .route("/events/task-events")
            .expect("route")
            .component,
        "recurrence"
    );
    assert_eq!(
        router.route("/dapr/subscribe").expect("route").component,
        "subscriptions"
    );
    assert!(router.route("/events/unknown").is_none());
    assert!(router.route("/").is_none());
}

#[test]
fn wildcards_lose_to_exact_routes_and_capture_path_info() {
    let text = r#"
        spin_manifest_version = 2
        [application]
        name = "t"
        [[trigger.http]]
        route = "/api/..."
        component = "wild"
        [[trigger.http]]
        route = "/api/exact"
        component = "exact"
        [component.wild]
        source = "w.wasm"
        [component.exact]
        source = "e.wasm"
    "#;
    let manifest = Manifest::parse(text, PathBuf::from(".")).expect("parses");
    let router = Router::build(&manifest).expect("builds");
    assert_eq!(
        router.route("/api/exact").expect("match").component,
        "exact"
    );
    let wild = router.route("/api/a/b").expect("match");
    assert_eq!(wild.component, "wild");
    assert_eq!(wild.path_info, "/a/b");
}

#[test]
fn a_missing_required_variable_stops_the_app_like_spin() {
    let manifest = Manifest::load(&manifest_path()).expect("loads");
    let err = Variables::resolve(&manifest, &HashMap::new()).expect_err("database_url is required");
    let text = err.to_string();
    assert!(
        text.contains("no provider resolved required variable(s)") && text.contains("database_url"),
        "{text}"
    );
    let err = Variables::resolve(
        &manifest,
        &overrides(&[("database_url", "x"), ("no_such_var", "1")]),
    )
    .expect_err("undeclared variable");
    assert!(err.to_string().contains("no_such_var"));
}

#[test]
fn component_variables_are_templates_over_app_variables() {
    let manifest = Manifest::load(&manifest_path()).expect("loads");
    let vars = Variables::resolve(
        &manifest,
        &overrides(&[
            ("database_url", "postgres://db/x"),
            ("dapr_http_port", "3999"),
        ]),
    )
    .expect("resolves");
    assert_eq!(
        vars.get("recurrence", "dapr_http_port").as_deref(),
        Ok("3999")
    );
    assert_eq!(
        vars.get("recurrence", "pubsub_name").as_deref(),
        Ok("kafka-pubsub")
    );
    assert!(matches!(
        vars.get("subscriptions", "database_url"),
        Err(VariableError::Undefined(_))
    ));
    assert!(matches!(
        vars.get("recurrence", "Bad-Name"),
        Err(VariableError::InvalidName(_))
    ));
}

#[test]
fn malformed_manifests_are_refused() {
    let bad_route = r#"
        spin_manifest_version = 2
        [application]
        name = "t"
        [[trigger.http]]
        route = "/x"
        component = "missing"
    "#;
    let err = Manifest::parse(bad_route, PathBuf::from(".")).expect_err("unknown component");
    assert!(err.to_string().contains("unknown component"), "{err}");
    let bad_var = r#"
        spin_manifest_version = 2
        [application]
        name = "t"
        [variables]
        Upper = { default = "x" }
    "#;
    assert!(Manifest::parse(bad_var, PathBuf::from(".")).is_err());
}

async fn app(pairs: &[(&str, &str)]) -> TestApp {
    let mut vars = overrides(&[("database_url", "postgres://nobody@127.0.0.1:1/none")]);
    vars.extend(overrides(pairs));
    TestApp::start(&manifest_path(), &vars)
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
async fn unknown_routes_get_spins_empty_404_and_health_answers() {
    let app = app(&[]).await;
    let (status, body) = get(&format!("{}/nope", app.base_url()), &[]).await;
    assert_eq!((status, body.as_str()), (404, ""));
    let (status, body) = get(&format!("{}/.well-known/spin/health", app.base_url()), &[]).await;
    assert_eq!((status, body.as_str()), (200, "OK"));
    let (status, _) = get(&format!("{}/.well-known/spin/other", app.base_url()), &[]).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_invalid_allowed_host_template_result_fails_startup() {
    let vars = overrides(&[
        ("database_url", "postgres://x@127.0.0.1:1/x"),
        ("email_relay_base", "not a url"),
    ]);
    let err = TestApp::start(&manifest_path(), &vars)
        .await
        .err()
        .expect("must fail");
    let text = format!("{err:#}");
    assert!(
        text.contains("allowed_outbound_hosts") || text.contains("scheme"),
        "{text}"
    );
}

#[tokio::test]
async fn dapr_subscribe_lists_the_configured_services() {
    let app = app(&[]).await;
    let (status, body) = get(&format!("{}/dapr/subscribe", app.base_url()), &[]).await;
    assert_eq!(status, 200);
    let subs: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(subs.as_array().map(Vec::len), Some(2));
    assert_eq!(subs[0]["deadLetterTopic"], "reminders-dlq");
    assert_eq!(subs[1]["route"], "/events/task-events");

    let split = app_with(&[("dapr_services", "recurrence"), ("pubsub_name", "other")]).await;
    let (_, body) = get(&format!("{}/dapr/subscribe", split.base_url()), &[]).await;
    let subs: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(
        subs,
        serde_json::json!([{"pubsubname":"other","topic":"task-events","route":"/events/task-events","deadLetterTopic":"task-events-dlq"}])
    );
}

async fn app_with(pairs: &[(&str, &str)]) -> TestApp {
    app(pairs).await
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
