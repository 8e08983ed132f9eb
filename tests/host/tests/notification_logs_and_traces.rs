//! What the notification component writes to stdout under `spin up`, and
//! which trace its outbound calls continue (README, "Logs and traces"):
//! - every line is one JSON object with `ts`, `level`, `component`, `msg`,
//!   and a line about an event carries its CloudEvent id, task id, trace id
//!   and the request's correlation id;
//! - every outbound call of a reminder (relay, FCM token and send, sidecar
//!   publish) carries the trace of the delivery's HTTP `traceparent`
//!   header, and the envelope's only when there is no usable header;
//! - `log_level` filters lines, and an invalid value is reported, not fatal.

mod notification_events_support;

use component_host::fakes::dapr::{trace_id, AppStatus, DeliverOptions};
use component_host::TestApp;
use notification_events_support::*;
use serde_json::Value;

const PHONE: &str = "dGVzdC1waG9uZS0wMDE6QVBBOTFiSHVuZGVyc2NvcmVfdG9rZW4";
/// What daprd would send as the header: a trace other than the envelope's,
/// so the tests can tell which one the component followed.
const HEADER_TRACE: &str = "00-11111111111111111111111111111111-2222222222222222-01";
const ENVELOPE_TRACE: &str = "00-33333333333333333333333333333333-4444444444444444-01";

/// Every line `notification` wrote, each checked to be a JSON object with
/// the contract's keys and the component's name ([`TestApp::json_lines`]).
fn lines(app: &TestApp) -> Vec<Value> {
    let lines = app.json_lines("notification");
    assert!(!lines.is_empty(), "the component wrote nothing");
    lines
}

/// A two-channel reminder, the push minting an access token on the way.
async fn two_channel_env() -> Env {
    let env = Env::start().await;
    env.subscriber(USER, Some(ADDRESS), &["email", "push"])
        .await;
    env.device(USER, PHONE).await;
    env
}

/// The trace ids of every outbound call the reminder made.
fn outbound_trace_ids(env: &Env) -> Vec<(String, Option<String>)> {
    let mut calls = Vec::new();
    for email in env.relay.emails() {
        calls.push(("relay".to_owned(), email.traceparent));
    }
    for push in env.fcm.pushes() {
        calls.push(("fcm send".to_owned(), push.traceparent));
    }
    for token in env.fcm.token_attempts() {
        calls.push((
            "fcm token".to_owned(),
            token.header("traceparent").map(str::to_owned),
        ));
    }
    for publish in env.outcomes() {
        calls.push(("sidecar publish".to_owned(), publish.traceparent));
    }
    calls
        .into_iter()
        .map(|(call, tp)| (call, trace_id(tp.as_deref()).map(str::to_owned)))
        .collect()
}

#[tokio::test]
async fn a_reminders_outbound_calls_and_lines_follow_the_delivery_header() {
    let env = two_channel_env().await;
    let options = DeliverOptions::new()
        .traceparent(ENVELOPE_TRACE)
        .header_traceparent(Some(HEADER_TRACE));
    let delivery = env.deliver_as(reminder(None), options).await;
    assert_answer(&delivery, AppStatus::Success);

    let calls = outbound_trace_ids(&env);
    let kinds: Vec<&str> = calls.iter().map(|(c, _)| c.as_str()).collect();
    for kind in ["relay", "fcm send", "fcm token", "sidecar publish"] {
        assert!(kinds.contains(&kind), "no {kind} call: {calls:?}");
    }
    let header_trace = trace_id(Some(HEADER_TRACE)).map(str::to_owned);
    for (call, trace) in &calls {
        assert_eq!(trace, &header_trace, "{call} left the delivery's trace");
    }

    let event_id = delivery.event_id.clone().expect("event id");
    let all = lines(&env.app);
    let deliveries: Vec<&Value> = all.iter().filter(|l| l["msg"] == "delivery").collect();
    assert_eq!(deliveries.len(), 2, "{all:#?}");
    for line in deliveries {
        assert_eq!(line["event_id"], event_id.as_str(), "{line}");
        assert_eq!(line["task_id"], TASK, "{line}");
        assert_eq!(
            line["trace_id"], "11111111111111111111111111111111",
            "{line}"
        );
        assert_eq!(line["route"], "/events/reminders", "{line}");
        assert!(
            line["request_id"].as_str().is_some_and(|id| id.len() == 16),
            "{line}"
        );
        assert_eq!(line["span"], "request/event/reminder", "{line}");
    }
}

