//! The host refuses outbound connections that `allowed_outbound_hosts` does
//! not list, the way Spin 3.6.3 does: Postgres `open` fails with
//! `connection-failed("address postgres://… is not permitted")` and an HTTP
//! request fails with `HttpRequestDenied`, before any connection is made.
//! The components must turn both into a Dapr RETRY, never a lost event.

use std::collections::HashMap;

use component_host::derived_manifest::{spin_toml, Derive};
use component_host::fakes::dapr::{AppStatus, DaprDriver, DeliverOptions, FakeSidecar};
use component_host::pg_cluster::{fresh_database, TestDatabase};
use component_host::TestApp;
use serde_json::json;

fn vars(db: &TestDatabase, sidecar: &FakeSidecar, host: &str) -> HashMap<String, String> {
    let mut v: HashMap<String, String> = sidecar
        .spin_variables()
        .into_iter()
        .map(|(k, val)| (k.to_owned(), val))
        .collect();
    v.insert("database_url".into(), db.url());
    v.insert("database_host".into(), host.to_owned());
    v
}

#[tokio::test]
async fn postgres_outside_the_allow_list_is_refused_and_the_event_kept_for_retry() {
    let db = fresh_database().await.expect("database");
    let sidecar = FakeSidecar::start().await.expect("sidecar");
    // database_host is what allowed_outbound_hosts lists; point it elsewhere.
    let app = TestApp::start(&spin_toml(), &vars(&db, &sidecar, "127.0.0.1:1"))
        .await
        .expect("app starts");
    let mut driver = DaprDriver::new(app.base_url());
    driver.subscribe().await.expect("subscribe");

    let d = driver
        .deliver_raw(
            "/events/task-events",
            "{not json",
            "application/cloudevents+json",
        )
        .await;
    // A malformed event would be dropped, but it cannot be kept in
    // rejected_events, so the component must ask for redelivery instead.
    assert!(
        d.answered_explicitly(AppStatus::Retry),
        "answer: {:?} {}",
        d.http_status,
        d.body_text()
    );
    let logs = app.logs_once_containing("is not permitted").await;
    assert!(logs.contains("is not permitted"), "logs: {logs}");
    // The component's line is in Spin's log dir and in Spin's own output
    // (stderr: what `spin up` users and SpinKube pod logs show).
    let line = app
        .component_stdout("recurrence")
        .lines()
        .find(|l| l.contains("is not permitted"))
        .map(str::to_owned)
        .expect("the component logged the refusal to its log file");
    let shown = app.once_containing(TestApp::spin_stderr, &line).await;
    assert!(shown.contains(&line), "{shown}");
    let kept = db
        .client()
        .await
        .query_one("SELECT count(*) FROM rejected_events", &[])
        .await
        .expect("count");
    assert_eq!(kept.get::<_, i64>(0), 0);

    let ready = component_host::client::send(
        "GET",
        &format!("{}/recurrence/readyz", app.base_url()),
        &[],
        "",
    )
    .await
    .expect("readyz");
    assert_eq!(ready.status, 503);
    assert_eq!(ready.json()["error"]["code"], "database_host_mismatch");
}

#[tokio::test]
async fn http_to_a_host_outside_the_allow_list_is_denied() {
    let db = fresh_database().await.expect("database");
    let sidecar = FakeSidecar::start().await.expect("sidecar");
    // The recurrence component without the sidecar in its allow-list.
    let narrow = |doc: &mut toml::Table| {
        doc["component"]["recurrence"]
            .as_table_mut()
            .expect("recurrence component")
            .insert(
                "allowed_outbound_hosts".into(),
                toml::Value::Array(vec!["postgres://{{ database_host }}".into()]),
            );
    };
    let manifest = Derive {
        edit: &narrow,
        ..Derive::keeping("no-sidecar.toml", &["recurrence", "subscriptions"])
    }
    .write()
    .expect("derived manifest");
    let app = TestApp::start(&manifest, &vars(&db, &sidecar, &db.host_port()))
        .await
        .expect("app starts");

    let task_id = "6f1c2a52-0000-4000-8000-000000000001";
    db.client()
        .await
        .execute(
            "INSERT INTO tasks (id, user_id, title, due_at, completed, completed_at, recurrence_rule, timezone) \
             VALUES ($1::text::uuid, 'u-1', 'Water plants', '2026-12-01T09:00:00Z', true, '2026-12-01T10:00:00Z', 'daily', 'UTC')",
            &[&task_id],
        )
        .await
        .expect("insert task");
    let mut driver = DaprDriver::new(app.base_url());
    driver.subscribe().await.expect("subscribe");
    let data = json!({"task_id": task_id, "user_id": "u-1", "completed_at": "2026-12-01T10:00:00Z", "has_recurrence": true});
    let d = driver
        .deliver(
            "task-events",
            data,
            DeliverOptions::new().event_type("task.completed"),
        )
        .await
        .expect("deliver");
    assert!(
        d.answered_explicitly(AppStatus::Retry),
        "answer: {:?} {}",
        d.http_status,
        d.body_text()
    );
    assert!(
        sidecar.publish_attempts().is_empty(),
        "no request may reach the sidecar"
    );
    // The host's own warning (Spin's wording), not the component's message.
    let expected = format!(
        "disallowed destination 'http://localhost:{}'",
        sidecar.port()
    );
    let logs = app.logs_once_containing(&expected).await;
    assert!(logs.contains(&expected), "logs: {logs}");
}
