//! One JSON line per outcome on stdout, which Spin and SpinKube collect.
//! A dependency-free stand-in for a tracing subscriber: a component instance
//! lives for one request, so there is nothing to configure or flush.
//!
//! The line is written with `writeln!` and its error ignored, never with
//! `println!`, which panics when stdout is closed: a log line must not turn
//! a handled event into a trap (an HTTP 500 that Dapr retries forever).

use std::io::Write;
use std::sync::OnceLock;

use serde_json::{Map, Value};

static COMPONENT: OnceLock<&'static str> = OnceLock::new();

/// Names the component in every line it writes (the contract's component
/// names: `notification`, `recurrence`, ...). Each component's handler calls
/// it first; an instance serves one request, so the first call wins.
pub fn set_component(name: &'static str) {
    let _ = COMPONENT.set(name);
}

/// Writes `{"ts", "level", "component", "msg", ...fields}` as one line;
/// `ts` is RFC 3339 in UTC (`Z`), always six fraction digits.
pub fn event(level: &str, msg: &str, fields: Value) {
    let mut line = Map::new();
    let ts = dapr_pubsub::epoch_micros::fixed_micros(dapr_pubsub::epoch_micros::now());
    line.insert("ts".into(), ts.into());
    line.insert("level".into(), level.into());
    line.insert(
        "component".into(),
        COMPONENT.get().copied().unwrap_or("unknown").into(),
    );
    line.insert("msg".into(), msg.into());
    if let Value::Object(extra) = fields {
        line.extend(extra);
    }
    let _ = writeln!(std::io::stdout().lock(), "{}", Value::Object(line));
}

/// Informational outcome.
pub fn info(msg: &str, fields: Value) {
    event("info", msg, fields);
}

/// Something went wrong that an operator may need to act on.
pub fn warn(msg: &str, fields: Value) {
    event("warn", msg, fields);
}
