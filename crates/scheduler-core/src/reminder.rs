//! One due reminder as the scheduler reads it from `tasks`, the CloudEvent
//! id that makes a republish recognisable, and the `reminder.due` payload.

use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use jiff::Timestamp;

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
        Ok(at) => format!("{at:.6}"),
        Err(_) => format!("{us}us"),
    }
}

/// RFC 3339 in UTC for payloads: `2026-12-01T08:30:00Z`, with six fraction
/// digits only when the instant has any (so consumers keying reminders at
/// microseconds see the exact `remind_at`). `None` beyond RFC 3339's
/// four-digit years (a `due_at` after 9999, which Postgres can hold): the
/// payload then says no due time rather than one no consumer can read.
fn rfc3339(us: i64) -> Option<String> {
    let at = Timestamp::from_microsecond(us).ok()?;
    Some(if us.rem_euclid(1_000_000) == 0 {
        format!("{at:.0}")
    } else {
        format!("{at:.6}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEC_1: i64 = 1_796_113_800_000_000; // 2026-12-01T08:30:00Z

    fn due() -> Due {
        Due {
            task_id: "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b".into(),
            user_id: "u-42".into(),
            title: "Pay rent".into(),
            due_at_us: Some(DEC_1 + 1_800_000_000),
            remind_at_us: DEC_1,
        }
    }

    #[test]
    fn event_id_is_uuid_v5_of_task_and_fixed_remind_at() {
        // Python: uuid.uuid5(uuid.NAMESPACE_URL,
        //   "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b/2026-12-01T08:30:00.000000Z")
        assert_eq!(due().event_id(), "e4804f5d-6af1-58c7-bb1f-772a753b6c11");
    }

    #[test]
    fn a_changed_remind_at_is_a_new_id_and_the_same_one_is_stable() {
        let a = due();
        let mut b = due();
        assert_eq!(a.event_id(), b.event_id());
        b.remind_at_us += 1;
        assert_ne!(a.event_id(), b.event_id());
    }

    #[test]
    fn payload_has_exactly_the_contract_fields() {
        assert_eq!(
            due().payload(),
            json!({"task_id": "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b", "user_id": "u-42",
                   "title": "Pay rent", "due_at": "2026-12-01T09:00:00Z",
                   "remind_at": "2026-12-01T08:30:00Z"})
        );
    }

    #[test]
    fn a_task_without_due_at_sends_null() {
        let mut d = due();
        d.due_at_us = None;
        assert_eq!(d.payload()["due_at"], Value::Null);
        assert!(d.payload().get("channels").is_none());
    }

    #[test]
    fn reads_the_row_shape_the_sql_writes() {
        let row = json!({"task_id": "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b", "user_id": "u-42",
                         "title": "Pay rent", "due_at_us": null, "remind_at_us": DEC_1});
        let d: Due = serde_json::from_value(row).unwrap();
        assert_eq!(d.remind_at_us, DEC_1);
        assert_eq!(d.due_at_us, None);
    }

    #[test]
    fn the_hashed_form_has_six_digits_and_z() {
        assert_eq!(fixed_micros(DEC_1), "2026-12-01T08:30:00.000000Z");
        assert_eq!(fixed_micros(DEC_1 + 7), "2026-12-01T08:30:00.000007Z");
        assert_eq!(fixed_micros(-1), "1969-12-31T23:59:59.999999Z");
        // 2024-02-29T23:59:59Z, a leap day's last second.
        assert_eq!(
            fixed_micros(1_709_251_199_000_000),
            "2024-02-29T23:59:59.000000Z"
        );
        // Postgres' last instant (294276 AD) has no RFC 3339 form.
        assert_eq!(fixed_micros(i64::MAX), format!("{}us", i64::MAX));
    }

    #[test]
    fn payload_times_show_fractions_only_when_present() {
        assert_eq!(rfc3339(DEC_1).as_deref(), Some("2026-12-01T08:30:00Z"));
        assert_eq!(
            rfc3339(DEC_1 + 123_456).as_deref(),
            Some("2026-12-01T08:30:00.123456Z")
        );
        assert_eq!(
            rfc3339(DEC_1 + 500_000).as_deref(),
            Some("2026-12-01T08:30:00.500000Z")
        );
        assert_eq!(rfc3339(-1).as_deref(), Some("1969-12-31T23:59:59.999999Z"));
    }

    #[test]
    fn a_due_at_past_year_9999_is_sent_as_no_due_time() {
        let mut d = due();
        // 10000-01-01T00:00:00Z, which Postgres holds and RFC 3339 cannot write.
        d.due_at_us = Some(253_402_300_800_000_000);
        assert_eq!(d.payload()["due_at"], Value::Null);
        assert_eq!(d.payload()["remind_at"], "2026-12-01T08:30:00Z");
    }
}
