//! Logs through `tracing`: one JSON object per line on stdout, which Spin
//! forwards and SpinKube puts in the pod log (docs/CONTRACT.md, "Logs").
//!
//! Each handler calls [`init`] first; call sites use `tracing`'s macros and
//! spans (`event_id`, `task_id`, `delivery_id`, `trace_id` as span fields),
//! and every line carries the fields of the spans it was written in.
//! A component instance serves one request, so the subscriber is installed
//! once per instance and there is nothing to flush.
//!
//! The line itself: [`JsonLines`] is a `tracing` layer that writes one
//! JSON object per event: `{"ts", "level", "component", "msg", ...}` with
//! the fields of every enclosing span (outermost first) and then the
//! event's own, so a line about a notification delivery carries the
//! CloudEvent id, task id and trace id of the span it happened in without
//! every call site repeating them.
//!
//! tracing-subscriber's own JSON formatter nests span fields under `spans`
//! and names the keys `timestamp`/`fields.message`; the contract's log
//! shape is flat, hence this small layer over its `Registry`.

use std::io::Write;
use std::sync::OnceLock;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// The `log_level` variable's default.
pub const DEFAULT_LEVEL: LevelFilter = LevelFilter::INFO;

static INSTALLED: OnceLock<()> = OnceLock::new();

/// Installs the JSON-lines subscriber for `component` (the contract's
/// component names) at the level of the `log_level` variable. An invalid
/// level is reported once and the default used: a typo in a manifest must
/// not silence the logs.
pub fn init(component: &'static str) {
    INSTALLED.get_or_init(|| {
        let raw = spin_sdk::variables::get("log_level").unwrap_or_default();
        let level = parse_level(&raw);
        let subscriber = tracing_subscriber::registry()
            .with(JsonLines::new(component, Stdout))
            .with(level.unwrap_or(DEFAULT_LEVEL));
        let _ = tracing::subscriber::set_global_default(subscriber);
        if level.is_none() {
            tracing::warn!(
                reason = "invalid_configuration",
                value = %raw.chars().take(32).collect::<String>(),
                "log_level is not one of off, error, warn, info, debug, trace; using info"
            );
        }
    });
}

/// The span a whole request is handled in, so that every line carries a
/// correlation id: `method`, Spin's matched `route` (the pattern: user ids
/// in the path stay out of the logs), `request_id` (the caller's
/// `x-request-id` when it is a plain token, else a random one) and
/// `trace_id` of a valid `traceparent` header.
pub fn request_span(req: &spin_sdk::http::Request) -> tracing::Span {
    let header = |name: &str| req.header(name).and_then(|v| v.as_str());
    let request_id = header("x-request-id")
        .filter(|id| is_plain_token(id))
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{:016x}", wasi::random::random::get_random_u64()));
    let span = tracing::info_span!(
        "request",
        method = %req.method(),
        route = tracing::field::Empty,
        request_id = %request_id,
        trace_id = tracing::field::Empty,
    );
    if let Some(route) = header("spin-matched-route").filter(|r| r.len() <= 200) {
        span.record("route", route);
    }
    let traceparent = dapr_pubsub::trace::valid_traceparent(header("traceparent"));
    if let Some(trace_id) = traceparent.and_then(dapr_pubsub::trace::trace_id) {
        span.record("trace_id", trace_id);
    }
    span
}

/// A caller's request id is logged only if it is 1-64 characters of
/// `[A-Za-z0-9._-]`: anything else could forge or bloat log lines.
fn is_plain_token(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// `log_level`'s value as a filter; empty means the default, anything
/// unknown is `None`.
pub fn parse_level(raw: &str) -> Option<LevelFilter> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "" => Some(DEFAULT_LEVEL),
        "off" => Some(LevelFilter::OFF),
        "error" => Some(LevelFilter::ERROR),
        "warn" | "warning" => Some(LevelFilter::WARN),
        "info" => Some(LevelFilter::INFO),
        "debug" => Some(LevelFilter::DEBUG),
        "trace" => Some(LevelFilter::TRACE),
        _ => None,
    }
}

/// Writes a line whose fields were assembled elsewhere as a JSON object
/// (the delivery line a pure crate builds and the secrets scrubber cleans),
/// inside whatever spans are current. Such lines are `warn` or `info`;
/// any other level is written as `info` (one call site per level kept).
pub fn json(level: tracing::Level, msg: &str, fields: &Value) {
    if level == tracing::Level::WARN {
        tracing::warn!(json_fields = %fields, "{msg}");
    } else {
        tracing::info!(json_fields = %fields, "{msg}");
    }
}

/// The field through which [`json`] passes a ready-made JSON object
/// (a line assembled by a pure crate); its members are merged into the line.
const JSON_FIELDS: &str = "json_fields";

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
        let ts = todo_contract::utc::micros_text(todo_contract::utc::now());
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
mod tests;
