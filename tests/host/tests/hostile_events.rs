//! Hostile input under the real Spin CLI: 2,100 generated malformed
//! deliveries across both event routes, bulk requests mixing good, bad
//! and duplicate entries, and hostile subscriber-API requests.
//!
//! With healthy fakes and database, no delivery may be answered RETRY (on
//! Kafka a RETRY blocks the partition behind it), every answer is HTTP 200
//! with a Dapr status, a DROP keeps exactly one `rejected_events` row, good
//! bulk entries are handled exactly once, and the app is healthy afterwards.

mod both_services;
mod hostile_support;

use std::collections::BTreeMap;

use base64ct::Encoding as _;
use component_host::client;
use component_host::fakes::dapr::{BulkEntry, DaprDriver};
use component_host::fakes::{FakeEmailRelay, FakeSidecar};
use component_host::pg_cluster::{fresh_database, TestDatabase};
use component_host::TestApp;
use hostile_support::{envelope, generate, uuid_for, valid_payload, Route};
use serde_json::{json, Value};

const SEED: u64 = 0x5EED_2026;
const CASES: usize = 2_100;
const ADDRESS: &str = "hostile.user@example.com";
/// The subscriber of the good bulk entries (generated cases use `u-hostile`).
const GOOD_ADDRESS: &str = "good.user@example.com";

struct World {
    db: TestDatabase,
    pg: tokio_postgres::Client,
    relay: FakeEmailRelay,
    _sidecar: FakeSidecar,
    app: TestApp,
    driver: DaprDriver,
}

async fn world() -> World {
    let db = fresh_database().await.expect("database");
    let sidecar = FakeSidecar::start().await.expect("sidecar");
    let relay = FakeEmailRelay::start().await.expect("relay");
    let (app, driver) = both_services::start("hostile-e2e.toml", &db, &sidecar, &relay, None).await;
    let pg = db.client().await;
    for (user, address) in [("u-hostile", ADDRESS), ("u-good", GOOD_ADDRESS)] {
        pg.execute(
            "INSERT INTO subscribers (user_id, email, timezone, channels) VALUES ($1, $2, 'UTC', '{email}')",
            &[&user, &address],
        )
        .await
        .expect("subscriber");
    }
    World {
        db,
        pg,
        relay,
        _sidecar: sidecar,
        app,
        driver,
    }
}

async fn count(pg: &tokio_postgres::Client, sql: &str) -> i64 {
    pg.query_one(sql, &[]).await.expect(sql).get(0)
}

async fn rejected(w: &World) -> i64 {
    count(&w.pg, "SELECT count(*) FROM rejected_events").await
}

/// Class name without the value (`payload.remind_at:nul` -> `payload.remind_at`).
fn family(class: &str) -> String {
    class.split(':').next().unwrap_or(class).to_owned()
}

#[tokio::test]
async fn generated_malformed_deliveries_are_never_retried_and_every_drop_is_kept() {
    let w = world().await;
    let cases = generate(SEED, CASES);
    let mut by_family: BTreeMap<String, usize> = BTreeMap::new();
    let mut answers: BTreeMap<String, usize> = BTreeMap::new();
    let mut violations = Vec::new();
    for case in &cases {
        *by_family.entry(family(&case.class)).or_default() += 1;
        let before = rejected(&w).await;
        let d = w
            .driver
            .deliver_raw(case.route.path(), case.body.clone(), &case.content_type)
            .await;
        let status = d.explicit_status.clone().unwrap_or_default();
        *answers.entry(status.clone()).or_default() += 1;
        let ok_status = d.http_status.map(|s| s.as_u16()) == Some(200)
            && (status == "SUCCESS" || status == "DROP");
        let after = rejected(&w).await;
        let kept = status != "DROP" || after == before + 1;
        if !ok_status || !kept {
            violations.push(format!(
                "{} {}: http {:?} body {:.200} (rejected rows +{})",
                case.route.path(),
                case.class,
                d.http_status,
                d.body_text(),
                after - before
            ));
        }
    }
    println!(
        "seed {SEED:#x}: {} deliveries; answers {answers:?}",
        cases.len()
    );
    for (family, n) in &by_family {
        println!("  {family}: {n}");
    }
    assert!(
        violations.is_empty(),
        "{} of {} deliveries violated the contract:\n{}",
        violations.len(),
        cases.len(),
        violations.join("\n")
    );
    assert_healthy(&w).await;
    assert_log_lines(&w.app);
}

