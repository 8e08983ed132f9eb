//! What the retention end-to-end tests share: the scheduler and `metrics`
//! under `spin up` with an app token, rows of every pruned table written
//! with SQL relative to the database's `now()` (tagged, so a test can list
//! what is left), prune and tick calls as the cron bindings send them, and
//! the `/metrics` gauges next to counting the tables.
#![allow(dead_code)] // not every test uses every helper

use std::collections::{BTreeMap, HashMap};

use component_host::fakes::FakeSidecar;
use component_host::pg_cluster::{fresh_database, TestDatabase};
use component_host::TestApp;
use serde_json::Value;

/// The scheduler (tick and prune) and `metrics`, to read the gauges after
/// a prune.
pub const KEEP: [&str; 2] = ["scheduler", "metrics"];
pub const TOKEN: &str = "retention-app-token";

pub struct Env {
    _db: TestDatabase,
    pub pg: tokio_postgres::Client,
    pub sidecar: FakeSidecar,
    pub app: TestApp,
}

impl Env {
    pub async fn start(extra: &[(&str, &str)]) -> Env {
        let db = fresh_database().await.expect("test database");
        let (url, host) = (db.url(), db.host_port());
        Env::start_on(db, &url, &host, extra).await
    }

    pub async fn start_on(db: TestDatabase, url: &str, host: &str, extra: &[(&str, &str)]) -> Env {
        let sidecar = FakeSidecar::start().await.expect("fake sidecar");
        let mut vars: HashMap<String, String> = HashMap::from([
            ("database_url".to_owned(), url.to_owned()),
            ("database_host".to_owned(), host.to_owned()),
            ("app_api_token".to_owned(), TOKEN.to_owned()),
        ]);
        for (k, v) in sidecar.spin_variables() {
            vars.insert(k.to_owned(), v);
        }
        for (k, v) in extra {
            vars.insert((*k).to_owned(), (*v).to_owned());
        }
        let manifest = component_host::derived_manifest::kept("retention-e2e.toml", &KEEP);
        let app = TestApp::start(manifest, &vars).await.expect("app starts");
        let pg = db.client().await;
        Env {
            _db: db,
            pg,
            sidecar,
            app,
        }
    }

    pub async fn sql(&self, sql: &str) {
        self.pg.batch_execute(sql).await.expect(sql);
    }

    pub async fn count(&self, sql: &str) -> i64 {
        self.pg.query_one(sql, &[]).await.expect(sql).get(0)
    }

