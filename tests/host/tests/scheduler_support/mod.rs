//! What the scheduler end-to-end tests share: one environment per test (its
//! own migrated database, fake sidecar, e-mail relay, FCM, the app and a
//! daprd-like driver), task rows written with SQL relative to the
//! database's `now()`, ticks as Dapr's cron binding sends them, and
//! readers for what the components left behind.
//!
//! The app is served from a manifest derived from the real `spin.toml`
//! with the scheduler and the two consumers it feeds, so a test can follow
//! a reminder from `tasks.remind_at` to an e-mail and a push, and a
//! completion to the next occurrence's reminder.
#![allow(dead_code)] // not every test uses every helper

use std::collections::HashMap;
use std::path::Path;

use bytes::Bytes;
use component_host::fakes::dapr::{AppStatus, DaprDriver, DeliverOptions, PostAttempt, Publish};
use component_host::fakes::email::Provider;
use component_host::fakes::{FakeEmailRelay, FakeFcm, FakeSidecar, TestServiceAccount};
use component_host::pg_cluster::{fresh_database, TestDatabase};
use component_host::TestApp;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

/// The components the derived manifest keeps (`metrics` for the backlog
/// and lag series).
const KEEP: [&str; 5] = [
    "scheduler",
    "notification",
    "recurrence",
    "subscriptions",
    "metrics",
];

/// The subscriber of every test's tasks.
pub const USER: &str = "u-42";
pub const ADDRESS: &str = "ada.lovelace@example.com";
pub const DEVICE: &str = "device-token-ada-1";
const FROM: &str = "Todo Reminders <reminders@todo.example>";

/// The real `spin.toml` reduced to [`KEEP`], written once per test process.
pub fn manifest() -> &'static Path {
    component_host::derived_manifest::kept("scheduler-e2e.toml", &KEEP)
}

/// One test's world.
pub struct Env {
    pub db: TestDatabase,
    pub pg: tokio_postgres::Client,
    pub sidecar: FakeSidecar,
    pub relay: FakeEmailRelay,
    pub fcm: FakeFcm,
    pub account: TestServiceAccount,
    pub app: TestApp,
    pub driver: DaprDriver,
    token: Option<String>,
}

impl Env {
    /// Default variables.
    pub async fn start() -> Env {
        Env::start_with(&[]).await
    }

    /// With further Spin variables (they win over the defaults set here).
    pub async fn start_with(extra: &[(&str, &str)]) -> Env {
        let db = fresh_database().await.expect("test database");
        let url = db.url();
        let host = db.host_port();
        Env::start_on(db, &url, &host, extra).await
    }

    /// With the app's `database_url` / `database_host` given explicitly
    /// (e.g. a server that is not there).
    pub async fn start_on(db: TestDatabase, url: &str, host: &str, extra: &[(&str, &str)]) -> Env {
        let sidecar = FakeSidecar::start().await.expect("fake sidecar");
        let relay = FakeEmailRelay::start().await.expect("fake relay");
        let account = TestServiceAccount::new("todo-test-project");
        let fcm = FakeFcm::start(&account).await.expect("fake fcm");
        let mut vars: HashMap<String, String> = HashMap::from([
            ("database_url".to_owned(), url.to_owned()),
            ("database_host".to_owned(), host.to_owned()),
            ("email_from".to_owned(), FROM.to_owned()),
        ]);
        let pairs = sidecar
            .spin_variables()
            .into_iter()
            .chain(relay.spin_variables(Provider::Resend))
            .chain(fcm.spin_variables(&account));
        for (k, v) in pairs {
            vars.insert(k.to_owned(), v);
        }
        for (k, v) in extra {
            vars.insert((*k).to_owned(), (*v).to_owned());
        }
        let token = vars.get("app_api_token").filter(|t| !t.is_empty()).cloned();
        let (app, driver) = component_host::start_subscribed(manifest(), &vars).await;
        let pg = db.client().await;
        Env {
            db,
            pg,
            sidecar,
            relay,
            fcm,
            account,
            app,
            driver,
            token,
        }
    }

    /// Subscriber [`USER`] with e-mail and push and one device.
    pub async fn subscriber(&self) {
        self.pg
            .batch_execute(&format!(
                "INSERT INTO subscribers (user_id, email, timezone, channels) \
                   VALUES ('{USER}', '{ADDRESS}', 'Europe/Berlin', '{{email,push}}'); \
                 INSERT INTO devices (token, user_id, platform) VALUES ('{DEVICE}', '{USER}', 'android');"
            ))
            .await
            .expect("subscriber");
        self.fcm.register_device(DEVICE);
    }

