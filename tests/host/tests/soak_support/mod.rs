//! What the two soak suites (faults, crashes) share: one subscriber with an
//! address and a registered phone, `completions` completed weekly tasks for
//! the completions to name, and the seeded mix of both event types.

use component_host::fakes::FakeFcm;
use serde_json::{json, Value};

use crate::hostile_support::Rng;

/// The subscriber every reminder of a soak names.
pub struct SoakUser {
    /// `subscribers.user_id`.
    pub user_id: &'static str,
    /// The e-mail address.
    pub address: &'static str,
    /// The one device token (registered with the fake FCM too).
    pub phone: &'static str,
}

/// Stores the subscriber, its device and `completions` completed weekly
/// tasks (ids `00000000-0000-4000-9000-<n>`, n from 1), and registers the
/// device with FCM.
pub async fn seed(pg: &tokio_postgres::Client, fcm: &FakeFcm, user: &SoakUser, completions: usize) {
    pg.execute(
        "INSERT INTO subscribers (user_id, email, timezone, channels) VALUES ($1, $2, 'UTC', '{email,push}')",
        &[&user.user_id, &user.address],
    )
    .await
    .expect("subscriber");
    pg.execute(
        "INSERT INTO devices (token, user_id, platform) VALUES ($1, $2, 'android')",
        &[&user.phone, &user.user_id],
    )
    .await
    .expect("device");
    fcm.register_device(user.phone);
    pg.execute(
        "INSERT INTO tasks (id, user_id, title, due_at, completed, completed_at, recurrence_rule, timezone, series_id) \
         SELECT id, $1, 'Water plants', '2026-01-05T09:00:00Z', true, '2026-01-05T10:00:00Z', 'weekly', 'UTC', id \
         FROM (SELECT ('00000000-0000-4000-9000-' || lpad(to_hex(n), 12, '0'))::uuid AS id \
               FROM generate_series(1, $2::int) AS n) t",
        &[&user.user_id, &i32::try_from(completions).expect("completions")],
    )
    .await
    .expect("seed tasks");
}

/// `reminders` two-channel reminders and completions of the seeded tasks,
/// as `(topic, data, type)`, in an order shuffled by `rng` (Fisher-Yates).
pub fn events(
    user: &SoakUser,
    reminders: usize,
    completions: usize,
    rng: &mut Rng,
) -> Vec<(&'static str, Value, &'static str)> {
    let mut events = Vec::new();
    for i in 0..reminders {
        let data = json!({"task_id": format!("00000000-0000-4000-8000-{i:012x}"), "user_id": user.user_id,
            "title": "Pay rent", "remind_at": "2026-12-01T08:30:00Z"});
        events.push(("reminders", data, "reminder.due"));
    }
    for n in 1..=completions {
        let data = json!({"task_id": format!("00000000-0000-4000-9000-{n:012x}"), "user_id": user.user_id,
            "completed_at": "2026-01-05T10:00:00Z", "has_recurrence": true});
        events.push(("task-events", data, "task.completed"));
    }
    for i in (1..events.len()).rev() {
        events.swap(i, rng.below(i + 1));
    }
    events
}
