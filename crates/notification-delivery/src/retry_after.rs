//! `Retry-After` (RFC 9110 §10.2.3): delta-seconds or an HTTP-date.
//!
//! Providers send it with 429 and 503 to say when a retry may succeed; the
//! issue asks to record it as the earliest next attempt. `now` is a parameter
//! so the parsing stays pure and testable.

use std::time::Duration;

use jiff::fmt::rfc2822::DateTimeParser;
use jiff::Timestamp;

/// Upper bound applied to any `Retry-After`, so a bogus header (a year away)
/// cannot park a delivery forever; the attempt budget still applies after it.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

static RFC2822: DateTimeParser = DateTimeParser::new();

/// Parses a `Retry-After` value into a wait from `now`.
///
/// Accepts delta-seconds (`"120"`) and the IMF-fixdate form of HTTP-date
/// (`"Wed, 21 Oct 2015 07:28:00 GMT"`, parsed as RFC 2822, which it is a
/// profile of). A date in the past yields zero. The result is capped at
/// [`MAX_RETRY_AFTER`]. Anything unparseable yields `None` (the header is
/// advisory: ignoring a broken one is safer than failing the delivery).
pub fn parse_retry_after(value: &str, now: Timestamp) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        // Digits only: delta-seconds. Overlong numbers saturate to the cap.
        let secs = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER));
    }
    let at = RFC2822.parse_timestamp(value).ok()?;
    let wait = at.duration_since(now);
    if wait.is_negative() {
        return Some(Duration::ZERO);
    }
    let wait = Duration::try_from(wait).ok()?;
    Some(wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2015-10-21T07:27:00Z".parse().unwrap()
    }

    #[test]
    fn delta_seconds() {
        assert_eq!(
            parse_retry_after("120", now()),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now()), Some(Duration::ZERO));
    }

    #[test]
    fn huge_values_are_capped() {
        assert_eq!(
            parse_retry_after("99999999999999999999999", now()),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(parse_retry_after("86401", now()), Some(MAX_RETRY_AFTER));
    }

    #[test]
    fn http_date() {
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now()),
            Some(Duration::from_secs(60))
        );
    }

    #[test]
    fn http_date_in_the_past_is_zero() {
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now()),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn garbage_is_ignored() {
        for v in ["", "soon", "-5", "1.5", "Wed, 99 Oct 2015 07:28:00 GMT"] {
            assert_eq!(parse_retry_after(v, now()), None, "{v:?}");
        }
    }
}
