//! daprd's sending side: fetch the app's subscriptions, wrap payloads in
//! CloudEvents 1.0 envelopes, POST them to the subscribed routes and read the
//! answers the way daprd does.
//!
//! Answer interpretation (Dapr pub/sub API reference, "Expected HTTP Response"):
//! - 2xx: the JSON body's `status` decides: `SUCCESS`, `RETRY`, `DROP`
//!   (case-sensitive); any other non-empty status is an error and retried;
//!   an empty body, a body without `status`, or a body that is not JSON
//!   counts as `SUCCESS` ("ignored if invalid payload");
//! - 404: error logged and the message dropped;
//! - any other status, or no answer at all: retried.
//!
//! A message that is dropped, or still failing after the retries, goes to the
//! subscription's `deadLetterTopic` when it has one (Dapr "Dead Letter Topics").
//! Checked against daprd's `pkg/runtime/subscription/postman/http/http.go`
//! and `subscription.go`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail};
use bytes::Bytes;
use http::StatusCode;
use serde_json::{json, Map, Value};

use super::subscription::{parse_subscriptions, Subscription};

/// Time allowed for one call to the app unless [`DaprDriver::with_timeout`] says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// CloudEvent `type` daprd uses when the publisher does not override it.
pub const DEFAULT_EVENT_TYPE: &str = "com.dapr.event.sent";

/// How daprd reads one answer of the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AppStatus {
    /// Processed; the message is acknowledged.
    Success,
    /// To be delivered again.
    Retry,
    /// Never deliverable; dropped (to the dead-letter topic if set).
    Drop,
}

/// daprd's reading of an app answer to a single (non-bulk) delivery.
pub fn interpret_app_response(status: StatusCode, body: &[u8]) -> AppStatus {
    if status.is_success() {
        // daprd decodes `{"status": ...}`; a decode error is logged and ignored.
        let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
            return AppStatus::Success;
        };
        match map.get("status") {
            None | Some(Value::Null) => AppStatus::Success,
            Some(Value::String(s)) => match s.as_str() {
                "" | "SUCCESS" => AppStatus::Success,
                "RETRY" => AppStatus::Retry,
                "DROP" => AppStatus::Drop,
                _ => AppStatus::Retry,
            },
            // A non-string status fails Go's decode: ignored, i.e. success.
            Some(_) => AppStatus::Success,
        }
    } else if status == StatusCode::NOT_FOUND {
        AppStatus::Drop
    } else {
        AppStatus::Retry
    }
}

/// The `status` string of a JSON answer body, if there is one.
pub(super) fn explicit_status(body: &[u8]) -> Option<String> {
    match serde_json::from_slice::<Value>(body).ok()? {
        Value::Object(map) => map.get("status")?.as_str().map(str::to_owned),
        _ => None,
    }
}

/// Per-delivery choices: CloudEvent attributes the publisher may override,
/// and tracing headers.
#[derive(Debug, Clone, Default)]
pub struct DeliverOptions {
    /// CloudEvent `id` (default: a new UUID).
    pub id: Option<String>,
    /// CloudEvent `type` (default: [`DEFAULT_EVENT_TYPE`]).
    pub event_type: Option<String>,
    /// CloudEvent `source` (default: the driver's source, the publisher's app id).
    pub source: Option<String>,
    /// Pub/sub to deliver from, when the app subscribes to the topic on several.
    pub pubsubname: Option<String>,
    /// W3C `traceparent` of the envelope (default: a new sampled trace).
    pub traceparent: Option<String>,
    /// The HTTP `traceparent` header instead of daprd's (default: see
    /// [`DaprDriver::deliver_envelope`]); `Some(None)` sends none.
    pub header_traceparent: Option<Option<String>>,
    /// W3C `tracestate` (default: empty).
    pub tracestate: Option<String>,
    /// `datacontenttype` (default: `application/json`).
    pub datacontenttype: Option<String>,
    /// Envelope fields to set after the defaults; `null` removes a field.
    pub overrides: Map<String, Value>,
}

