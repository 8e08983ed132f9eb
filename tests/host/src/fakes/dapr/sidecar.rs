//! The Dapr sidecar's publish API, `POST /v1.0/publish/{pubsubname}/{topic}`.
//!
//! Mirrored from the Dapr docs and daprd:
//! - 204 (no body) when the message is accepted;
//! - 401 `invalid api token` (text/plain) on any route when the sidecar runs
//!   with `DAPR_API_TOKEN` and the `dapr-api-token` header is missing or
//!   wrong (daprd `APITokenAuthMiddleware`); `/v1.0/healthz` is exempt;
//! - 404 when the pubsub name or topic is missing from the path (router);
//! - 400 `ERR_PUBSUB_NOT_FOUND` (`pubsub 'x' not found`) for an unknown pubsub;
//! - 403 `ERR_PUBSUB_FORBIDDEN` when scopes forbid the topic;
//! - 500 `ERR_PUBSUB_PUBLISH_MESSAGE` when the broker fails.
//!
//! Error bodies are Dapr's `{"errorCode": "...", "message": "..."}`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use serde_json::json;

use crate::fakes::server::{percent_decode, CannedResponse, FakeServer, RecordedRequest};

/// How the fake sidecar is configured, like daprd's environment and components.
#[derive(Debug, Clone)]
pub struct SidecarConfig {
    /// `DAPR_API_TOKEN`: when set, every call must carry it in `dapr-api-token`.
    pub api_token: Option<String>,
    /// Names of the loaded pub/sub components; `None` accepts any name.
    pub pubsubs: Option<Vec<String>>,
    /// The app id, used in daprd's "not allowed" message.
    pub app_id: String,
}

impl Default for SidecarConfig {
    fn default() -> Self {
        Self {
            api_token: None,
            pubsubs: Some(vec!["kafka-pubsub".to_owned()]),
            app_id: "todo-workers".to_owned(),
        }
    }
}

/// One message the sidecar accepted (answered 204).
#[derive(Debug, Clone)]
pub struct Publish {
    /// Pub/sub component name from the path.
    pub pubsub: String,
    /// Topic from the path (percent-decoded; may contain `/`).
    pub topic: String,
    /// `metadata.cloudevent.id` query parameter.
    pub cloudevent_id: Option<String>,
    /// `metadata.cloudevent.type` query parameter.
    pub cloudevent_type: Option<String>,
    /// Every `metadata.*` query parameter, without the `metadata.` prefix.
    pub metadata: BTreeMap<String, String>,
    /// `Content-Type` of the request (Dapr assumes `text/plain` without it).
    pub content_type: Option<String>,
    /// `traceparent` header.
    pub traceparent: Option<String>,
    /// `tracestate` header.
    pub tracestate: Option<String>,
    /// `dapr-api-token` header as received.
    pub api_token: Option<String>,
    /// The body parsed as JSON, if it is JSON.
    pub data: Option<serde_json::Value>,
    /// The body as received.
    pub body: Bytes,
}

#[derive(Debug, Default)]
struct State {
    forbidden: BTreeSet<(String, String)>,
    failures: Vec<String>,
    publishes: Vec<Publish>,
}

/// A fake Dapr sidecar HTTP API (publish side).
#[derive(Debug)]
pub struct FakeSidecar {
    server: FakeServer,
    state: Arc<Mutex<State>>,
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

impl FakeSidecar {
    /// Starts a sidecar with [`SidecarConfig::default`] (pubsub `kafka-pubsub`,
    /// no API token).
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with(SidecarConfig::default()).await
    }

