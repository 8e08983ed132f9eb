//! What the recurrence end-to-end tests share: one environment per test
//! (its own migrated database, fake sidecar, app and daprd-like driver),
//! task rows, and readers for what the component left behind.
//!
//! The app is served from a manifest *derived* from the real `spin.toml`:
//! the same routes, variables and outbound hosts, but only the components
//! these tests talk to (`recurrence`, and `subscriptions` for the driver's
//! `GET /dapr/subscribe`). That keeps the suite independent of whether the
//! `notification` component is built, and each test process compiles two
//! components instead of three.
#![allow(dead_code)] // each test file uses a different part

use std::collections::HashMap;
use std::path::Path;

use component_host::fakes::dapr::{AppStatus, DaprDriver, DeliverOptions, PostAttempt};
use component_host::fakes::FakeSidecar;
use component_host::pg_cluster::{fresh_database, TestDatabase};
use component_host::TestApp;
use serde_json::{json, Value};

/// The components the derived manifest keeps.
const KEEP: [&str; 2] = ["recurrence", "subscriptions"];

/// The real `spin.toml` reduced to [`KEEP`], written once per test process.
pub fn manifest() -> &'static Path {
    component_host::derived_manifest::kept("recurrence-e2e.toml", &KEEP)
}

/// One test's world.
pub struct Env {
    pub db: TestDatabase,
    pub pg: tokio_postgres::Client,
    pub sidecar: FakeSidecar,
    pub app: TestApp,
    pub driver: DaprDriver,
}

impl Env {
    /// Default variables, pointing the app at this test's database and sidecar.
    pub async fn start() -> Env {
        Env::start_with(&[]).await
    }

    /// With extra Spin variables (e.g. `app_api_token`).
    pub async fn start_with(extra: &[(&str, &str)]) -> Env {
        let db = fresh_database().await.expect("test database");
        let (url, host) = (db.url(), db.host_port());
        let sidecar = FakeSidecar::start().await.expect("fake sidecar");
        let mut vars: HashMap<String, String> = HashMap::from([
            ("database_url".to_owned(), url),
            ("database_host".to_owned(), host),
        ]);
        for (k, v) in sidecar.spin_variables() {
            vars.insert(k.to_owned(), v);
        }
        for (k, v) in extra {
            vars.insert((*k).to_owned(), (*v).to_owned());
        }
        let (app, driver) = component_host::start_subscribed(manifest(), &vars).await;
        let pg = db.client().await;
        Env {
            db,
            pg,
            sidecar,
            app,
            driver,
        }
    }

    /// Inserts a task row; returns its id.
    pub async fn insert(&self, task: &Task) -> String {
        let id = task
            .id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        self.pg
            .execute(
                "INSERT INTO tasks (id, user_id, title, description, priority, tags, due_at, remind_at, \
                   completed, completed_at, recurrence_rule, recurrence_anchor, timezone, series_id, occurrence) \
                 VALUES ($1::text::uuid, $2, $3, $4, $5, $6::text::text[], $7::text::timestamptz, \
                   $8::text::timestamptz, true, $9::text::timestamptz, $10, $11, $12, $13::text::uuid, $14::text::int4)",
                &[
                    &id,
                    &task.user_id,
                    &task.title,
                    &task.description,
                    &task.priority,
                    &task.tags,
                    &task.due_at,
                    &task.remind_at,
                    &task.completed_at,
                    &task.rule,
                    &task.anchor,
                    &task.timezone,
                    &task.series_id,
                    &task.occurrence.to_string(),
                ],
            )
            .await
            .expect("insert task");
        id
    }

    /// Every row of a series (by `series_id`), by occurrence.
    pub async fn series(&self, series_id: &str) -> Vec<Value> {
        self.rows(
            "SELECT to_jsonb(t) FROM tasks t WHERE t.series_id = $1::text::uuid ORDER BY occurrence",
            series_id,
        )
        .await
    }

    /// Number of rows in `tasks`.
    pub async fn task_count(&self) -> i64 {
        self.pg
            .query_one("SELECT count(*) FROM tasks", &[])
            .await
            .expect("count")
            .get(0)
    }

    /// Every `rejected_events` row, oldest first.
    pub async fn rejected(&self) -> Vec<Value> {
        let rows = self
            .pg
            .query(
                "SELECT to_jsonb(r) FROM rejected_events r ORDER BY rejection_id",
                &[],
            )
            .await
            .expect("rejected_events");
        rows.iter().map(|r| r.get(0)).collect()
    }