impl DeliverOptions {
    /// Default options.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the CloudEvent `id`.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }
    /// Sets the CloudEvent `type`.
    pub fn event_type(mut self, event_type: impl Into<String>) -> Self {
        self.event_type = Some(event_type.into());
        self
    }
    /// Sets the CloudEvent `source`.
    pub fn source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }
    /// Chooses the pub/sub component.
    pub fn pubsubname(mut self, name: impl Into<String>) -> Self {
        self.pubsubname = Some(name.into());
        self
    }
    /// Sets the `traceparent`.
    pub fn traceparent(mut self, traceparent: impl Into<String>) -> Self {
        self.traceparent = Some(traceparent.into());
        self
    }
    /// Replaces the HTTP `traceparent` header daprd would send
    /// (`None`: no header), to tell the header and the envelope apart.
    pub fn header_traceparent(mut self, traceparent: Option<&str>) -> Self {
        self.header_traceparent = Some(traceparent.map(str::to_owned));
        self
    }
    /// Sets the `datacontenttype`.
    pub fn datacontenttype(mut self, content_type: impl Into<String>) -> Self {
        self.datacontenttype = Some(content_type.into());
        self
    }
    /// Overrides (or with `null`, removes) one envelope field.
    pub fn set(mut self, field: &str, value: Value) -> Self {
        self.overrides.insert(field.to_owned(), value);
        self
    }
}

/// One POST of an event (or a bulk) to the app and how daprd read the answer.
#[derive(Debug, Clone)]
pub struct PostAttempt {
    /// Path POSTed to.
    pub route: String,
    /// CloudEvent id delivered, when the body was an envelope.
    pub event_id: Option<String>,
    /// Status the app answered; `None` on a transport error.
    pub http_status: Option<StatusCode>,
    /// Answer body.
    pub body: Bytes,
    /// Why there was no answer.
    pub transport_error: Option<String>,
    /// daprd's reading of the answer.
    pub outcome: AppStatus,
    /// The `status` string of a JSON answer, exactly as sent.
    pub explicit_status: Option<String>,
    /// Time the app took.
    pub elapsed: Duration,
}

impl PostAttempt {
    /// The answer body as text.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// True when the app answered exactly as the contract asks: HTTP 200 with
    /// a JSON body whose `status` is this status's upper-case name.
    pub fn answered_explicitly(&self, status: AppStatus) -> bool {
        let wanted = match status {
            AppStatus::Success => "SUCCESS",
            AppStatus::Retry => "RETRY",
            AppStatus::Drop => "DROP",
        };
        self.http_status == Some(StatusCode::OK) && self.explicit_status.as_deref() == Some(wanted)
    }
}

/// Why a message went to the dead-letter topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadLetterReason {
    /// The app answered `DROP` (or 404).
    Dropped,
    /// The app kept asking for a retry until the attempts ran out.
    Exhausted,
}

/// A message daprd forwarded to a dead-letter topic.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    /// The dead-letter topic.
    pub topic: String,
    /// The topic the message was delivered on.
    pub original_topic: String,
    /// Pub/sub component.
    pub pubsubname: String,
    /// The envelope, unchanged.
    pub envelope: Value,
    /// Why.
    pub reason: DeadLetterReason,
}

/// How a message ended after redeliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettledOutcome {
    /// The app acknowledged it.
    Success,
    /// The app dropped it.
    Dropped,
    /// Still `RETRY` after the last attempt.
    Exhausted,
}

/// Every attempt at one message, and how it ended.
#[derive(Debug, Clone)]
pub struct Settlement {
    /// Attempts in order; all carried the same envelope.
    pub attempts: Vec<PostAttempt>,
    /// The end.
    pub outcome: SettledOutcome,
    /// Where it went, when it was dead-lettered.
    pub dead_letter: Option<DeadLetter>,
}

impl Settlement {
    /// The outcome of each attempt, in order.
    pub fn outcomes(&self) -> Vec<AppStatus> {
        self.attempts.iter().map(|a| a.outcome).collect()
    }
}