    /// Inserts an open task of [`USER`]; `remind_at` and `due_at` are SQL
    /// expressions (e.g. `now() - interval '1 hour'`, `NULL`). Returns its id.
    pub async fn task(&self, title: &str, remind_at: &str, due_at: &str) -> String {
        self.task_with(title, remind_at, due_at, "NULL").await
    }

    /// Like [`Env::task`] with a recurrence rule (SQL literal or `NULL`).
    pub async fn task_with(
        &self,
        title: &str,
        remind_at: &str,
        due_at: &str,
        rule: &str,
    ) -> String {
        let sql = format!(
            "INSERT INTO tasks (id, user_id, title, remind_at, due_at, recurrence_rule) \
             VALUES (gen_random_uuid(), $1, $2, {remind_at}, {due_at}, {rule}) RETURNING id::text"
        );
        self.pg
            .query_one(&sql, &[&USER, &title])
            .await
            .expect("insert task")
            .get(0)
    }

    /// Runs SQL for its effect.
    pub async fn sql(&self, sql: &str) {
        self.pg.batch_execute(sql).await.expect(sql);
    }

    /// `POST /scheduler/tick` as Dapr's cron binding sends it (with the app
    /// token when one is configured); the status and the JSON answer.
    pub async fn tick(&self) -> (u16, Value) {
        let mut headers = vec![("content-type", "application/json")];
        if let Some(token) = &self.token {
            headers.push(("dapr-api-token", token.as_str()));
        }
        self.request("POST", "/scheduler/tick", &headers, "{}")
            .await
    }

    /// A tick that must succeed; its answer.
    pub async fn tick_ok(&self) -> Value {
        let (status, body) = self.tick().await;
        assert_eq!(status, 200, "tick answered {status}: {body}");
        body
    }

    /// Any request to the app.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, Value) {
        let (status, bytes) = http(
            method,
            &format!("{}{path}", self.app.base_url()),
            headers,
            body,
        )
        .await;
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// Reminders the sidecar accepted, in order.
    pub fn reminders(&self) -> Vec<Publish> {
        self.sidecar.publishes_to("reminders")
    }

    /// Delivers a published reminder to `/events/reminders` as daprd would
    /// (same CloudEvent id and type); asserts SUCCESS.
    pub async fn deliver_reminder(&self, publish: &Publish) {
        let data = publish.data.clone().expect("reminder payload is JSON");
        let mut options = DeliverOptions::new().event_type("reminder.due");
        if let Some(id) = &publish.cloudevent_id {
            options = options.id(id.clone());
        }
        let delivery = self
            .driver
            .deliver("reminders", data, options)
            .await
            .expect("delivery");
        assert_success(&delivery);
    }

    /// Marks the task completed in `tasks` (as the todo backend does) and
    /// delivers its `task.completed` to `/events/task-events`.
    pub async fn complete(&self, task_id: &str) {
        let completed_at: String = self
            .pg
            .query_one(
                "UPDATE tasks SET completed = true, completed_at = now() WHERE id = $1::text::uuid \
                 RETURNING to_char(completed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
                &[&task_id],
            )
            .await
            .expect("complete task")
            .get(0);
        let data = json!({"task_id": task_id, "user_id": USER, "completed_at": completed_at,
                          "has_recurrence": true});
        let delivery = self
            .driver
            .deliver(
                "task-events",
                data,
                DeliverOptions::new().event_type("task.completed"),
            )
            .await
            .expect("delivery");
        assert_success(&delivery);
    }

    /// Every `scheduled_reminders` row, oldest `remind_at` first.
    pub async fn recorded(&self) -> Vec<Value> {
        self.pg
            .query(
                "SELECT to_jsonb(s) FROM scheduled_reminders s ORDER BY remind_at, task_id",
                &[],
            )
            .await
            .expect("scheduled_reminders")
            .iter()
            .map(|r| r.get(0))
            .collect()
    }

    /// The CloudEvent id the contract fixes for a task's current reminder,
    /// computed by Postgres (`uuid-ossp`, `to_char`): independent of the
    /// component's implementation.
    pub async fn expected_event_id(&self, task_id: &str) -> String {
        self.sql("CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\"")
            .await;
        self.pg
            .query_one(
                "SELECT uuid_generate_v5(uuid_ns_url(), id::text || '/' || \
                   to_char(remind_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'))::text \
                 FROM tasks WHERE id = $1::text::uuid",
                &[&task_id],
            )
            .await
            .expect("expected id")
            .get(0)
    }

