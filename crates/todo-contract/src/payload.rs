//! The one field reader of event payloads, so that `reminder.due` and
//! `task.completed` are validated by the same code and fail with the same
//! error (docs/CONTRACT.md, "Events": times, task ids and `user_id`s follow
//! one rule in every payload).
//!
//! [`Fields::of`] takes the CloudEvent `data` and yields its object; the
//! typed accessors read one field each and name the field and the broken
//! rule in a [`FieldError`]. Each service maps that error onto its own DROP
//! reason and detail. Never panics, whatever the input.
//!
//! The field rules both services share:
//! - `user_id`: an opaque id of 1 to 128 characters, the same rule in
//!   `reminder.due`, `task.completed` and the subscriber routes, so a user
//!   the API accepts is never refused by an event, or the other way
//!   ([`check_user_id`]).
//! - Times ([`parse_event_time`]): RFC 3339
//!   with an offset (`2026-12-01T09:00:00Z`, `...+01:00`, optional fraction;
//!   offsets up to ±23:59), and an instant PostgreSQL's `timestamptz` can
//!   hold as the components write it: from 0001-01-01T00:00:00Z up to
//!   jiff's last instant, 9999-12-30T22:00:00Z.
//!
//!   Stricter than jiff's Temporal parser on purpose: ISO week dates,
//!   bracketed zone annotations, missing seconds or a space instead of `T`
//!   are rejected rather than guessed at. An instant outside the range is a
//!   schema violation (DROP), never a database fault (RETRY): PostgreSQL
//!   refuses year 0 and anything past 9999 written this way, and a redelivery
//!   cannot change that.

use std::borrow::Cow;

use jiff::Timestamp;
use serde_json::{Map, Value};
use uuid::Uuid;

/// One broken rule of a payload: which field, and what was wrong with it.
/// The `Display` text is `<field>: <rule>`, the detail both services keep.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    /// `data` is a string that does not hold JSON.
    #[error("data: is a string but not JSON ({0})")]
    NotJson(String),
    /// `data` (unwrapped) is not a JSON object.
    #[error("data: must be a JSON object")]
    NotObject,
    /// A required field is absent or null.
    #[error("{field}: is required")]
    Missing {
        /// The field.
        field: &'static str,
    },
    /// A field holds another JSON type than the one expected.
    #[error("{field}: must be {expected}")]
    WrongType {
        /// The field.
        field: &'static str,
        /// The expected type, with its article (`a string`, `a boolean`).
        expected: &'static str,
    },
    /// A string that is not a UUID.
    #[error("{field}: must be a UUID, not {value}")]
    NotUuid {
        /// The field.
        field: &'static str,
        /// The offending text, quoted and cut ([`quote`]).
        value: String,
    },
    /// A `user_id` outside 1..=128 characters.
    #[error("{field}: must have 1 to {} characters, has {}", MAX_USER_ID_CHARS, .length.0)]
    InvalidUserId {
        /// The field.
        field: &'static str,
        /// Its length in characters.
        length: BadUserId,
    },
    /// A time that breaks the event-time rule ([`parse_event_time`]).
    #[error("{field}: {value} {why}")]
    InvalidTime {
        /// The field.
        field: &'static str,
        /// The offending text, quoted and cut ([`quote`]).
        value: String,
        /// Which part of the rule it breaks.
        why: EventTimeError,
    },
}

impl FieldError {
    /// The field at fault (`data` when the payload itself is not an object),
    /// so a caller can map a rule of one field to its own code.
    pub fn field(&self) -> &'static str {
        match self {
            FieldError::NotJson(_) | FieldError::NotObject => "data",
            FieldError::Missing { field }
            | FieldError::WrongType { field, .. }
            | FieldError::NotUuid { field, .. }
            | FieldError::InvalidUserId { field, .. }
            | FieldError::InvalidTime { field, .. } => field,
        }
    }
}

/// The object of a CloudEvent `data` payload, read field by field.
#[derive(Debug, Clone, PartialEq)]
pub struct Fields<'a> {
    map: Cow<'a, Map<String, Value>>,
}