/// Delivers topic events to an app the way daprd does.
#[derive(Debug)]
pub struct DaprDriver {
    pub(super) app_base_url: String,
    pub(super) app_api_token: Option<String>,
    pub(super) source: String,
    pub(super) timeout: Duration,
    retry_delay: Duration,
    subscriptions: Vec<Subscription>,
    dead_letters: Arc<Mutex<Vec<DeadLetter>>>,
}

impl DaprDriver {
    /// A driver for the app at `app_base_url` (e.g. `http://127.0.0.1:PORT`).
    pub fn new(app_base_url: impl Into<String>) -> Self {
        Self {
            app_base_url: app_base_url.into().trim_end_matches('/').to_owned(),
            app_api_token: None,
            source: "todo-backend".to_owned(),
            timeout: DEFAULT_TIMEOUT,
            retry_delay: Duration::ZERO,
            subscriptions: Vec::new(),
            dead_letters: Arc::default(),
        }
    }

    /// `APP_API_TOKEN`: sent as `dapr-api-token` on every call to the app.
    pub fn with_app_api_token(mut self, token: impl Into<String>) -> Self {
        self.app_api_token = Some(token.into());
        self
    }

    /// Default CloudEvent `source` (the publishing app's id).
    pub fn with_source(mut self, source: impl Into<String>) -> Self {
        self.source = source.into();
        self
    }

    /// Time allowed for each app call.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Pause between redeliveries in [`Self::deliver_until_settled`].
    pub fn with_retry_delay(mut self, delay: Duration) -> Self {
        self.retry_delay = delay;
        self
    }

    pub(super) fn token_header(&self) -> Vec<(&str, &str)> {
        self.app_api_token
            .as_deref()
            .map(|t| vec![("dapr-api-token", t)])
            .unwrap_or_default()
    }

