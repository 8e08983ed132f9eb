//! The two text forms of an instant the contract fixes: six fraction
//! digits always (`2026-12-01T08:30:00.000000Z`: what a reminder's
//! CloudEvent id hashes, and every log line's `ts`), and RFC 3339 with a
//! fraction only when there is one (payloads).
//!
//! Written from jiff's civil fields rather than through its `Display`,
//! whose printer would add to every component that stamps a log line what
//! the civil conversion does not.

use jiff::tz::Offset;
use jiff::Timestamp;

/// `2026-12-01T08:30:00.000000Z`: UTC, always six fraction digits, so the
/// same instant always gives the same text whatever the session's zone.
pub fn micros_text(at: Timestamp) -> String {
    let (date, micro) = fields(at);
    format!("{date}.{micro:06}Z")
}

/// RFC 3339 in UTC: `2026-12-01T08:30:00Z`, with six fraction digits only
/// when the instant has any (so a consumer keying reminders at
/// microseconds sees the exact instant).
pub fn rfc3339(at: Timestamp) -> String {
    match fields(at) {
        (date, 0) => format!("{date}Z"),
        (date, micro) => format!("{date}.{micro:06}Z"),
    }
}

/// The current instant, to the microsecond. Read from `SystemTime` rather
/// than `Timestamp::now()`, whose error path brings jiff's printer (about
/// 180 KB of wasm, measured on `subscriptions.wasm`) into every component
/// that stamps a log line.
pub fn now() -> Timestamp {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    since_epoch
        .ok()
        .and_then(|d| i64::try_from(d.as_micros()).ok())
        .and_then(|us| Timestamp::from_microsecond(us).ok())
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The date and time to the second, and the microseconds.
fn fields(at: Timestamp) -> (String, i32) {
    let t = Offset::UTC.to_datetime(at);
    let date = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    (date, t.subsec_nanosecond() / 1000)
}

#[cfg(test)]
mod tests;