#[tokio::test]
async fn without_a_usable_header_the_envelopes_trace_is_continued() {
    let env = two_channel_env().await;
    for header in [None, Some("00-not-a-trace-01")] {
        let options = DeliverOptions::new()
            .traceparent(ENVELOPE_TRACE)
            .header_traceparent(header);
        let at = if header.is_none() {
            "2026-12-01T08:00:00Z"
        } else {
            "2026-12-01T08:01:00Z"
        };
        let delivery = env.deliver_as(reminder_for(TASK, at, None), options).await;
        assert_answer(&delivery, AppStatus::Success);
    }
    let envelope_trace = trace_id(Some(ENVELOPE_TRACE)).map(str::to_owned);
    let calls = outbound_trace_ids(&env);
    assert!(calls.len() >= 6, "{calls:?}");
    for (call, trace) in &calls {
        assert_eq!(trace, &envelope_trace, "{call}");
    }
    let all = lines(&env.app);
    let deliveries: Vec<&Value> = all.iter().filter(|l| l["msg"] == "delivery").collect();
    assert_eq!(deliveries.len(), 4, "{all:#?}");
    assert!(deliveries
        .iter()
        .all(|l| l["trace_id"] == "33333333333333333333333333333333"));
}

#[tokio::test]
async fn a_callers_request_id_is_kept_and_a_forged_one_replaced() {
    let env = two_channel_env().await;
    let url = format!("{}/events/reminders", env.app.base_url());
    let envelope = |id: &str| {
        serde_json::json!({
            "id": id, "source": "todo-api", "type": "reminder.due", "specversion": "1.0",
            "datacontenttype": "application/json", "topic": "reminders",
            "pubsubname": "kafka-pubsub", "data": {"task_id": TASK, "user_id": USER,
            "title": "Water the plants", "remind_at": REMIND_AT, "channels": ["email"]}})
        .to_string()
    };
    for (request_id, event_id) in [("req-42.a_B", "ev-with-id"), ("a b;c", "ev-forged-id")] {
        let res = component_host::client::send(
            "POST",
            &url,
            &[
                ("content-type", "application/cloudevents+json"),
                ("x-request-id", request_id),
            ],
            envelope(event_id),
        )
        .await
        .expect("delivery");
        assert_eq!(res.status, 200);
    }
    let all = lines(&env.app);
    let of = |event_id: &str| {
        all.iter()
            .find(|l| l["event_id"] == event_id)
            .unwrap_or_else(|| panic!("no line for {event_id}: {all:#?}"))
            .clone()
    };
    assert_eq!(of("ev-with-id")["request_id"], "req-42.a_B");
    let replaced = of("ev-forged-id");
    let id = replaced["request_id"].as_str().unwrap_or_default();
    assert!(
        id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{replaced}"
    );
}

#[tokio::test]
async fn log_level_warn_keeps_only_warnings() {
    let env = Env::start_with(Options::default().var("log_level", "warn")).await;
    env.subscriber(USER, Some(ADDRESS), &["email"]).await;
    assert_answer(&env.deliver(reminder(None)).await, AppStatus::Success);
    let mut bad = reminder(None);
    bad["remind_at"] = Value::from("not a time");
    assert_answer(&env.deliver(bad).await, AppStatus::Drop);
    let all = lines(&env.app);
    assert!(all.iter().all(|l| l["level"] == "warn"), "{all:#?}");
    assert!(all.iter().any(|l| l["msg"] == "event dropped"), "{all:#?}");
}

#[tokio::test]
async fn an_invalid_log_level_is_reported_and_info_used() {
    let env = Env::start_with(Options::default().var("log_level", "verbose")).await;
    env.subscriber(USER, Some(ADDRESS), &["email"]).await;
    assert_answer(&env.deliver(reminder(None)).await, AppStatus::Success);
    let all = lines(&env.app);
    let warning = all
        .iter()
        .find(|l| l["reason"] == "invalid_configuration")
        .unwrap_or_else(|| panic!("no warning: {all:#?}"));
    assert_eq!(warning["value"], "verbose");
    assert!(all
        .iter()
        .any(|l| l["msg"] == "delivery" && l["level"] == "info"));
}