    /// Starts a sidecar with this configuration.
    pub async fn start_with(config: SidecarConfig) -> anyhow::Result<Self> {
        let state = Arc::new(Mutex::new(State::default()));
        let handler_state = state.clone();
        let config = Arc::new(config);
        let server = FakeServer::start(
            "dapr sidecar",
            Arc::new(move |req| answer(&config, &handler_state, req)),
        )
        .await?;
        Ok(Self { server, state })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The port, i.e. the value for the `dapr_http_port` variable.
    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// Spin variables (docs/CONTRACT.md, "Configuration") that point the app at this
    /// sidecar: `dapr_http_port`.
    pub fn spin_variables(&self) -> Vec<(&'static str, String)> {
        vec![("dapr_http_port", self.port().to_string())]
    }

    /// The underlying recording server (all requests, generic faults, delay).
    pub fn server(&self) -> &FakeServer {
        &self.server
    }

    /// Accepted messages, in order.
    pub fn publishes(&self) -> Vec<Publish> {
        lock(&self.state).publishes.clone()
    }

    /// Accepted messages on one topic, in order.
    pub fn publishes_to(&self, topic: &str) -> Vec<Publish> {
        lock(&self.state)
            .publishes
            .iter()
            .filter(|p| p.topic == topic)
            .cloned()
            .collect()
    }

    /// Every publish request received, accepted or not.
    pub fn publish_attempts(&self) -> Vec<RecordedRequest> {
        self.server.requests_to("/v1.0/publish/")
    }

    /// Makes the broker fail the next `n` publishes (after authentication and
    /// pubsub checks): 500 `ERR_PUBSUB_PUBLISH_MESSAGE`.
    pub fn fail_next_publishes(&self, n: usize, reason: &str) {
        let mut state = lock(&self.state);
        state
            .failures
            .extend(std::iter::repeat_n(reason.to_owned(), n));
    }

    /// Forbids publishing `topic` on `pubsub`, as component scopes
    /// (`publishingScopes`) would: 403 `ERR_PUBSUB_FORBIDDEN`.
    pub fn forbid_topic(&self, pubsub: &str, topic: &str) {
        lock(&self.state)
            .forbidden
            .insert((pubsub.to_owned(), topic.to_owned()));
    }
}

fn dapr_error(status: u16, code: &str, message: &str) -> CannedResponse {
    CannedResponse::json(status, &json!({ "errorCode": code, "message": message }))
}

fn not_found() -> CannedResponse {
    // daprd's router (chi / net/http) answers unknown routes like this.
    CannedResponse::text(404, "404 page not found\n")
}

fn answer(config: &SidecarConfig, state: &Mutex<State>, req: &RecordedRequest) -> CannedResponse {
    let exempt = req.path == "/v1.0/healthz" || req.path == "/v1.0/healthz/outbound";
    if let Some(token) = &config.api_token {
        if !exempt && req.header("dapr-api-token") != Some(token.as_str()) {
            // net/http's http.Error: text/plain, trailing newline.
            return CannedResponse::text(401, "invalid api token\n");
        }
    }
    if exempt {
        return if req.method == http::Method::GET {
            CannedResponse::empty(204)
        } else {
            CannedResponse::text(405, "Method Not Allowed\n")
        };
    }
    let Some(rest) = req.path.strip_prefix("/v1.0/publish/") else {
        return not_found();
    };
    if req.method != http::Method::POST && req.method != http::Method::PUT {
        return CannedResponse::text(405, "Method Not Allowed\n");
    }
    let Some((pubsub, topic)) = rest.split_once('/') else {
        return not_found();
    };
    let (pubsub, topic) = (percent_decode(pubsub), percent_decode(topic));
    if pubsub.is_empty() || topic.is_empty() {
        return not_found();
    }
    if let Some(known) = &config.pubsubs {
        if !known.contains(&pubsub) {
            return dapr_error(
                400,
                "ERR_PUBSUB_NOT_FOUND",
                &format!("pubsub '{pubsub}' not found"),
            );
        }
    }
    let mut state = lock(state);
    if state.forbidden.contains(&(pubsub.clone(), topic.clone())) {
        return dapr_error(
            403,
            "ERR_PUBSUB_FORBIDDEN",
            &format!("topic {topic} is not allowed for app id {}", config.app_id),
        );
    }
    if !state.failures.is_empty() {
        let reason = state.failures.remove(0);
        return dapr_error(
            500,
            "ERR_PUBSUB_PUBLISH_MESSAGE",
            &format!("error when publish to topic {topic} in pubsub {pubsub}: {reason}"),
        );
    }
    let metadata: BTreeMap<String, String> = req
        .query_pairs()
        .into_iter()
        .filter_map(|(k, v)| k.strip_prefix("metadata.").map(|k| (k.to_owned(), v)))
        .collect();
    let header = |name: &str| req.header(name).map(str::to_owned);
    state.publishes.push(Publish {
        cloudevent_id: metadata.get("cloudevent.id").cloned(),
        cloudevent_type: metadata.get("cloudevent.type").cloned(),
        metadata,
        pubsub,
        topic,
        content_type: header("content-type"),
        traceparent: header("traceparent"),
        tracestate: header("tracestate"),
        api_token: header("dapr-api-token"),
        data: req.json(),
        body: req.body.clone(),
    });
    CannedResponse::empty(204)
}