    /// The values of one text column, sorted.
    pub async fn column(&self, sql: &str) -> Vec<String> {
        let mut values: Vec<String> = self
            .pg
            .query(sql, &[])
            .await
            .expect(sql)
            .iter()
            .map(|r| r.get(0))
            .collect();
        values.sort();
        values
    }

    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let res = component_host::client::send(
            method,
            &format!("{}{path}", self.app.base_url()),
            headers,
            "",
        )
        .await
        .expect("request");
        (
            res.status,
            serde_json::from_slice(&res.body).unwrap_or(Value::Null),
        )
    }

    /// `POST /retention/prune` as the cron binding sends it.
    pub async fn prune(&self) -> Value {
        let (status, body) = self
            .request("POST", "/retention/prune", &[("dapr-api-token", TOKEN)])
            .await;
        assert_eq!(status, 200, "prune answered {status}: {body}");
        body
    }

    pub async fn tick(&self) -> Value {
        let (status, body) = self
            .request("POST", "/scheduler/tick", &[("dapr-api-token", TOKEN)])
            .await;
        assert_eq!(status, 200, "tick answered {status}: {body}");
        body
    }

    /// Deliveries tagged `tag` (their recipient), `n` of them, updated
    /// `age` ago (an SQL interval), one second apart (the first oldest).
    pub async fn deliveries(&self, tag: &str, n: i32, status: &str, published: bool, age: &str) {
        self.sql(&format!(
            "INSERT INTO deliveries (delivery_id, user_id, task_id, remind_at, channel, recipient, status,
                                     outcome_published, created_at, updated_at)
             SELECT gen_random_uuid(), 'u-r', gen_random_uuid(), now() - interval '{age}',
                    CASE WHEN i % 2 = 0 THEN 'email' ELSE 'push' END, '{tag}-' || lpad(i::text, 4, '0'),
                    '{status}', {published}, now() - interval '{age}' - interval '1 hour',
                    now() - interval '{age}' - (({n} - i) * interval '1 second')
             FROM generate_series(1, {n}) i"
        ))
        .await;
    }

    /// Rejected events tagged `tag` (their CloudEvent id) received `age` ago.
    pub async fn rejected(&self, tag: &str, n: i32, age: &str) {
        self.sql(&format!(
            "INSERT INTO rejected_events (id, topic, reason, payload, received_at)
             SELECT '{tag}-' || lpad(i::text, 4, '0'), 'reminders', 'schema_violation', '{{}}',
                    now() - interval '{age}' - (({n} - i) * interval '1 second')
             FROM generate_series(1, {n}) i"
        ))
        .await;
    }

    /// A task (title `tag`) with a recorded reminder `age` old; `task` is
    /// `open`, `completed`, `moved` (another remind_at now) or `deleted`,
    /// `state` `published` or `skipped`. Returns the task id.
    pub async fn recorded(&self, tag: &str, task: &str, state: &str, age: &str) -> String {
        let id: String = self
            .pg
            .query_one(
                &format!(
                    "INSERT INTO tasks (id, user_id, title, remind_at, completed)
                     VALUES (gen_random_uuid(), 'u-r', $1, now() - interval '{age}' - interval '1 minute',
                             {completed}) RETURNING id::text",
                    completed = task == "completed"
                ),
                &[&tag],
            )
            .await
            .expect("task")
            .get(0);
        self.sql(&format!(
            "INSERT INTO scheduled_reminders (task_id, remind_at, event_id, state, published_at, recorded_at)
             SELECT id, remind_at, gen_random_uuid(), '{state}',
                    CASE WHEN '{state}' = 'published' THEN now() - interval '{age}' END,
                    now() - interval '{age}'
             FROM tasks WHERE id = '{id}'"
        ))
        .await;
        match task {
            "moved" => {
                self.sql(&format!(
                    "UPDATE tasks SET remind_at = now() + interval '1 day' WHERE id = '{id}'"
                ))
                .await
            }
            "deleted" => {
                self.sql(&format!("DELETE FROM tasks WHERE id = '{id}'"))
                    .await
            }
            _ => {}
        }
        id
    }

    /// Titles of the tasks whose recorded reminders remain (`deleted` for
    /// those whose task is gone).
    pub async fn recorded_left(&self) -> Vec<String> {
        self.column(
            "SELECT COALESCE(t.title, 'deleted') FROM scheduled_reminders s LEFT JOIN tasks t ON t.id = s.task_id",
        )
        .await
    }

    /// The counted series of `GET /metrics` as (series, labels) -> value,
    /// without zero values.
    pub async fn gauges(&self) -> BTreeMap<String, i64> {
        let res = component_host::client::send(
            "GET",
            &format!("{}/metrics", self.app.base_url()),
            &[],
            "",
        )
        .await
        .expect("metrics");
        assert_eq!(res.status, 200, "{}", res.text());
        res.text()
            .lines()
            .filter(|l| {
                [
                    "todo_deliveries{",
                    "todo_rejected_events{",
                    "todo_scheduled_reminders{",
                ]
                .iter()
                .any(|p| l.starts_with(p))
            })
            .filter_map(|l| {
                let (series, value) = l.rsplit_once(' ')?;
                let value: i64 = value.parse().ok()?;
                (value != 0).then(|| (series.to_owned(), value))
            })
            .collect()
    }

    /// The same series counted from the tables.
    pub async fn counted(&self) -> BTreeMap<String, i64> {
        let rows = self
            .pg
            .query(
                "SELECT format('todo_deliveries{channel=\"%s\",status=\"%s\"}', channel, status), count(*)
                   FROM deliveries GROUP BY channel, status
                 UNION ALL
                 SELECT format('todo_rejected_events{topic=\"%s\",reason=\"%s\"}', topic, reason), count(*)
                   FROM rejected_events GROUP BY topic, reason
                 UNION ALL
                 SELECT format('todo_scheduled_reminders{state=\"%s\"}', state), count(*)
                   FROM scheduled_reminders GROUP BY state",
                &[],
            )
            .await
            .expect("counts");
        rows.iter().map(|r| (r.get(0), r.get(1))).collect()
    }
}

pub fn deleted(answer: &Value) -> (u64, u64, u64, u64) {
    let n = |v: &Value| v.as_u64().unwrap_or_else(|| panic!("{answer}"));
    (
        n(&answer["deleted"]["deliveries"]),
        n(&answer["deleted"]["rejected_events"]),
        n(&answer["deleted"]["scheduled_reminders"]),
        n(&answer["remaining"]),
    )
}
