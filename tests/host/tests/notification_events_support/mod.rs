//! What the notification event-path tests share: one environment per test
//! (its own migrated database, fake sidecar, e-mail relay, FCM with a test
//! service account, the app and a daprd-like driver), subscriber and device
//! rows written with SQL, and readers for what the component left behind.
//!
//! The app is served from a manifest derived from the real `spin.toml`
//! with only `notification` and `subscriptions` (for the driver's `GET
//! /dapr/subscribe`): the same routes, variables and outbound hosts, and no
//! dependency on the `recurrence` build.
#![allow(dead_code)] // each test file uses a different part

use std::collections::HashMap;
use std::path::Path;

use component_host::fakes::dapr::{AppStatus, DaprDriver, DeliverOptions, PostAttempt, Publish};
use component_host::fakes::email::Provider;
use component_host::fakes::{FakeEmailRelay, FakeFcm, FakeSidecar, TestServiceAccount};
use component_host::pg_cluster::{fresh_database, TestDatabase};
use component_host::TestApp;
use serde_json::{json, Value};

/// The components the derived manifest keeps.
const KEEP: [&str; 2] = ["notification", "subscriptions"];

/// The sender every test configures.
pub const FROM: &str = "Todo Reminders <reminders@todo.example>";

/// A W3C trace context the tests send and expect to see propagated.
pub const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// The reminder of most tests.
pub const TASK: &str = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";
pub const REMIND_AT: &str = "2026-12-01T08:30:00Z";
pub const DUE_AT: &str = "2026-12-01T09:00:00Z";
pub const USER: &str = "u-42";
pub const ADDRESS: &str = "ada.lovelace@example.com";

/// The real `spin.toml` reduced to [`KEEP`], written once per test process.
pub fn manifest() -> &'static Path {
    component_host::derived_manifest::kept("notification-events-e2e.toml", &KEEP)
}

/// How a test wants the app configured.
#[derive(Clone)]
pub struct Options {
    /// The relay API, or `None` for no `email_from` (e-mail not configured).
    pub email: Option<Provider>,
    /// FCM configured (`fcm_project_id` and the service account) or disabled.
    pub push: bool,
    /// Further Spin variables.
    pub extra: Vec<(String, String)>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            email: Some(Provider::Resend),
            push: true,
            extra: Vec::new(),
        }
    }
}

impl Options {
    pub fn provider(mut self, provider: Provider) -> Self {
        self.email = Some(provider);
        self
    }
    pub fn without_email(mut self) -> Self {
        self.email = None;
        self
    }
    pub fn without_push(mut self) -> Self {
        self.push = false;
        self
    }
    pub fn var(mut self, name: &str, value: &str) -> Self {
        self.extra.push((name.to_owned(), value.to_owned()));
        self
    }
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
}

impl Env {
    /// Resend, push enabled.
    pub async fn start() -> Env {
        Env::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> Env {
        let db = fresh_database().await.expect("test database");
        let sidecar = FakeSidecar::start().await.expect("fake sidecar");
        let relay = FakeEmailRelay::start().await.expect("fake relay");
        let account = TestServiceAccount::new("todo-test-project");
        let fcm = FakeFcm::start(&account).await.expect("fake fcm");
        let mut vars: HashMap<String, String> = HashMap::from([
            ("database_url".to_owned(), db.url()),
            ("database_host".to_owned(), db.host_port()),
        ]);
        let mut set = |pairs: Vec<(&'static str, String)>| {
            for (k, v) in pairs {
                vars.insert(k.to_owned(), v);
            }
        };
        set(sidecar.spin_variables());
        match options.email {
            Some(provider) => {
                set(relay.spin_variables(provider));
                set(vec![("email_from", FROM.to_owned())]);
            }
            // Relay variables set, but no sender: e-mail is not configured.
            None => set(relay.spin_variables(Provider::Resend)),
        }
        if options.push {
            set(fcm.spin_variables(&account));
        } else {
            set(vec![
                ("fcm_api_base", fcm.base_url()),
                ("fcm_oauth_base", fcm.base_url()),
            ]);
        }
        for (k, v) in &options.extra {
            vars.insert(k.clone(), v.clone());
        }
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
        }
    }

    /// Inserts (or replaces) a subscriber.
    pub async fn subscriber(&self, user_id: &str, email: Option<&str>, channels: &[&str]) {
        self.subscriber_in(user_id, email, channels, "Europe/Berlin")
            .await
    }

    pub async fn subscriber_in(
        &self,
        user_id: &str,
        email: Option<&str>,
        channels: &[&str],
        timezone: &str,
    ) {
        let channels = format!("{{{}}}", channels.join(","));
        self.pg
            .execute(
                "INSERT INTO subscribers (user_id, email, timezone, channels) \
                 VALUES ($1, $2, $3, $4::text::text[]) \
                 ON CONFLICT (user_id) DO UPDATE SET email = EXCLUDED.email, \
                   timezone = EXCLUDED.timezone, channels = EXCLUDED.channels",
                &[&user_id, &email, &timezone, &channels],
            )
            .await
            .expect("insert subscriber");
    }

