//! The last hostile-input edges (issue 20, item 6) under the real Spin CLI:
//!
//! - junk (a NUL) in an envelope attribute no handler uses, or in the
//!   `type` of an event type the service does not handle, changes nothing:
//!   the event is handled, or acknowledged, as it would be without it;
//! - JSON nested past the parser's limit is dropped and kept with its
//!   CloudEvent id, delivered alone or as one entry of a bulk;
//! - a body in UTF-16 or UTF-32 (with or without byte order mark) is
//!   dropped, kept as base64 of the bytes received, and the DROP's log
//!   line names the encoding.

mod both_services;
mod hostile_support;

use base64ct::Encoding as _;
use component_host::fakes::dapr::DaprDriver;
use component_host::fakes::{FakeEmailRelay, FakeSidecar};
use component_host::pg_cluster::{fresh_database, TestDatabase};
use component_host::TestApp;
use hostile_support::{envelope, valid_payload, Route};
use serde_json::{json, Value};

const ADDRESS: &str = "edges.user@example.com";
const CLOUDEVENT: &str = "application/cloudevents+json";

struct World {
    _db: TestDatabase,
    pg: tokio_postgres::Client,
    relay: FakeEmailRelay,
    _sidecar: FakeSidecar,
    app: TestApp,
    driver: DaprDriver,
}

async fn world(name: &str) -> World {
    let db = fresh_database().await.expect("database");
    let sidecar = FakeSidecar::start().await.expect("sidecar");
    let relay = FakeEmailRelay::start().await.expect("relay");
    let (app, driver) = both_services::start(name, &db, &sidecar, &relay, None).await;
    let pg = db.client().await;
    pg.execute(
        "INSERT INTO subscribers (user_id, email, timezone, channels) \
         VALUES ('u-hostile', $1, 'UTC', '{email}')",
        &[&ADDRESS],
    )
    .await
    .expect("subscriber");
    World {
        _db: db,
        pg,
        relay,
        _sidecar: sidecar,
        app,
        driver,
    }
}

/// The `rejected_events` row of CloudEvent id `id`, as JSON (all columns).
async fn kept(w: &World, id: &str) -> Vec<Value> {
    w.pg.query(
        "SELECT to_jsonb(r)::text FROM rejected_events r WHERE id = $1",
        &[&id],
    )
    .await
    .expect("rejected_events")
    .iter()
    .map(|row| serde_json::from_str(row.get::<_, &str>(0)).expect("json"))
    .collect()
}

async fn rejected_count(w: &World) -> i64 {
    w.pg.query_one("SELECT count(*) FROM rejected_events", &[])
        .await
        .expect("count")
        .get(0)
}

/// A reminder envelope for the subscriber, its own task and time, as text
/// with `attribute` (raw JSON `"key":value`) added at its end.
fn reminder_with(id: &str, n: u64, attribute: &str) -> Vec<u8> {
    let mut data = valid_payload(Route::Reminders, n);
    data["remind_at"] = json!(format!("2026-12-01T08:{:02}:00Z", n % 60));
    let text = envelope(Route::Reminders, id, data).to_string();
    let open = text.strip_suffix('}').expect("object");
    format!("{open},{attribute}}}").into_bytes()
}

async fn deliver(w: &World, route: Route, body: Vec<u8>) -> String {
    let d = w.driver.deliver_raw(route.path(), body, CLOUDEVENT).await;
    assert_eq!(
        d.http_status.map(|s| s.as_u16()),
        Some(200),
        "{}",
        d.body_text()
    );
    let text = d.body_text();
    d.explicit_status.unwrap_or(text)
}

