//! The log line's shape and the level and request-id rules.

use super::*;
use std::sync::{Arc, Mutex};
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;

#[test]
fn levels_are_read_leniently_and_unknown_ones_refused() {
    assert_eq!(parse_level(""), Some(LevelFilter::INFO));
    assert_eq!(parse_level(" DEBUG "), Some(LevelFilter::DEBUG));
    assert_eq!(parse_level("warning"), Some(LevelFilter::WARN));
    assert_eq!(parse_level("off"), Some(LevelFilter::OFF));
    assert_eq!(parse_level("verbose"), None);
    assert_eq!(parse_level("info,spin=debug"), None);
}

#[test]
fn only_plain_request_ids_are_taken_from_the_caller() {
    assert!(is_plain_token("req-42.a_B"));
    assert!(!is_plain_token(""));
    assert!(!is_plain_token(&"x".repeat(65)));
    assert!(!is_plain_token("id\r\nforged: line"));
    assert!(!is_plain_token("a b"));
}

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<String>>>);

impl LineSink for Buffer {
    fn write_line(&self, line: &str) {
        self.0.lock().expect("buffer").push(line.to_owned());
    }
}

fn lines_of(run: impl FnOnce()) -> Vec<Value> {
    let buffer = Buffer::default();
    let subscriber = tracing_subscriber::registry()
        .with(JsonLines::new("recurrence", buffer.clone()))
        .with(tracing_subscriber::filter::LevelFilter::INFO);
    tracing::subscriber::with_default(subscriber, run);
    let lines = buffer.0.lock().expect("buffer").clone();
    lines
        .iter()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect()
}

#[test]
fn a_line_has_the_contract_keys_and_the_enclosing_spans_fields() {
    let lines = lines_of(|| {
        let event =
            tracing::info_span!("event", event_id = "ev-1", trace_id = tracing::field::Empty);
        event.record("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736");
        let _outer = event.enter();
        let step = tracing::info_span!("completion", task_id = "t-1");
        let _inner = step.enter();
        tracing::info!(inserted = true, attempts = 2u64, "next occurrence created");
    });
    assert_eq!(lines.len(), 1);
    let line = &lines[0];
    assert_eq!(line["level"], "info");
    assert_eq!(line["component"], "recurrence");
    assert_eq!(line["msg"], "next occurrence created");
    assert_eq!(line["event_id"], "ev-1");
    assert_eq!(line["task_id"], "t-1");
    assert_eq!(line["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(line["inserted"], true);
    assert_eq!(line["attempts"], 2);
    assert_eq!(line["span"], "event/completion");
    let ts = line["ts"].as_str().expect("ts");
    assert!(
        ts.ends_with('Z') && ts.len() == "2026-11-30T22:10:49.123456Z".len(),
        "{ts}"
    );
}

#[test]
fn ready_made_objects_are_merged_and_levels_below_the_filter_are_dropped() {
    let lines = lines_of(|| {
        let fields = serde_json::json!({"delivery_id": "d-1", "channel": "email"});
        tracing::warn!(json_fields = %fields, "delivery");
        tracing::debug!("not written at info");
    });
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["level"], "warn");
    assert_eq!(lines[0]["delivery_id"], "d-1");
    assert_eq!(lines[0]["channel"], "email");
    assert!(lines[0].get("json_fields").is_none());
    assert!(lines[0].get("span").is_none());
}

#[test]
fn spans_of_concurrent_futures_stay_apart() {
    let lines = lines_of(|| {
        let a = async { tracing::info!("sent") }
            .instrument(tracing::info_span!("send", channel = "email"));
        let b = async { tracing::info!("sent") }
            .instrument(tracing::info_span!("send", channel = "push"));
        futures::executor::block_on(futures::future::join(a, b));
    });
    let channels: Vec<&str> = lines.iter().filter_map(|l| l["channel"].as_str()).collect();
    assert_eq!(channels, ["email", "push"]);
}