    /// `todo_scheduler_due_backlog` and `todo_scheduler_lag_seconds` of a
    /// `GET /metrics` (which must answer 200).
    pub async fn backlog_and_lag(&self) -> (f64, f64) {
        let (status, body) =
            http("GET", &format!("{}/metrics", self.app.base_url()), &[], "").await;
        let text = String::from_utf8_lossy(&body);
        assert_eq!(status, 200, "{text}");
        let value = |name: &str| -> f64 {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
                .unwrap_or_else(|| panic!("no {name} in {text}"))
        };
        (
            value("todo_scheduler_due_backlog"),
            value("todo_scheduler_lag_seconds"),
        )
    }

    /// Rows of `scheduler_due_queue` (migration 0007) due now, stale or not.
    pub async fn queued_due(&self) -> i64 {
        self.pg
            .query_one(
                "SELECT count(*) FROM scheduler_due_queue WHERE remind_at <= now()",
                &[],
            )
            .await
            .expect("scheduler_due_queue")
            .get(0)
    }

    /// Ticks twice at once, `rounds` times (two replicas' cron bindings
    /// firing together): every answer is 200, publishes at most `batch` and
    /// skips and fails nothing. Answers how many were published in all.
    pub async fn parallel_ticks(&self, rounds: usize, batch: u64) -> u64 {
        let mut published = 0;
        for round in 0..rounds {
            let (a, b) = tokio::join!(self.tick(), self.tick());
            for (status, body) in [&a, &b] {
                assert_eq!(*status, 200, "round {round}: {body}");
                let (p, s, f, _) = counts(body);
                assert!(p <= batch && s == 0 && f == 0, "round {round}: {body}");
                published += p;
            }
        }
        published
    }

    /// The CloudEvent ids of the published reminders, in order.
    pub fn published_ids(&self) -> Vec<String> {
        self.reminders()
            .iter()
            .map(|p| p.cloudevent_id.clone().expect("id"))
            .collect()
    }

    /// The published reminders' task ids, in order.
    pub fn published_tasks(&self) -> Vec<String> {
        self.reminders()
            .iter()
            .map(|p| {
                p.data.as_ref().expect("payload")["task_id"]
                    .as_str()
                    .expect("task_id")
                    .to_owned()
            })
            .collect()
    }

    /// A task's `remind_at` as RFC 3339 UTC text with microseconds.
    pub async fn remind_at(&self, task_id: &str) -> chrono::DateTime<chrono::Utc> {
        let text: String = self
            .pg
            .query_one(
                "SELECT to_char(remind_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') \
                 FROM tasks WHERE id = $1::text::uuid",
                &[&task_id],
            )
            .await
            .expect("remind_at")
            .get(0);
        instant(&Value::String(text))
    }
}

/// A tick's answer as `(published, skipped, failed, remaining)`.
pub fn counts(answer: &Value) -> (u64, u64, u64, u64) {
    let n = |k: &str| {
        answer[k]
            .as_u64()
            .unwrap_or_else(|| panic!("{k} in {answer}"))
    };
    (n("published"), n("skipped"), n("failed"), n("remaining"))
}

/// Asserts daprd would read the answer as an explicit SUCCESS.
pub fn assert_success(delivery: &PostAttempt) {
    assert!(
        delivery.answered_explicitly(AppStatus::Success),
        "expected SUCCESS from {}, got HTTP {:?} {}",
        delivery.route,
        delivery.http_status,
        delivery.body_text()
    );
}

/// The instant of an RFC 3339 JSON string.
pub fn instant(value: &Value) -> chrono::DateTime<chrono::Utc> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a timestamp: {value}"));
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .with_timezone(&chrono::Utc)
}

/// The distinct JSON log lines with this `msg`, in order. Distinct because
/// `spin up --log-dir` both writes a component's stdout to its log file and
/// echoes it, so the app's logs may hold each line twice; the lines of
/// interest all differ (each names its CloudEvent id).
pub fn logs(app: &TestApp, msg: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    for line in app.logs().lines() {
        let Ok(value) = serde_json::from_str::<Value>(line.trim()) else {
            continue;
        };
        if value["msg"] == msg && !seen.contains(&value) {
            seen.push(value);
        }
    }
    seen
}

/// One HTTP/1.1 request on its own connection; the status and body.
pub async fn http(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> (u16, Bytes) {
    let uri: hyper::Uri = url.parse().expect("url");
    let authority = uri.authority().expect("host").clone();
    let stream = tokio::net::TcpStream::connect(authority.as_str())
        .await
        .unwrap_or_else(|e| panic!("connect {authority}: {e}"));
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(conn);
    let mut req = hyper::Request::builder()
        .method(method)
        .uri(uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"))
        .header("host", authority.as_str());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = sender
        .send_request(
            req.body(Full::new(Bytes::from(body.to_owned())))
                .expect("request"),
        )
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = res.status().as_u16();
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    (status, bytes)
}
