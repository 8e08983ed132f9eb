//! The one rule for timestamps in events, shared by both services: RFC 3339
//! with an offset (`2026-12-01T09:00:00Z`, `...+01:00`, optional fraction;
//! offsets up to ±23:59), and an instant PostgreSQL's `timestamptz` can
//! hold as the components write it: from 0001-01-01T00:00:00Z up to
//! jiff's last instant, 9999-12-30T22:00:00Z.
//!
//! Stricter than jiff's Temporal parser on purpose: ISO week dates,
//! bracketed zone annotations, missing seconds or a space instead of `T`
//! are rejected rather than guessed at. An instant outside the range is a
//! schema violation (DROP), never a database fault (RETRY): PostgreSQL
//! refuses year 0 and anything past 9999 written this way, and a redelivery
//! cannot change that.

use jiff::Timestamp;

/// Why a text is not an event time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EventTimeError {
    /// Not `YYYY-MM-DDTHH:MM:SS[.f](Z|±HH:MM)`, no such date or time, or
    /// past the last instant.
    #[error("is not an RFC 3339 time with offset")]
    Syntax,
    /// A valid RFC 3339 time whose instant is before 0001-01-01T00:00:00Z.
    #[error("is before the year 0001 (UTC)")]
    OutOfRange,
}

/// Parses an event time (see the module doc).
pub fn parse_event_time(text: &str) -> Result<Timestamp, EventTimeError> {
    if !rfc3339_shape(text.as_bytes()) {
        return Err(EventTimeError::Syntax);
    }
    let at: Timestamp = text.parse().map_err(|_| EventTimeError::Syntax)?;
    if at.as_second() < FIRST_SECOND {
        return Err(EventTimeError::OutOfRange);
    }
    Ok(at)
}

/// 0001-01-01T00:00:00Z in Unix seconds.
const FIRST_SECOND: i64 = -62_135_596_800;

fn rfc3339_shape(b: &[u8]) -> bool {
    let digits = |range: std::ops::Range<usize>| {
        b.get(range)
            .is_some_and(|s| s.iter().all(u8::is_ascii_digit))
    };
    let at = |i: usize, options: &[u8]| b.get(i).is_some_and(|c| options.contains(c));
    let shape_ok = digits(0..4)
        && at(4, b"-")
        && digits(5..7)
        && at(7, b"-")
        && digits(8..10)
        && at(10, b"Tt")
        && digits(11..13)
        && at(13, b":")
        && digits(14..16)
        && at(16, b":")
        && digits(17..19);
    if !shape_ok {
        return false;
    }
    let mut i = 19;
    if at(i, b".") {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match b.get(i) {
        Some(b'Z' | b'z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            i + 6 == b.len()
                && digits(i + 1..i + 3)
                && at(i + 3, b":")
                && digits(i + 4..i + 6)
                && two_digits(b, i + 1) <= 23
                && two_digits(b, i + 4) <= 59
        }
        _ => false,
    }
}

fn two_digits(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 2)
        .map_or(99, |d| u32::from(d[0] - b'0') * 10 + u32::from(d[1] - b'0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_contract_forms() {
        for ok in [
            "2026-12-01T09:00:00Z",
            "2026-12-01T10:00:00+01:00",
            "2026-12-01T09:00:00.123456Z",
            "2026-12-01t09:00:00z",
            "0001-01-01T00:00:00Z",
            "9999-12-30T22:00:00Z",
            "2026-12-01T09:00:00-23:59",
        ] {
            assert!(parse_event_time(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            parse_event_time("2026-12-01T10:00:00+01:00"),
            parse_event_time("2026-12-01T09:00:00Z")
        );
    }

    #[test]
    fn refuses_other_syntax() {
        for bad in [
            "",
            "tomorrow",
            "2026-12-01",
            "2026-12-01T09:00Z",
            "2026-12-01 09:00:00Z",
            "2026-12-01T09:00:00",
            "2026-12-01T09:00:00+0100",
            "2026-12-01T09:00:00+24:00",
            "2026-02-30T00:00:00Z",
            "2026-12-01T24:00:00Z",
            "2026-12-01T09:00:00.Z",
            "2026-12-01T09:00:00Z[Europe/Berlin]",
            "10000-01-01T00:00:00Z",
            "-0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
        ] {
            assert_eq!(parse_event_time(bad), Err(EventTimeError::Syntax), "{bad}");
        }
    }

    #[test]
    fn refuses_instants_postgres_cannot_store() {
        for bad in [
            "0000-01-01T00:00:00Z",
            "0001-01-01T00:00:00+23:59",
            "0000-12-31T23:59:59Z",
        ] {
            assert_eq!(
                parse_event_time(bad),
                Err(EventTimeError::OutOfRange),
                "{bad}"
            );
        }
    }
}
