//! The paging cursor of `GET .../deliveries`: opaque to clients, it is the
//! position `(created_at, delivery_id)` of the last row of a page, which is
//! exactly the sort key of the listing (newest first). Rows inserted later
//! sort before any cursor already handed out, so following `next` neither
//! skips nor repeats rows when new deliveries arrive meanwhile.
//!
//! Wire form: base64url without padding of `"<created_at> <delivery_id>"`,
//! `created_at` in RFC 3339 UTC with the microseconds Postgres keeps.

use base64ct::{Base64UrlUnpadded, Encoding};
use jiff::Timestamp;
use uuid::Uuid;

use crate::ApiError;

/// Longest cursor accepted; a real one is about 90 characters.
const MAX_CURSOR_CHARS: usize = 256;

/// A position in the delivery log (the last row of a page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// `created_at` of the row, microsecond precision.
    pub created_at: Timestamp,
    /// `delivery_id` of the row: the tie-breaker for equal `created_at`.
    pub delivery_id: Uuid,
}

impl Cursor {
    /// The opaque string for `next`.
    pub fn encode(&self) -> String {
        Base64UrlUnpadded::encode_string(
            format!("{} {}", self.created_at_param(), self.delivery_id).as_bytes(),
        )
    }

    /// Reads a `before` value; anything not made by [`Cursor::encode`]
    /// (bad base64, wrong layout, a time finer than Postgres keeps or
    /// outside what it can store) is
    /// `invalid_cursor`, so it never reaches SQL as a cast error.
    pub fn decode(value: &str) -> Result<Cursor, ApiError> {
        let bad = || {
            ApiError::bad_request(
                "invalid_cursor",
                "before is not a cursor returned as next by this listing",
            )
        };
        if value.is_empty() || value.len() > MAX_CURSOR_CHARS {
            return Err(bad());
        }
        let bytes = Base64UrlUnpadded::decode_vec(value).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let (at, id) = text.split_once(' ').ok_or_else(bad)?;
        // The shared event-time rule: an instant PostgreSQL cannot hold
        // (year 0, say) is a bad cursor (400), never a database fault (503).
        let created_at = todo_contract::parse_event_time(at).map_err(|_| bad())?;
        if created_at.subsec_nanosecond() % 1_000 != 0 {
            return Err(bad());
        }
        let delivery_id = Uuid::try_parse(id).map_err(|_| bad())?;
        Ok(Cursor {
            created_at,
            delivery_id,
        })
    }

    /// `created_at` as an SQL parameter (`$n::text::timestamptz`): RFC 3339
    /// UTC with exactly six fractional digits, so Postgres reads back the
    /// very value it stored.
    pub fn created_at_param(&self) -> String {
        format!("{:.6}", self.created_at)
    }
}

#[cfg(test)]
mod tests;
