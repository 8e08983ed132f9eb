//! Helpers shared by the integration tests (test code: it may unwrap and
//! panic, unlike the product code the workspace lints cover).
#![allow(dead_code)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod oracle;

use recurrence_rules::jiff::civil::DateTime;
use recurrence_rules::jiff::Timestamp;
use recurrence_rules::{preview, time_zone, to_rfc3339, Rule};

/// The instant of a civil time in a zone (unambiguous times only).
pub fn at(zone: &str, civil: &str) -> Timestamp {
    let tz = time_zone(zone).unwrap();
    let dt: DateTime = civil.parse().unwrap();
    tz.to_ambiguous_zoned_datetime(dt)
        .unambiguous()
        .unwrap()
        .timestamp()
}

/// `preview` as RFC 3339 strings, start given as civil time in the zone.
pub fn preview_strings(rule: &str, zone: &str, start: &str, count: usize) -> Vec<String> {
    let rule = Rule::parse(rule).unwrap();
    let tz = time_zone(zone).unwrap();
    preview(&rule, at(zone, start), &tz, count)
        .unwrap()
        .iter()
        .map(to_rfc3339)
        .collect()
}

/// Parses an RFC 3339 instant.
pub fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}
