//! Time-zone lookup and the civil → instant resolution rule.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::ZonedDateTime;

use crate::error::{echo, TimeZoneError};

/// Looks up an IANA time-zone name (`Europe/Berlin`, `UTC`) in the tz
/// database bundled into this crate.
///
/// The bundled copy is used on every target, so native tests and the
/// wasm32-wasip2 component (which has no `/usr/share/zoneinfo`) agree.
/// Parse the task's `timezone` column once with this and pass the result to
/// [`next_occurrence`](crate::next_occurrence) / [`preview`](crate::preview).
pub fn time_zone(name: &str) -> Result<TimeZone, TimeZoneError> {
    // jiff also understands POSIX TZ strings and fixed offsets through other
    // constructors; the contract only allows IANA names, so only the
    // database is consulted.
    TimeZone::get(name).map_err(|_| TimeZoneError { name: echo(name) })
}

/// Formats an occurrence as RFC 3339 with the zone's offset at that
/// instant, e.g. `2026-12-03T09:00:00+01:00`.
///
/// `ZonedDateTime`'s own `Display` appends a `[Europe/Berlin]` annotation
/// (RFC 9557), which RFC 3339 consumers and the contract do not expect.
pub fn to_rfc3339(zoned: &ZonedDateTime) -> String {
    zoned
        .timestamp()
        .display_with_offset(zoned.offset())
        .to_string()
}

/// Resolves a civil datetime to an instant the RFC 5545 §3.3.5 way: a time
/// in a spring-forward gap moves forward by the length of the gap, an
/// ambiguous fall-back time takes the first (earlier) instant. This is
/// jiff's "compatible" disambiguation. `None` only at the ends of the
/// supported range.
pub(crate) fn resolve(tz: &TimeZone, civil: DateTime) -> Option<ZonedDateTime> {
    tz.to_ambiguous_zoned_datetime(civil).compatible().ok()
}

#[cfg(test)]
mod tests;