impl<'a> Fields<'a> {
    /// The object in `data`. A JSON string holding the object is unwrapped
    /// once, since some publishers put the payload in `data` as a string.
    pub fn of(data: &'a Value) -> Result<Self, FieldError> {
        match data {
            Value::Object(map) => Ok(Fields {
                map: Cow::Borrowed(map),
            }),
            Value::String(text) => match serde_json::from_str(text) {
                Ok(Value::Object(map)) => Ok(Fields {
                    map: Cow::Owned(map),
                }),
                Ok(_) => Err(FieldError::NotObject),
                Err(e) => Err(FieldError::NotJson(e.to_string())),
            },
            _ => Err(FieldError::NotObject),
        }
    }

    /// The field when present and not null: absent and null mean the same.
    pub fn optional(&self, field: &str) -> Option<&Value> {
        self.map.get(field).filter(|v| !v.is_null())
    }

    /// A string field that may be absent or null.
    pub fn optional_str(&self, field: &'static str) -> Result<Option<&str>, FieldError> {
        match self.optional(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(FieldError::WrongType {
                field,
                expected: "a string",
            }),
        }
    }

    /// A required string field (possibly empty).
    pub fn required_str(&self, field: &'static str) -> Result<&str, FieldError> {
        self.optional_str(field)?
            .ok_or(FieldError::Missing { field })
    }

    /// A required UUID (any spelling [`Uuid::try_parse`] accepts).
    pub fn uuid(&self, field: &'static str) -> Result<Uuid, FieldError> {
        let text = self.required_str(field)?;
        Uuid::try_parse(text).map_err(|_| FieldError::NotUuid {
            field,
            value: quote(text),
        })
    }

    /// A required `user_id`: 1 to 128 characters ([`check_user_id`]).
    pub fn user_id(&self, field: &'static str) -> Result<&str, FieldError> {
        let text = self.required_str(field)?;
        check_user_id(text).map_err(|length| FieldError::InvalidUserId { field, length })?;
        Ok(text)
    }

    /// A required event time ([`parse_event_time`]).
    pub fn event_time(&self, field: &'static str) -> Result<Timestamp, FieldError> {
        time(field, self.required_str(field)?)
    }

    /// An event time that may be absent or null.
    pub fn optional_event_time(
        &self,
        field: &'static str,
    ) -> Result<Option<Timestamp>, FieldError> {
        self.optional_str(field)?
            .map(|text| time(field, text))
            .transpose()
    }

    /// A required boolean (not a string or number standing for one).
    pub fn boolean(&self, field: &'static str) -> Result<bool, FieldError> {
        self.optional(field)
            .ok_or(FieldError::Missing { field })?
            .as_bool()
            .ok_or(FieldError::WrongType {
                field,
                expected: "a boolean",
            })
    }
}

fn time(field: &'static str, text: &str) -> Result<Timestamp, FieldError> {
    parse_event_time(text).map_err(|why| FieldError::InvalidTime {
        field,
        value: quote(text),
        why,
    })
}

/// Untrusted text quoted for an error message, cut to 64 characters so a
/// hostile payload cannot flood the log or the kept detail.
pub fn quote(value: &str) -> String {
    const MAX: usize = 64;
    if value.chars().count() <= MAX {
        format!("{value:?}")
    } else {
        let cut: String = value.chars().take(MAX).collect();
        format!("{cut:?}…")
    }
}

/// Longest `user_id`, in characters (not bytes).
pub const MAX_USER_ID_CHARS: usize = 128;

/// A `user_id` outside 1..=[`MAX_USER_ID_CHARS`] characters; holds its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("user_id must have 1 to {MAX_USER_ID_CHARS} characters, has {0}")]
pub struct BadUserId(pub usize);

/// Checks the length rule.
pub fn check_user_id(user_id: &str) -> Result<(), BadUserId> {
    let len = user_id.chars().count();
    if (1..=MAX_USER_ID_CHARS).contains(&len) {
        Ok(())
    } else {
        Err(BadUserId(len))
    }
}

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
    match b.get(at..at + 2) {
        Some(&[tens, ones]) => u32::from(tens - b'0') * 10 + u32::from(ones - b'0'),
        _ => 99,
    }
}

#[cfg(test)]
mod tests;
