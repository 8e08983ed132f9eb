//! Typed errors. Every error has a stable snake_case [`code`](Error::code)
//! so that callers (HTTP 400 bodies, `rejected_events.reason`, log lines) can
//! branch on and record a reason without parsing human-readable messages.

use thiserror::Error as ThisError;

/// Longest user-supplied text echoed back in an error message, in characters.
/// Keeps log lines and HTTP bodies small when someone sends a megabyte rule.
const ECHO_LIMIT: usize = 40;

/// Shortens user input for inclusion in a message (on a char boundary).
pub(crate) fn echo(text: &str) -> String {
    match text.char_indices().nth(ECHO_LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Why a `recurrence_rule` string was rejected.
///
/// The message always names the offending part (`BYDAY`, `COUNT`, the unknown
/// keyword, ...) so that a 400 response or a log line tells the user what to
/// fix. All variants share the code `invalid_rule`.
#[derive(Debug, Clone, PartialEq, Eq, ThisError)]
#[non_exhaustive]
pub enum RuleError {
    /// The rule was empty or only whitespace.
    #[error("recurrence rule is empty")]
    Empty,
    /// Neither a keyword nor `NAME=VALUE` RRULE text.
    #[error(
        "unknown recurrence keyword {0:?} (expected daily, weekdays, weekly, monthly, yearly or RRULE text)"
    )]
    UnknownKeyword(String),
    /// A `;`-separated piece without `=`.
    #[error("malformed rule part {0:?}: expected NAME=VALUE")]
    MalformedPart(String),
    /// A rule part name RFC 5545 does not define.
    #[error("unknown rule part {0:?}")]
    UnknownPart(String),
    /// An RFC 5545 part this engine deliberately does not implement
    /// (BYHOUR, BYMINUTE, BYSECOND, BYYEARDAY, BYWEEKNO, RSCALE, SKIP).
    #[error("rule part {0} is not supported")]
    UnsupportedPart(String),
    /// The same part given twice (RFC 5545: each part at most once).
    #[error("rule part {0} is given more than once")]
    DuplicatePart(String),
    /// RRULE text without `FREQ`.
    #[error("rule part FREQ is missing")]
    MissingFreq,
    /// A part's value is malformed or out of range.
    #[error("invalid {part} value {value:?}: {reason}")]
    InvalidValue {
        /// The part name, e.g. `BYDAY`.
        part: &'static str,
        /// The offending value (shortened).
        value: String,
        /// What was expected.
        reason: &'static str,
    },
    /// Parts that are individually valid but not together.
    #[error("rule part {part}: {reason}")]
    Conflict {
        /// The part that cannot be used in this combination.
        part: &'static str,
        /// Why.
        reason: &'static str,
    },
}

impl RuleError {
    /// Stable machine-readable reason: always `invalid_rule`.
    pub fn code(&self) -> &'static str {
        "invalid_rule"
    }
}

/// The time-zone name is not an IANA zone in the bundled database.
#[derive(Debug, Clone, PartialEq, Eq, ThisError)]
#[error("unknown time zone {name:?}")]
pub struct TimeZoneError {
    /// The rejected name (shortened).
    pub name: String,
}

impl TimeZoneError {
    /// Stable machine-readable reason: `unknown_timezone`.
    pub fn code(&self) -> &'static str {
        "unknown_timezone"
    }
}

/// `recurrence_anchor` is neither `due` nor `completion`.
#[derive(Debug, Clone, PartialEq, Eq, ThisError)]
#[error("unknown recurrence anchor {value:?} (expected due or completion)")]
pub struct AnchorError {
    /// The rejected value (shortened).
    pub value: String,
}

impl AnchorError {
    /// Stable machine-readable reason: `invalid_anchor`.
    pub fn code(&self) -> &'static str {
        "invalid_anchor"
    }
}

/// The computation was cut off instead of running unbounded.
///
/// Rules that can never match again are *not* errors (the series simply
/// ends); this is only returned when answering would need more work than the
/// engine allows per call, which only happens with absurd inputs such as a
/// daily rule whose anchor is thousands of years before the completion.
#[derive(Debug, Clone, PartialEq, Eq, ThisError)]
#[non_exhaustive]
pub enum SearchError {
    /// More candidate periods would have to be examined than allowed.
    #[error("recurrence search limit exceeded ({periods} periods examined)")]
    LimitExceeded {
        /// How many periods (days, weeks, months or years) were examined.
        periods: u64,
    },
    /// The next occurrence number does not fit in the `occurrence` column.
    #[error("occurrence number overflow")]
    OccurrenceOverflow,
}

impl SearchError {
    /// Stable machine-readable reason: `search_limit_exceeded` or
    /// `occurrence_overflow`.
    pub fn code(&self) -> &'static str {
        match self {
            SearchError::LimitExceeded { .. } => "search_limit_exceeded",
            SearchError::OccurrenceOverflow => "occurrence_overflow",
        }
    }
}

/// Any error of this crate, for callers that want a single `?` type.
#[derive(Debug, Clone, PartialEq, Eq, ThisError)]
#[non_exhaustive]
pub enum Error {
    /// See [`RuleError`].
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// See [`TimeZoneError`].
    #[error(transparent)]
    TimeZone(#[from] TimeZoneError),
    /// See [`AnchorError`].
    #[error(transparent)]
    Anchor(#[from] AnchorError),
    /// See [`SearchError`].
    #[error(transparent)]
    Search(#[from] SearchError),
}

impl Error {
    /// Stable machine-readable reason of the wrapped error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Rule(e) => e.code(),
            Error::TimeZone(e) => e.code(),
            Error::Anchor(e) => e.code(),
            Error::Search(e) => e.code(),
        }
    }
}

#[cfg(test)]
mod tests;
