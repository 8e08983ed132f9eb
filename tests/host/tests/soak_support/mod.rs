//! What the two soak suites (faults, crashes) share: one subscriber with an
//! address and a registered phone, `completions` completed weekly tasks for
//! the completions to name, and the seeded mix of both event types.

use std::collections::HashSet;

use component_host::fakes::{FakeFcm, FakeSidecar};
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

/// What a soak left behind, read after the last outbox flush.
pub struct Aftermath {
    /// Delivery rows `sent`.
    pub sent: i64,
    /// Delivery rows still `pending` or `retrying`.
    pub in_flight: i64,
    /// Delivery rows whose outcome is not published.
    pub unpublished: i64,
    /// Next occurrences created.
    pub occurrences: i64,
    /// Series with exactly one next occurrence.
    pub series_with_one: i64,
    /// Distinct CloudEvent ids of the published outcome events.
    pub outcome_ids: HashSet<String>,
    /// Distinct CloudEvent ids of the published `task.created` events.
    pub created_ids: HashSet<String>,
    /// Label sets where the running counts behind `/metrics`
    /// (`metric_counts`) disagree with counting the tables.
    pub metric_drift: i64,
}

/// Reads the [`Aftermath`] from the database and the sidecar.
pub async fn aftermath(pg: &tokio_postgres::Client, sidecar: &FakeSidecar) -> Aftermath {
    let count = |sql: &'static str| async move {
        pg.query_one(sql, &[]).await.expect(sql).get::<_, i64>(0)
    };
    let publishes = sidecar.publishes();
    let ids = |topic: &str| -> HashSet<String> {
        publishes
            .iter()
            .filter(|p| p.topic == topic)
            .filter_map(|p| p.cloudevent_id.clone())
            .collect()
    };
    Aftermath {
        sent: count("SELECT count(*) FROM deliveries WHERE status = 'sent'").await,
        in_flight: count("SELECT count(*) FROM deliveries WHERE status IN ('pending', 'retrying')").await,
        unpublished: count("SELECT count(*) FROM deliveries WHERE NOT outcome_published").await,
        occurrences: count("SELECT count(*) FROM tasks WHERE occurrence = 2").await,
        series_with_one: count(
            "SELECT count(*) FROM (SELECT series_id FROM tasks WHERE occurrence = 2 GROUP BY series_id HAVING count(*) = 1) s",
        )
        .await,
        outcome_ids: ids("notifications"),
        created_ids: ids("task-events"),
        metric_drift: count(
            "WITH t AS (SELECT 'deliveries' AS series, ARRAY[channel, status] AS labels, count(*)::numeric AS n
                        FROM deliveries GROUP BY 2
                        UNION ALL SELECT 'rejected_events', ARRAY[topic, reason], count(*) FROM rejected_events GROUP BY 2
                        UNION ALL SELECT 'generated_tasks', '{}', count(*) FROM tasks WHERE occurrence > 1 HAVING count(*) > 0),
                  m AS (SELECT series, labels, sum(n) AS n FROM metric_counts
                        WHERE series <> 'scheduled_reminders' GROUP BY 1, 2 HAVING sum(n) <> 0)
             SELECT (SELECT count(*) FROM (TABLE t EXCEPT TABLE m) a) + (SELECT count(*) FROM (TABLE m EXCEPT TABLE t) b)",
        )
        .await,
    }
}
