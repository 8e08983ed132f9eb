//! One due reminder as the scheduler reads it from `tasks`, the CloudEvent
//! id that makes a republish recognisable, and the `reminder.due` payload.

use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use dapr_pubsub::epoch_micros;

/// The topic reminders are published to.
pub const TOPIC: &str = "reminders";
/// Their CloudEvent type.
pub const REMINDER_DUE: &str = "reminder.due";

/// A task whose reminder is due and not yet recorded in
/// `scheduled_reminders`; times are epoch microseconds (see [`dapr_pubsub::epoch_micros`]).
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
        let name = format!(
            "{}/{}",
            self.task_id,
            epoch_micros::fixed_micros(self.remind_at_us)
        );
        Uuid::new_v5(&Uuid::NAMESPACE_URL, name.as_bytes()).to_string()
    }

    /// The `reminder.due` payload (no `channels`: the subscriber's apply).
    pub fn payload(&self) -> Value {
        json!({
            "task_id": self.task_id,
            "user_id": self.user_id,
            "title": self.title,
            "due_at": self.due_at_us.map(epoch_micros::rfc3339),
            "remind_at": epoch_micros::rfc3339(self.remind_at_us),
        })
    }
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
}