    /// One call to the app through the crate's HTTP client, within the timeout.
    pub(super) async fn call(
        &self,
        method: &str,
        route: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> anyhow::Result<(StatusCode, Bytes)> {
        let url = self.url(route);
        let response = tokio::time::timeout(
            self.timeout,
            crate::client::send(method, &url, headers, body),
        )
        .await
        .map_err(|_| anyhow!("{method} {url}: no answer within {:?}", self.timeout))??;
        let status = StatusCode::from_u16(response.status)?;
        Ok((status, response.body))
    }

    pub(super) fn url(&self, route: &str) -> String {
        format!("{}/{}", self.app_base_url, route.trim_start_matches('/'))
    }

    /// `GET /dapr/subscribe`, as daprd does once at start-up; keeps and
    /// returns the parsed list. Fails unless the app answers 200 with a valid
    /// subscription array.
    pub async fn subscribe(&mut self) -> anyhow::Result<Vec<Subscription>> {
        let (status, body) = self
            .call("GET", "/dapr/subscribe", &self.token_header(), Bytes::new())
            .await?;
        if status != StatusCode::OK {
            bail!(
                "GET /dapr/subscribe answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        self.subscriptions = parse_subscriptions(&body)?;
        Ok(self.subscriptions.clone())
    }

    /// The subscriptions read by [`Self::subscribe`].
    pub fn subscriptions(&self) -> &[Subscription] {
        &self.subscriptions
    }

    /// The subscription for `topic` (on `pubsubname`, if given).
    pub fn subscription(
        &self,
        topic: &str,
        pubsubname: Option<&str>,
    ) -> anyhow::Result<&Subscription> {
        self.subscriptions
            .iter()
            .find(|s| s.topic == topic && pubsubname.is_none_or(|p| p == s.pubsubname))
            .ok_or_else(|| {
                anyhow!("the app does not subscribe to topic {topic:?} (call subscribe() first)")
            })
    }

    /// Builds daprd's envelope for `data` on `topic`; returns the route it
    /// would be delivered to and the envelope.
    pub fn envelope(
        &self,
        topic: &str,
        data: Value,
        options: &DeliverOptions,
    ) -> anyhow::Result<(String, Value)> {
        let sub = self.subscription(topic, options.pubsubname.as_deref())?;
        let event_type = options
            .event_type
            .clone()
            .unwrap_or_else(|| DEFAULT_EVENT_TYPE.to_owned());
        let traceparent = options.traceparent.clone().unwrap_or_else(new_traceparent);
        let mut envelope = json!({
            "id": options.id.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            "source": options.source.clone().unwrap_or_else(|| self.source.clone()),
            "type": event_type,
            "specversion": "1.0",
            "datacontenttype": options.datacontenttype.clone().unwrap_or_else(|| "application/json".to_owned()),
            "data": data,
            "topic": topic,
            "pubsubname": sub.pubsubname,
            "traceid": traceparent,
            "traceparent": traceparent,
            "tracestate": options.tracestate.clone().unwrap_or_default(),
            "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        });
        let fields = envelope.as_object_mut().expect("envelope is an object");
        for (k, v) in &options.overrides {
            if v.is_null() {
                fields.remove(k);
            } else {
                fields.insert(k.clone(), v.clone());
            }
        }
        let route = sub.path_for(envelope["type"].as_str().unwrap_or_default())?;
        Ok((route, envelope))
    }

    /// Wraps `data` in an envelope and delivers it once.
    pub async fn deliver(
        &self,
        topic: &str,
        data: Value,
        options: DeliverOptions,
    ) -> anyhow::Result<PostAttempt> {
        let (route, envelope) = self.envelope(topic, data, &options)?;
        let header = match options.header_traceparent {
            Some(header) => header,
            None => daprd_traceparent(&envelope),
        };
        Ok(self.deliver_with_trace(&route, &envelope, header).await)
    }

    /// POSTs a ready envelope to `route` as daprd does
    /// (`Content-Type: application/cloudevents+json`, tracing headers, token).
    /// daprd continues the envelope's trace in a span of its own and sends
    /// that as the `traceparent` header: same trace id, its own parent id.
    /// A malformed envelope value is sent on as it is (the app must refuse
    /// it in either place).
    pub async fn deliver_envelope(&self, route: &str, envelope: &Value) -> PostAttempt {
        let header = daprd_traceparent(envelope);
        self.deliver_with_trace(route, envelope, header).await
    }

    async fn deliver_with_trace(
        &self,
        route: &str,
        envelope: &Value,
        traceparent: Option<String>,
    ) -> PostAttempt {
        let mut headers = self.token_header();
        let tracestate = envelope["tracestate"].as_str().unwrap_or_default();
        if let Some(traceparent) = traceparent.as_deref() {
            headers.push(("traceparent", traceparent));
        }
        if !tracestate.is_empty() {
            headers.push(("tracestate", tracestate));
        }
        // daprd passes the message metadata as headers; it always holds the
        // pub/sub name (`pubsubName`).
        let pubsubname = envelope["pubsubname"].as_str().unwrap_or_default();
        if !pubsubname.is_empty() {
            headers.push(("pubsubname", pubsubname));
        }
        headers.push(("content-type", "application/cloudevents+json"));
        let mut delivery = self.post(route, &headers, envelope.to_string()).await;
        delivery.event_id = envelope["id"].as_str().map(str::to_owned);
        delivery
    }

    /// POSTs an arbitrary body to `route` (malformed inputs), with the token.
    pub async fn deliver_raw(
        &self,
        route: &str,
        body: impl Into<Bytes>,
        content_type: &str,
    ) -> PostAttempt {
        let mut headers = self.token_header();
        headers.push(("content-type", content_type));
        self.post(route, &headers, body.into()).await
    }

    async fn post(
        &self,
        route: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> PostAttempt {
        let started = Instant::now();
        let result = self.call("POST", route, headers, body.into()).await;
        let elapsed = started.elapsed();
        match result {
            Ok((status, body)) => PostAttempt {
                route: route.to_owned(),
                event_id: None,
                http_status: Some(status),
                outcome: interpret_app_response(status, &body),
                explicit_status: explicit_status(&body),
                body,
                transport_error: None,
                elapsed,
            },
            Err(e) => PostAttempt {
                route: route.to_owned(),
                event_id: None,
                http_status: None,
                body: Bytes::new(),
                transport_error: Some(format!("{e:#}")),
                outcome: AppStatus::Retry,
                explicit_status: None,
                elapsed,
            },
        }
    }

    /// Delivers one envelope until the app acknowledges or drops it, or
    /// `max_attempts` attempts were made; every attempt carries the same
    /// envelope (same CloudEvent id). Dropped and exhausted messages go to
    /// the subscription's dead-letter topic, if it has one.
    pub async fn deliver_until_settled(
        &self,
        topic: &str,
        data: Value,
        options: DeliverOptions,
        max_attempts: usize,
    ) -> anyhow::Result<Settlement> {
        if max_attempts == 0 {
            bail!("max_attempts must be at least 1");
        }
        let (route, envelope) = self.envelope(topic, data, &options)?;
        let mut attempts = Vec::new();
        let outcome = loop {
            let delivery = self.deliver_envelope(&route, &envelope).await;
            let status = delivery.outcome;
            attempts.push(delivery);
            match status {
                AppStatus::Success => break SettledOutcome::Success,
                AppStatus::Drop => break SettledOutcome::Dropped,
                AppStatus::Retry if attempts.len() >= max_attempts => {
                    break SettledOutcome::Exhausted
                }
                AppStatus::Retry => tokio::time::sleep(self.retry_delay).await,
            }
        };
        let reason = match outcome {
            SettledOutcome::Success => None,
            SettledOutcome::Dropped => Some(DeadLetterReason::Dropped),
            SettledOutcome::Exhausted => Some(DeadLetterReason::Exhausted),
        };
        let dead_letter = match reason {
            Some(reason) => {
                self.dead_letter(topic, options.pubsubname.as_deref(), &envelope, reason)?
            }
            None => None,
        };
        Ok(Settlement {
            attempts,
            outcome,
            dead_letter,
        })
    }

    pub(super) fn dead_letter(
        &self,
        topic: &str,
        pubsubname: Option<&str>,
        envelope: &Value,
        reason: DeadLetterReason,
    ) -> anyhow::Result<Option<DeadLetter>> {
        let sub = self.subscription(topic, pubsubname)?;
        let Some(dlq) = sub.dead_letter_topic.clone().filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        let letter = DeadLetter {
            topic: dlq,
            original_topic: topic.to_owned(),
            pubsubname: sub.pubsubname.clone(),
            envelope: envelope.clone(),
            reason,
        };
        self.dead_letters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(letter.clone());
        Ok(Some(letter))
    }

    /// Messages forwarded to dead-letter topics so far.
    pub fn dead_letters(&self) -> Vec<DeadLetter> {
        self.dead_letters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// The trace id (32 hex digits) of a `traceparent`: what stays the same
/// along a trace while daprd and the app add spans.
pub fn trace_id(traceparent: Option<&str>) -> Option<&str> {
    traceparent?.split('-').nth(1).filter(|id| id.len() == 32)
}

/// The header daprd sends for `envelope`: a child of its `traceparent`
/// when that is well formed, else the value as is (or none).
fn daprd_traceparent(envelope: &Value) -> Option<String> {
    let value = envelope["traceparent"].as_str().filter(|v| !v.is_empty())?;
    let parts: Vec<&str> = value.split('-').collect();
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    Some(match parts.as_slice() {
        [version, trace, parent, flags]
            if hex(version, 2) && hex(trace, 32) && hex(parent, 16) && hex(flags, 2) =>
        {
            let span = &uuid::Uuid::new_v4().simple().to_string()[..16];
            format!("{version}-{trace}-{span}-{flags}")
        }
        _ => value.to_owned(),
    })
}

/// A new W3C trace context, sampled: `00-<trace id>-<span id>-01`.
fn new_traceparent() -> String {
    let trace = uuid::Uuid::new_v4().simple().to_string();
    let span = &uuid::Uuid::new_v4().simple().to_string()[..16];
    format!("00-{trace}-{span}-01")
}
