//! `GET /metrics` without Spin (docs/CONTRACT.md, "Metrics"): the numbers one
//! scrape reads from PostgreSQL ([`Snapshot`]) become the contract's gauges
//! in the Prometheus text exposition format 0.0.4 ([`render`]), with the
//! `_total` counters `rate()` needs and every label value from a fixed set
//! ([`labels`]).
//!
//! Kept apart from the component so the format (escaping, `# HELP` and
//! `# TYPE` lines, the fixed label sets) is unit-tested without a host.

pub mod labels;
mod series;
mod snapshot;
mod text;

pub use series::render;
pub use snapshot::{Count, Snapshot};
pub use text::{escape_help, escape_label_value, format_value, Family};

/// The `content-type` of the answer: Prometheus' text format, version 0.0.4.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