    /// Registers a device token in the table and with the fake FCM.
    pub async fn device(&self, user_id: &str, token: &str) {
        self.pg
            .execute(
                "INSERT INTO devices (token, user_id, platform) VALUES ($1, $2, 'android')",
                &[&token, &user_id],
            )
            .await
            .expect("insert device");
        self.fcm.register_device(token);
    }

    /// The device tokens of `user_id` in the table.
    pub async fn devices(&self, user_id: &str) -> Vec<String> {
        self.pg
            .query(
                "SELECT token FROM devices WHERE user_id = $1 ORDER BY token",
                &[&user_id],
            )
            .await
            .expect("devices")
            .iter()
            .map(|r| r.get(0))
            .collect()
    }

    /// Delivers `data` as a `reminder.due` with a fresh CloudEvent id.
    pub async fn deliver(&self, data: Value) -> PostAttempt {
        self.deliver_as(data, DeliverOptions::new()).await
    }

    /// Delivers `data` as a `reminder.due` with these options.
    pub async fn deliver_as(&self, data: Value, options: DeliverOptions) -> PostAttempt {
        let options = if options.event_type.is_none() {
            options.event_type("reminder.due")
        } else {
            options
        };
        let options = if options.traceparent.is_none() {
            options.traceparent(TRACEPARENT)
        } else {
            options
        };
        self.driver
            .deliver("reminders", data, options)
            .await
            .expect("delivery")
    }

    /// Every delivery row, oldest first (by channel and recipient for ties).
    pub async fn deliveries(&self) -> Vec<Value> {
        self.pg
            .query(
                "SELECT to_jsonb(d) FROM deliveries d ORDER BY created_at, channel, recipient",
                &[],
            )
            .await
            .expect("deliveries")
            .iter()
            .map(|r| r.get(0))
            .collect()
    }

    /// The single request row of `channel`.
    pub async fn delivery(&self, channel: &str) -> Value {
        let rows: Vec<Value> = self
            .deliveries()
            .await
            .into_iter()
            .filter(|d| d["channel"] == channel)
            .collect();
        assert_eq!(rows.len(), 1, "one {channel} delivery expected: {rows:#?}");
        rows.into_iter().next().expect("one row")
    }

    /// Outcome events the sidecar accepted on `notifications`.
    pub fn outcomes(&self) -> Vec<Publish> {
        self.sidecar.publishes_to("notifications")
    }

    /// Every `rejected_events` row, oldest first.
    pub async fn rejected(&self) -> Vec<Value> {
        self.pg
            .query(
                "SELECT to_jsonb(r) FROM rejected_events r ORDER BY rejection_id",
                &[],
            )
            .await
            .expect("rejected_events")
            .iter()
            .map(|r| r.get(0))
            .collect()
    }

    /// `POST /outbox-flush` as Dapr's cron binding does.
    pub async fn flush_outbox(&self) -> (u16, Value) {
        let url = format!("{}/outbox-flush", self.app.base_url());
        let res = component_host::client::send("POST", &url, &[], "")
            .await
            .expect("outbox flush");
        (res.status, res.json())
    }
}

/// A `reminder.due` payload for [`TASK`] at [`REMIND_AT`].
pub fn reminder(channels: Option<&[&str]>) -> Value {
    reminder_for(TASK, REMIND_AT, channels)
}

/// A `reminder.due` payload.
pub fn reminder_for(task_id: &str, remind_at: &str, channels: Option<&[&str]>) -> Value {
    let mut data = json!({
        "task_id": task_id, "user_id": USER, "title": "Pay rent <today>",
        "due_at": DUE_AT, "remind_at": remind_at,
    });
    if let Some(channels) = channels {
        data["channels"] = json!(channels);
    }
    data
}

/// True when the app answered HTTP 200 with exactly `{"status": <status>}`.
pub fn answered(delivery: &PostAttempt, status: AppStatus) -> bool {
    delivery.answered_explicitly(status)
}

/// Asserts the answer, showing the body when it differs.
pub fn assert_answer(delivery: &PostAttempt, status: AppStatus) {
    assert!(
        answered(delivery, status),
        "expected {status:?}, got HTTP {:?} {}",
        delivery.http_status,
        delivery.body_text()
    );
}

/// The instant of a `to_jsonb` timestamp.
pub fn instant(value: &Value) -> chrono::DateTime<chrono::Utc> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a timestamp: {value}"));
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .with_timezone(&chrono::Utc)
}

/// The component's JSON log lines with `msg == "delivery"`.
pub fn delivery_logs(app: &TestApp) -> Vec<Value> {
    app.logs()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["msg"] == "delivery")
        .collect()
}