    async fn rows(&self, sql: &str, param: &str) -> Vec<Value> {
        let rows = self.pg.query(sql, &[&param]).await.expect("query");
        rows.iter().map(|r| r.get(0)).collect()
    }

    /// Delivers a `task.completed` for `task_id`, as daprd would.
    pub async fn complete(
        &self,
        task_id: &str,
        completed_at: &str,
        options: DeliverOptions,
    ) -> PostAttempt {
        self.driver
            .deliver(
                "task-events",
                completed(task_id, completed_at),
                options.event_type("task.completed"),
            )
            .await
            .expect("delivery")
    }

    /// A `GET` on the app.
    pub async fn get(&self, path_and_query: &str, headers: &[(&str, &str)]) -> (u16, Value) {
        let url = format!("{}{path_and_query}", self.app.base_url());
        let res = component_host::client::send("GET", &url, headers, "")
            .await
            .expect("request");
        (res.status, res.json())
    }

    /// The UUID v5 Postgres' `uuid-ossp` computes for occurrence `n` of a
    /// series: an implementation independent of the component's.
    pub async fn expected_id(&self, series_id: &str, n: i32) -> String {
        self.pg
            .batch_execute("CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\"")
            .await
            .expect("uuid-ossp");
        let name = format!("{series_id}:{n}");
        self.pg
            .query_one(
                "SELECT uuid_generate_v5('19471010-6798-461c-a0f3-f9731b0c5aff'::uuid, $1)::text",
                &[&name],
            )
            .await
            .expect("uuid_generate_v5")
            .get(0)
    }
}

/// A `task.completed` payload.
pub fn completed(task_id: &str, completed_at: &str) -> Value {
    json!({"task_id": task_id, "user_id": "u-42", "completed_at": completed_at, "has_recurrence": true})
}

/// True when the app answered HTTP 200 with exactly `{"status": <status>}`.
pub fn answered(delivery: &PostAttempt, status: AppStatus) -> bool {
    delivery.answered_explicitly(status)
}

/// A row of `tasks` to insert (text values, cast in SQL).
#[derive(Debug, Clone)]
pub struct Task {
    pub id: Option<String>,
    pub user_id: String,
    pub title: String,
    pub description: Option<String>,
    pub priority: Option<String>,
    pub tags: String,
    pub due_at: Option<String>,
    pub remind_at: Option<String>,
    pub completed_at: Option<String>,
    pub rule: Option<String>,
    pub anchor: String,
    pub timezone: String,
    pub series_id: Option<String>,
    pub occurrence: i32,
}

impl Task {
    /// A completed recurring task, due and done at the given times (UTC).
    pub fn recurring(rule: &str, due_at: &str, completed_at: &str) -> Task {
        Task {
            id: None,
            user_id: "u-42".into(),
            title: "Pay rent".into(),
            description: Some("the flat".into()),
            priority: Some("high".into()),
            tags: "{home,money}".into(),
            due_at: Some(due_at.into()),
            remind_at: None,
            completed_at: Some(completed_at.into()),
            rule: Some(rule.into()),
            anchor: "due".into(),
            timezone: "UTC".into(),
            series_id: None,
            occurrence: 1,
        }
    }

    pub fn zone(mut self, zone: &str) -> Task {
        self.timezone = zone.into();
        self
    }

    pub fn anchor(mut self, anchor: &str) -> Task {
        self.anchor = anchor.into();
        self
    }

    pub fn remind_at(mut self, at: &str) -> Task {
        self.remind_at = Some(at.into());
        self
    }

    pub fn in_series(mut self, series_id: &str, occurrence: i32) -> Task {
        self.series_id = Some(series_id.into());
        self.occurrence = occurrence;
        self
    }
}

/// The instant of a `to_jsonb` timestamp, for comparisons independent of
/// the server's `TimeZone` (`2026-01-01T09:00:00+00:00` vs `...Z`).
pub fn instant(value: &Value) -> chrono::DateTime<chrono::Utc> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a timestamp: {value}"));
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .with_timezone(&chrono::Utc)
}

/// Shorthand for an RFC 3339 instant.
pub fn at(text: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .with_timezone(&chrono::Utc)
}
