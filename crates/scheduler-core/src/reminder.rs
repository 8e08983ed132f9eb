//! One due reminder as the scheduler reads it from `tasks`, the CloudEvent
//! id that makes a republish recognisable, and the `reminder.due` payload.

use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use jiff::Timestamp;
use todo_contract::utc;

/// The topic reminders are published to.
pub const TOPIC: &str = "reminders";
/// Their CloudEvent type.
pub const REMINDER_DUE: &str = "reminder.due";

/// A task whose reminder is due and not yet recorded in
/// `scheduled_reminders`; times are epoch microseconds (what the SQL hands over).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Due {
    /// `tasks.id`, as Postgres writes a uuid (lower case, hyphenated).
    pub task_id: String,
    /// `tasks.user_id`.
    pub user_id: String,
    /// `tasks.title`.
    pub title: String,
    /// `tasks.due_at`; `None` is sent as `null`.
    pub due_at_us: Option<i64>,
    /// `tasks.remind_at`: with `task_id`, the reminder's identity.
    pub remind_at_us: i64,
}

impl Due {
    /// UUID v5, in the URL namespace, of `"{task_id}/{remind_at}"` with
    /// `remind_at` in the fixed six-digit UTC form: the same reminder gets
    /// the same id however often it is published, and a changed `remind_at`
    /// is a new reminder with a new id.
    pub fn event_id(&self) -> String {
        let name = format!("{}/{}", self.task_id, fixed_micros(self.remind_at_us));
        Uuid::new_v5(&Uuid::NAMESPACE_URL, name.as_bytes()).to_string()
    }

    /// The `reminder.due` payload (no `channels`: the subscriber's apply).
    pub fn payload(&self) -> Value {
        json!({
            "task_id": self.task_id,
            "user_id": self.user_id,
            "title": self.title,
            "due_at": self.due_at_us.and_then(rfc3339),
            "remind_at": rfc3339(self.remind_at_us),
        })
    }
}

/// The form the CloudEvent id hashes: UTC, always six fraction digits and
/// `Z` (`2026-12-01T08:30:00.000000Z`), so the same instant always gives
/// the same id whatever the database session's time zone. An instant
/// beyond RFC 3339's four-digit years (which no due reminder is: Postgres
/// starts at 4713 BC) is hashed as its microseconds.
fn fixed_micros(us: i64) -> String {
    match Timestamp::from_microsecond(us) {
        Ok(at) => utc::micros_text(at),
        Err(_) => format!("{us}us"),
    }
}

/// RFC 3339 in UTC for payloads: `2026-12-01T08:30:00Z`, with six fraction
/// digits only when the instant has any (so consumers keying reminders at
/// microseconds see the exact `remind_at`). `None` beyond RFC 3339's
/// four-digit years (a `due_at` after 9999, which Postgres can hold): the
/// payload then says no due time rather than one no consumer can read.
fn rfc3339(us: i64) -> Option<String> {
    Timestamp::from_microsecond(us).ok().map(utc::rfc3339)
}

#[cfg(test)]
mod tests;
