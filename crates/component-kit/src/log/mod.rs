//! Logs through `tracing`: one JSON object per line on stdout, which Spin
//! forwards and SpinKube puts in the pod log (docs/CONTRACT.md, "Logs").
//!
//! Each handler calls [`init`] first; call sites use `tracing`'s macros and
//! spans (`event_id`, `task_id`, `delivery_id`, `trace_id` as span fields),
//! and every line carries the fields of the spans it was written in.
//! A component instance serves one request, so the subscriber is installed
//! once per instance and there is nothing to flush.

mod json_lines;

use std::sync::OnceLock;

use serde_json::Value;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;

pub use json_lines::{JsonLines, LineSink, Stdout};

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
/// inside whatever spans are current. `level` is `error`, `warn`, `info`
/// or `debug`; anything else is written as `info`.
pub fn json(level: &str, msg: &str, fields: &Value) {
    match level {
        "error" => tracing::error!(json_fields = %fields, "{msg}"),
        "warn" => tracing::warn!(json_fields = %fields, "{msg}"),
        "debug" => tracing::debug!(json_fields = %fields, "{msg}"),
        _ => tracing::info!(json_fields = %fields, "{msg}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