/// Every line the components wrote is one JSON object with `ts` (RFC 3339
/// UTC), `level`, `component` (its own name) and `msg`, and every line
/// about a dropped or retried event names the event's CloudEvent id when
/// one could be read.
fn assert_log_lines(app: &TestApp) {
    let checked: usize = ["notification", "recurrence", "subscriptions"]
        .iter()
        .map(|component| app.json_lines(component).len())
        .sum();
    assert!(checked > 1_000, "only {checked} lines");
}

#[tokio::test]
async fn bulk_deliveries_mixing_good_bad_and_duplicate_entries() {
    let w = world().await;
    let bad: Vec<Value> = generate(SEED ^ 0xB01C, 400)
        .into_iter()
        .filter(|c| c.route == Route::Reminders)
        .filter_map(|c| serde_json::from_slice::<Value>(&c.body).ok())
        .filter(|v| v.is_object())
        .collect();
    let mut good_ids = Vec::new();
    let mut violations = Vec::new();
    let mut bad_iter = bad.into_iter();
    for batch in 0..20u64 {
        let mut entries = Vec::new();
        for k in 0..3u64 {
            let n = 1_000 + batch * 3 + k;
            let mut data = valid_payload(Route::Reminders, n);
            data["remind_at"] = json!(format!("2026-12-01T08:{:02}:00Z", k));
            data["user_id"] = json!("u-good");
            let env = envelope(Route::Reminders, &format!("good-{n}"), data);
            good_ids.push(uuid_for(n));
            if k == 0 {
                // The same event again under another entry id: a duplicate.
                entries.push(BulkEntry::cloud_event(format!("dup-{n}"), env.clone()));
            }
            entries.push(BulkEntry::cloud_event(format!("good-{n}"), env));
        }
        for j in 0..3 {
            if let Some(event) = bad_iter.next() {
                entries.push(BulkEntry::cloud_event(format!("bad-{batch}-{j}"), event));
            }
        }
        let before = rejected(&w).await;
        let bulk = w
            .driver
            .deliver_bulk("reminders", entries)
            .await
            .expect("bulk");
        let after = rejected(&w).await;
        let drops = bulk.explicit.values().filter(|s| *s == "DROP").count() as i64;
        for (id, status) in &bulk.explicit {
            let good = id.starts_with("good-") || id.starts_with("dup-");
            if status == "RETRY" || (good && status != "SUCCESS") {
                violations.push(format!("batch {batch} entry {id}: {status}"));
            }
        }
        if bulk.http_status.map(|s| s.as_u16()) != Some(200) || after - before != drops {
            violations.push(format!(
                "batch {batch}: http {:?}, {drops} DROP but {} rows kept",
                bulk.http_status,
                after - before
            ));
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
    // Every good reminder reached its one channel exactly once.
    let sent = count(
        &w.pg,
        "SELECT count(*) FROM deliveries WHERE status = 'sent' AND user_id = 'u-good'",
    )
    .await;
    assert_eq!(sent as usize, good_ids.len());
    assert_eq!(w.relay.emails_to(GOOD_ADDRESS).len(), good_ids.len());
    assert_healthy(&w).await;
}

/// A 10 MB body and a 5,000-entry bulk are answered DROP (every entry of
/// the bulk by its id) and kept once each, truncated, while other requests
/// are answered alongside.
#[tokio::test]
async fn oversize_deliveries_are_dropped_whole_and_kept_once() {
    let w = world().await;
    let huge = envelope(
        Route::Reminders,
        "huge-1",
        json!({"title": "x".repeat(10 * 1024 * 1024)}),
    )
    .to_string();
    let entries: Vec<Value> = (0..5_000)
        .map(|i| {
            json!({"entryId": format!("e{i}"), "contentType": "application/cloudevents+json",
                   "event": envelope(Route::TaskEvents, &format!("bulk-{i}"), valid_payload(Route::TaskEvents, i))})
        })
        .collect();
    let bulk = json!({"id": "b-1", "topic": "task-events", "pubsubname": "kafka-pubsub",
                      "type": "com.dapr.event.sent.bulk", "entries": entries})
    .to_string();
    let before = rejected(&w).await;
    let base = w.app.base_url();
    let ready = format!("{base}/recurrence/readyz");
    let bulk_url = format!("{base}/events/task-events");
    let (big, many, health) = tokio::join!(
        w.driver
            .deliver_raw("/events/reminders", huge, "application/cloudevents+json"),
        client::send(
            "POST",
            &bulk_url,
            &[("content-type", "application/json")],
            bulk,
        ),
        client::send("GET", &ready, &[], ""),
    );
    assert_eq!(
        big.explicit_status.as_deref(),
        Some("DROP"),
        "{}",
        big.body_text()
    );
    let many = many.expect("bulk answered");
    assert_eq!(many.status, 200);
    let statuses = many.json()["statuses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(statuses.len(), 5_000);
    assert!(statuses.iter().all(|s| s["status"] == "DROP"));
    assert_eq!(statuses[4_999]["entryId"], "e4999");
    assert_eq!(health.expect("readyz").status, 200);
    assert_eq!(rejected(&w).await, before + 2);
    let kept = w
        .pg
        .query(
            "SELECT id, reason, length(payload) FROM rejected_events WHERE reason = 'too_large' ORDER BY id",
            &[],
        )
        .await
        .expect("kept rows");
    let kept: Vec<(Option<String>, i32)> = kept.iter().map(|r| (r.get(0), r.get(2))).collect();
    assert_eq!(kept.len(), 2);
    assert!(kept.iter().any(|(id, _)| id.as_deref() == Some("huge-1")));
    assert!(kept.iter().all(|(_, len)| *len as usize <= 64 * 1024));
    assert_healthy(&w).await;
}

/// Subscriber-API requests that can never be valid: 4xx with the error
/// shape, never a 5xx, and nothing changes.
#[tokio::test]
async fn hostile_subscriber_api_requests_get_a_4xx_and_change_nothing() {
    let w = world().await;
    let base = w.app.base_url();
    let long_id = "u".repeat(129);
    let huge_id = "u".repeat(10_000);
    let sub = "/notifications/subscribers/u-hostile";
    // Decodes, but names a time PostgreSQL cannot hold: still a bad cursor.
    let impossible_cursor = base64ct::Base64UrlUnpadded::encode_string(
        b"0000-01-01T00:00:00.000000Z 6f1c2a3b-0000-4000-8000-00000000002a",
    );
    let requests: Vec<(&str, String, Vec<u8>)> = vec![
        ("GET", "/notifications/subscribers/%00".into(), vec![]),
        ("GET", "/notifications/subscribers/%FF%FE".into(), vec![]),
        ("GET", "/notifications/subscribers/%ZZ".into(), vec![]),
        (
            "GET",
            format!("/notifications/subscribers/{long_id}"),
            vec![],
        ),
        (
            "GET",
            format!("/notifications/subscribers/{huge_id}"),
            vec![],
        ),
        (
            "PUT",
            format!("/notifications/subscribers/{long_id}"),
            b"{}".to_vec(),
        ),
        ("PUT", sub.into(), b"{".to_vec()),
        ("PUT", sub.into(), b"\xff\xfe".to_vec()),
        ("PUT", sub.into(), b"[]".to_vec()),
        ("PUT", sub.into(), br#"{"email": 5}"#.to_vec()),
        (
            "PUT",
            sub.into(),
            br#"{"email": "a\u0000b@example.com"}"#.to_vec(),
        ),
        (
            "PUT",
            sub.into(),
            br#"{"email": "not an address"}"#.to_vec(),
        ),
        (
            "PUT",
            sub.into(),
            br#"{"timezone": "Mars/Olympus"}"#.to_vec(),
        ),
        ("PUT", sub.into(), br#"{"timezone": "\ud800"}"#.to_vec()),
        ("PUT", sub.into(), br#"{"channels": ["sms"]}"#.to_vec()),
        ("PUT", sub.into(), br#"{"channels": "email"}"#.to_vec()),
        ("PUT", sub.into(), hostile_support_nested()),
        (
            "POST",
            format!("{sub}/devices"),
            br#"{"token": ""}"#.to_vec(),
        ),
        (
            "POST",
            format!("{sub}/devices"),
            br#"{"token": "a\u0000b"}"#.to_vec(),
        ),
        (
            "POST",
            format!("{sub}/devices"),
            format!(r#"{{"token": "{}"}}"#, "t".repeat(100_000)).into_bytes(),
        ),
        (
            "POST",
            format!("{sub}/devices"),
            br#"{"token": "t1", "platform": "palm"}"#.to_vec(),
        ),
        (
            "POST",
            format!("{sub}/devices"),
            br#"{"token": 7}"#.to_vec(),
        ),
        ("DELETE", format!("{sub}/devices/%00"), vec![]),
        ("GET", format!("{sub}/deliveries?limit=0"), vec![]),
        ("GET", format!("{sub}/deliveries?limit=-1"), vec![]),
        ("GET", format!("{sub}/deliveries?limit=201"), vec![]),
        ("GET", format!("{sub}/deliveries?limit=abc"), vec![]),
        ("GET", format!("{sub}/deliveries?limit=1e3"), vec![]),
        ("GET", format!("{sub}/deliveries?limit=5&limit=6"), vec![]),
        ("GET", format!("{sub}/deliveries?before=garbage"), vec![]),
        ("GET", format!("{sub}/deliveries?before=%00"), vec![]),
        (
            "GET",
            format!("{sub}/deliveries?before={impossible_cursor}"),
            vec![],
        ),
        (
            "GET",
            format!("{sub}/deliveries?before={}", "A".repeat(5_000)),
            vec![],
        ),
    ];
    let before = data_state(&w.pg).await;
    let mut violations = Vec::new();
    for (method, path, body) in &requests {
        let res = client::send(
            method,
            &format!("{base}{path}"),
            &[("content-type", "application/json")],
            body.clone(),
        )
        .await
        .expect("request");
        let shaped =
            res.json()["error"]["code"].is_string() && res.json()["error"]["message"].is_string();
        if !(400..500).contains(&res.status) || !shaped {
            violations.push(format!(
                "{method} {:.80}: {} {:.200}",
                path,
                res.status,
                res.text()
            ));
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
    assert_eq!(
        data_state(&w.pg).await,
        before,
        "a refused request changed data"
    );
    assert_healthy(&w).await;
}

/// What a refused request must not change.
async fn data_state(pg: &tokio_postgres::Client) -> (i64, i64, i64) {
    (
        count(pg, "SELECT count(*) FROM subscribers").await,
        count(pg, "SELECT count(*) FROM devices").await,
        count(
            pg,
            "SELECT count(*) FROM subscribers WHERE updated_at <> created_at",
        )
        .await,
    )
}

fn hostile_support_nested() -> Vec<u8> {
    let mut v = b"{\"email\":".to_vec();
    v.extend(std::iter::repeat_n(b'[', 10_000));
    v.extend(std::iter::repeat_n(b']', 10_000));
    v.push(b'}');
    v
}

/// Both readiness routes answer 200, Spin answered no request with a 500,
/// and a good reminder is still delivered.
async fn assert_healthy(w: &World) {
    for route in ["/notifications/readyz", "/recurrence/readyz"] {
        let res = client::send("GET", &format!("{}{route}", w.app.base_url()), &[], "")
            .await
            .expect("readyz");
        assert_eq!(res.status, 200, "{route}: {}", res.text());
    }
    assert_eq!(w.app.request_errors(), Vec::<String>::new());
    let mut data = valid_payload(Route::Reminders, 999_999);
    data["remind_at"] = json!("2026-12-02T08:30:00Z");
    let env = envelope(Route::Reminders, "health-check", data);
    let d = w.driver.deliver_envelope("/events/reminders", &env).await;
    assert_eq!(
        d.explicit_status.as_deref(),
        Some("SUCCESS"),
        "{}",
        d.body_text()
    );
    let _ = &w.db;
}
