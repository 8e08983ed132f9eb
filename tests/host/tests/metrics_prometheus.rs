//! The monitoring package against a real Prometheus (issue 20): Prometheus
//! (Debian's package, started as a child process on 127.0.0.1) scrapes
//! `/metrics` of the app under `spin up` every second and evaluates the
//! project's rules (`monitoring/prometheus/todo-workers.rules.yaml`, `for:`
//! shortened to 2 s in its copy, expressions unchanged). The test reads
//! Prometheus' HTTP API: the series are there, the rules are loaded, and
//! `TodoOutboxUnpublished` fires while the sidecar refuses a publish and
//! resolves once the outbox flush has published it.
//!
//! Needs `prometheus` (apt-get install -y prometheus; .ci/run installs it);
//! without it the test fails saying so.

mod metrics_support;

use std::collections::HashMap;

use component_host::client;
use component_host::fakes::dapr::{AppStatus, DeliverOptions};
use component_host::fakes::email::Provider;
use component_host::fakes::{FakeEmailRelay, FakeSidecar};
use component_host::pg_cluster::fresh_database;
use metrics_support::prometheus::Prometheus;
use serde_json::{json, Value};

/// metrics for the scrape, notification for the outbox, subscriptions for
/// the driver's `GET /dapr/subscribe`.
const KEEP: [&str; 3] = ["metrics", "notification", "subscriptions"];
const ALERT: &str = "TodoOutboxUnpublished";

/// The one sample of an instant query's answer, as a number.
fn single_value(result: &[Value]) -> Option<f64> {
    match result {
        [one] => one["value"][1].as_str()?.parse().ok(),
        _ => None,
    }
}

#[tokio::test]
async fn prometheus_scrapes_the_app_and_the_outbox_alert_fires_then_resolves() {
    let db = fresh_database().await.expect("test database");
    let sidecar = FakeSidecar::start().await.expect("fake sidecar");
    let relay = FakeEmailRelay::start().await.expect("fake relay");
    let mut vars: HashMap<String, String> = HashMap::from([
        ("database_url".to_owned(), db.url()),
        ("database_host".to_owned(), db.host_port()),
        (
            "email_from".to_owned(),
            "Todo <reminders@todo.example>".to_owned(),
        ),
    ]);
    for (k, v) in sidecar
        .spin_variables()
        .into_iter()
        .chain(relay.spin_variables(Provider::Resend))
    {
        vars.insert(k.to_owned(), v);
    }
    let manifest = component_host::derived_manifest::kept("metrics-prometheus.toml", &KEEP);
    let (app, driver) = component_host::start_subscribed(manifest, &vars).await;
    let target = app.base_url().trim_start_matches("http://").to_owned();
    let prometheus = Prometheus::start(&target, "2s").await;

    // The target is up and its series are stored, with the job's labels.
    prometheus
        .until("the outbox series", |p| async move {
            let found = p
                .query(r#"todo_outbox_unpublished{job="todo-workers"}"#)
                .await;
            (single_value(&found) == Some(0.0)).then_some(())
        })
        .await;
    assert_eq!(
        single_value(&prometheus.query(r#"up{job="todo-workers"}"#).await),
        Some(1.0)
    );
    let counters = prometheus
        .query(r#"todo_rejected_events_total{job="todo-workers"}"#)
        .await;
    assert_eq!(
        counters.len(),
        16,
        "route topics x reason codes: {counters:?}"
    );
    let rules = prometheus.api("rules", &[]).await;
    let names: Vec<&str> = rules["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["rules"].as_array().into_iter().flatten())
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert!(names.contains(&ALERT), "{names:?}");
    assert!(prometheus.alerts(ALERT).await.is_empty());

    // The sidecar refuses the outcome's publish: the e-mail is sent, its
    // outcome stays unpublished, and the alert fires.
    db.client()
        .await
        .execute(
            "INSERT INTO subscribers (user_id, email, timezone, channels) \
             VALUES ('u-42', 'ada@example.com', 'UTC', '{email}')",
            &[],
        )
        .await
        .expect("subscriber");
    sidecar.fail_next_publishes(1, "broker unavailable");
    let reminder = json!({
        "task_id": "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b", "user_id": "u-42",
        "title": "Pay rent", "remind_at": "2026-12-01T08:30:00Z", "channels": ["email"]
    });
    let delivery = driver
        .deliver(
            "reminders",
            reminder,
            DeliverOptions::new().event_type("reminder.due"),
        )
        .await
        .expect("delivery");
    assert!(
        delivery.answered_explicitly(AppStatus::Retry),
        "{}",
        delivery.body_text()
    );
    assert_eq!(relay.email_count(), 1);
    let firing = prometheus
        .until("the outbox alert firing", |p| async move {
            p.alerts(ALERT)
                .await
                .into_iter()
                .find(|a| a["state"] == "firing")
        })
        .await;
    assert_eq!(firing["labels"]["severity"], "warning");
    assert_eq!(firing["labels"]["job"], "todo-workers");
    assert_eq!(
        firing["annotations"]["runbook_url"],
        "docs/runbook.md#todooutboxunpublished"
    );
    assert_eq!(
        single_value(
            &prometheus
                .query(r#"todo_outbox_unpublished{job="todo-workers"}"#)
                .await
        ),
        Some(1.0)
    );

    // The sidecar accepts again and the cron binding's flush publishes the
    // outcome: the series drops to 0 and the alert resolves.
    let flushed = client::send("POST", &format!("{}/outbox-flush", app.base_url()), &[], "")
        .await
        .expect("outbox flush");
    assert_eq!(flushed.status, 200, "{}", flushed.text());
    assert_eq!(flushed.json()["published"], 1);
    assert_eq!(sidecar.publishes_to("notifications").len(), 1);
    prometheus
        .until("the outbox alert resolved", |p| async move {
            let active = p.alerts(ALERT).await;
            let series = p.query(&format!(r#"ALERTS{{alertname="{ALERT}"}}"#)).await;
            (active.is_empty() && series.is_empty()).then_some(())
        })
        .await;
    assert_eq!(
        single_value(
            &prometheus
                .query(r#"todo_outbox_unpublished{job="todo-workers"}"#)
                .await
        ),
        Some(0.0)
    );
}
