//! A `tracing` layer that writes one JSON object per event:
//! `{"ts", "level", "component", "msg", ...}` with the fields of every
//! enclosing span (outermost first) and then the event's own, so a line
//! about a delivery carries the CloudEvent id, task id and trace id of the
//! span it happened in without every call site repeating them.
//!
//! tracing-subscriber's own JSON formatter nests span fields under `spans`
//! and names the keys `timestamp`/`fields.message`; the contract's log
//! shape is flat, hence this small layer over its `Registry`.

use std::io::Write;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// The field through which [`super::json`] passes a ready-made JSON object
/// (a line assembled by a pure crate); its members are merged into the line.
pub(super) const JSON_FIELDS: &str = "json_fields";

/// Where finished lines go: stdout in the components, a buffer in tests.
pub trait LineSink: Send + Sync + 'static {
    /// Writes one complete line (without the newline); errors are ignored.
    fn write_line(&self, line: &str);
}

/// Standard output, which Spin and SpinKube collect. Written with one
/// `write_all` per line and its error ignored: `println!` panics when
/// stdout is closed, and a log line must never trap a handled event.
pub struct Stdout;

impl LineSink for Stdout {
    fn write_line(&self, line: &str) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(format!("{line}\n").as_bytes());
        let _ = out.flush();
    }
}

/// The layer: a component name and a sink.
pub struct JsonLines<W> {
    component: &'static str,
    sink: W,
}

impl<W: LineSink> JsonLines<W> {
    /// Lines of `component`, written to `sink`.
    pub fn new(component: &'static str, sink: W) -> Self {
        JsonLines { component, sink }
    }
}

/// A span's recorded fields, kept in the registry's extensions.
struct SpanFields(Map<String, Value>);

/// Records tracing fields as JSON values: numbers and booleans stay typed,
/// `%`/`?` values become their text.
struct JsonVisitor<'a>(&'a mut Map<String, Value>);

impl JsonVisitor<'_> {
    fn put(&mut self, field: &Field, value: Value) {
        if field.name() == JSON_FIELDS {
            if let Value::String(text) = &value {
                if let Ok(Value::Object(members)) = serde_json::from_str(text) {
                    self.0.extend(members);
                }
            }
            return;
        }
        self.0.insert(field.name().to_owned(), value);
    }
}

impl Visit for JsonVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, value.into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, format!("{value:?}").into());
    }
}

impl<S, W> Layer<S> for JsonLines<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: LineSink,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Map::new();
        attrs.record(&mut JsonVisitor(&mut fields));
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(fields));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            if let Some(fields) = span.extensions_mut().get_mut::<SpanFields>() {
                values.record(&mut JsonVisitor(&mut fields.0));
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut line = Map::new();
        let ts = dapr_pubsub::epoch_micros::fixed_micros(dapr_pubsub::epoch_micros::now());
        line.insert("ts".into(), ts.into());
        let level = event.metadata().level().as_str().to_ascii_lowercase();
        line.insert("level".into(), level.into());
        line.insert("component".into(), self.component.into());
        line.insert("msg".into(), Value::String(String::new()));
        if let Some(scope) = ctx.event_scope(event) {
            let mut path = Vec::new();
            for span in scope.from_root() {
                path.push(span.name());
                if let Some(fields) = span.extensions().get::<SpanFields>() {
                    line.extend(fields.0.clone());
                }
            }
            line.insert("span".into(), path.join("/").into());
        }
        let mut fields = Map::new();
        event.record(&mut JsonVisitor(&mut fields));
        if let Some(msg) = fields.remove("message") {
            line.insert("msg".into(), msg);
        }
        line.extend(fields);
        self.sink.write_line(&Value::Object(line).to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tracing::Instrument;
    use tracing_subscriber::layer::SubscriberExt;

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
}