#[tokio::test]
async fn junk_in_attributes_no_handler_uses_changes_no_answer() {
    let w = world("edges-attributes.toml").await;
    // Handled events whose unused attributes hold a NUL: each is handled
    // (one e-mail each) and nothing is kept as rejected.
    let attributes = [
        // The envelope's traceparent itself, replaced by one ending in NUL.
        r#""traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\u0000""#,
        r#""tracestate":"vendor=\u0000""#,
        r#""traceid":"\u0000""#,
        r#""time":"2026-12-01T08:00:00Z\u0000""#,
        r#""datacontenttype":"application/json\u0000""#,
        r#""x-extension\u0000":"junk\u0000""#,
    ];
    for (n, attribute) in attributes.iter().enumerate() {
        let body = reminder_with(&format!("edge-attr-{n}"), 7_000 + n as u64, attribute);
        let status = deliver(&w, Route::Reminders, body).await;
        assert_eq!(status, "SUCCESS", "{attribute}");
    }
    assert_eq!(w.relay.emails_to(ADDRESS).len(), attributes.len());
    assert_eq!(rejected_count(&w).await, 0);

    // An event of a type the recurrence service does not handle, its type
    // holding a NUL: acknowledged as ignored, logged with the type escaped.
    let mut other = envelope(
        Route::TaskEvents,
        "edge-type",
        valid_payload(Route::TaskEvents, 7_100),
    );
    other["type"] = json!("task.\u{0}deleted");
    let status = deliver(&w, Route::TaskEvents, other.to_string().into_bytes()).await;
    assert_eq!(status, "SUCCESS");
    assert_eq!(rejected_count(&w).await, 0);
    let ignored = w.app.json_lines("recurrence").into_iter().any(|l| {
        l["reason"] == "ignored_type"
            && l["event_id"] == "edge-type"
            && l["event_type"] == "task.\\u0000deleted"
    });
    assert!(ignored, "{:#?}", w.app.json_lines("recurrence"));

    // What the handler stores still cannot hold a NUL: dropped, kept
    // escaped, with a detail naming the part.
    let mut data = valid_payload(Route::Reminders, 7_200);
    data["title"] = json!("Pay\u{0}rent");
    let body = envelope(Route::Reminders, "edge-title", data).to_string();
    assert_eq!(
        deliver(&w, Route::Reminders, body.into_bytes()).await,
        "DROP"
    );
    let rows = kept(&w, "edge-title").await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["reason"], "unstorable_text");
    assert!(rows[0]["detail"]
        .as_str()
        .unwrap_or_default()
        .contains("data"));
    assert!(rows[0]["payload"]
        .as_str()
        .unwrap_or_default()
        .contains("Pay\\u0000rent"));
    assert_eq!(w.relay.emails_to(ADDRESS).len(), attributes.len());
    assert_eq!(w.app.request_errors(), Vec::<String>::new());
}

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

#[tokio::test]
async fn json_past_the_nesting_limit_is_dropped_and_kept_with_its_id() {
    let w = world("edges-depth.toml").await;
    for (route, id) in [
        (Route::Reminders, "deep-reminder"),
        (Route::TaskEvents, "deep-completion"),
    ] {
        let body = format!(
            r#"{{"id":"{id}","source":"s","type":"reminder.due","specversion":"1.0","data":{}}}"#,
            nested(200)
        );
        assert_eq!(deliver(&w, route, body.clone().into_bytes()).await, "DROP");
        let rows = kept(&w, id).await;
        assert_eq!(rows.len(), 1, "{id}: {rows:?}");
        assert_eq!(rows[0]["reason"], "malformed_json");
        assert_eq!(rows[0]["source"], "s");
        assert_eq!(rows[0]["payload"], body);
        assert!(
            rows[0]["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("128"),
            "{}",
            rows[0]["detail"]
        );
    }

    // In a bulk, the deep entry alone is dropped (with its id); the good
    // entry next to it is handled.
    let mut data = valid_payload(Route::Reminders, 8_000);
    data["remind_at"] = json!("2026-12-01T09:00:00Z");
    let good = envelope(Route::Reminders, "bulk-good", data);
    let body = format!(
        r#"{{"id":"b-1","topic":"reminders","pubsubname":"kafka-pubsub","type":"com.dapr.event.sent.bulk","metadata":{{}},
            "entries":[
              {{"entryId":"e-good","event":{good},"contentType":"{CLOUDEVENT}","metadata":{{}}}},
              {{"entryId":"e-deep","event":{{"id":"deep-in-bulk","type":"reminder.due","data":{}}},"contentType":"{CLOUDEVENT}","metadata":{{}}}}]}}"#,
        nested(5_000)
    );
    let d = w
        .driver
        .deliver_raw(Route::Reminders.path(), body, "application/json")
        .await;
    assert_eq!(d.http_status.map(|s| s.as_u16()), Some(200));
    let answer: Value = serde_json::from_slice(&d.body).expect("json answer");
    assert_eq!(
        answer,
        json!({"statuses": [
            {"entryId": "e-good", "status": "SUCCESS"},
            {"entryId": "e-deep", "status": "DROP"},
        ]}),
        "{}",
        d.body_text()
    );
    let rows = kept(&w, "deep-in-bulk").await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["reason"], "malformed_json");
    assert_eq!(w.relay.emails_to(ADDRESS).len(), 1);
    assert_eq!(w.app.request_errors(), Vec::<String>::new());
}

/// `text` in `encoding`, with or without its byte order mark.
fn encode(text: &str, encoding: &str, bom: bool) -> Vec<u8> {
    let text = if bom {
        format!("\u{feff}{text}")
    } else {
        text.to_owned()
    };
    match encoding {
        "UTF-16LE" => text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
        "UTF-16BE" => text.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        "UTF-32LE" => text
            .chars()
            .flat_map(|c| u32::from(c).to_le_bytes())
            .collect(),
        _ => text
            .chars()
            .flat_map(|c| u32::from(c).to_be_bytes())
            .collect(),
    }
}

#[tokio::test]
async fn a_body_in_another_unicode_encoding_is_dropped_and_kept_recoverably() {
    let w = world("edges-encoding.toml").await;
    let mut cases = 0;
    for encoding in ["UTF-16LE", "UTF-16BE", "UTF-32LE", "UTF-32BE"] {
        for bom in [true, false] {
            let id = format!("enc-{encoding}-{bom}");
            let mut data = valid_payload(Route::Reminders, 9_000 + cases);
            data["title"] = json!("Über 🎉");
            let text = envelope(Route::Reminders, &id, data).to_string();
            let body = encode(&text, encoding, bom);
            for route in [Route::Reminders, Route::TaskEvents] {
                assert_eq!(deliver(&w, route, body.clone()).await, "DROP", "{id}");
            }
            let rows = kept(&w, &id).await;
            assert_eq!(rows.len(), 2, "{id}: {rows:?}");
            for row in &rows {
                assert_eq!(row["reason"], "malformed_json");
                let detail = row["detail"].as_str().unwrap_or_default();
                assert!(
                    detail.contains(encoding) && detail.contains("base64"),
                    "{detail}"
                );
                let payload = row["payload"].as_str().unwrap_or_default();
                let bytes = base64ct::Base64::decode_vec(payload).expect("base64 payload");
                assert_eq!(bytes, body, "{id}: the bytes received");
            }
            let logged = ["notification", "recurrence"].iter().all(|component| {
                w.app.json_lines(component).iter().any(|l| {
                    l["msg"] == "event dropped"
                        && l["reason"] == "malformed_json"
                        && l["event_id"] == id.as_str()
                        && l["detail"].as_str().is_some_and(|d| d.contains(encoding))
                })
            });
            assert!(logged, "{id}: no log line naming the encoding");
            cases += 1;
        }
    }
    assert_eq!(w.relay.emails_to(ADDRESS).len(), 0);
    assert_eq!(w.app.request_errors(), Vec::<String>::new());
}
