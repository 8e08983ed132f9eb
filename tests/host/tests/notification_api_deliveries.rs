//! End to end: `GET /notifications/subscribers/:user_id/deliveries`, the
//! delivery log newest first with an opaque cursor, over rows inserted
//! straight into `deliveries`.

mod notification_api_support;

use notification_api_support::{is_utc_rfc3339, Api};
use serde_json::{json, Value};

const LOG: &str = "/notifications/subscribers/u-7/deliveries";

/// Inserts a delivery of `user` created at `created_at`; the id's last
/// digits are `n`, so order assertions can name rows by number (and the
/// recipient has it too, keeping the business key unique).
async fn insert(pg: &tokio_postgres::Client, user: &str, n: u32, created_at: &str) -> String {
    let id = format!("00000000-0000-4000-8000-{n:012}");
    pg.execute(
        "INSERT INTO deliveries (delivery_id, user_id, task_id, remind_at, channel, recipient, \
           status, attempts, provider_message_id, last_error, created_at, updated_at) \
         VALUES ($1::text::uuid, $2, '6f1c0000-0000-4000-8000-000000000001', \
           '2026-12-01T09:30:00+01:00', 'email', 'secret-' || $3::text || '@example.com', 'sent', 1, \
           'msg-' || $3::text, NULL, $4::text::timestamptz, $4::text::timestamptz + interval '1 second')",
        &[&id, &user, &n.to_string(), &created_at],
    )
    .await
    .expect("insert delivery");
    id
}

fn ids(page: &Value) -> Vec<String> {
    page["deliveries"]
        .as_array()
        .expect("deliveries array")
        .iter()
        .map(|d| d["delivery_id"].as_str().expect("id").to_owned())
        .collect()
}

fn id(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

async fn page(api: &Api, query: &str) -> Value {
    let (status, body) = api.call("GET", &format!("{LOG}{query}"), "").await;
    assert_eq!(status, 200, "{query}: {body}");
    body
}

#[tokio::test]
async fn pages_newest_first_with_a_cursor_stable_under_inserts() {
    let api = Api::start().await;
    let pg = api.sql().await;
    // Rows 1..=6 one minute apart (6 newest); rows 7 and 8 share a time
    // (tie broken by delivery_id, descending); rows 9 and 10 are one
    // microsecond apart, which the cursor must keep apart.
    for n in 1..=6 {
        insert(&pg, "u-7", n, &format!("2026-11-01T10:0{n}:00Z")).await;
    }
    insert(&pg, "u-7", 7, "2026-11-01T09:00:00Z").await;
    insert(&pg, "u-7", 8, "2026-11-01T09:00:00Z").await;
    insert(&pg, "u-7", 9, "2026-11-01T08:00:00.000002Z").await;
    insert(&pg, "u-7", 10, "2026-11-01T08:00:00.000001Z").await;
    insert(&pg, "someone-else", 99, "2026-11-01T11:00:00Z").await;

    let first = page(&api, "?limit=3").await;
    assert_eq!(ids(&first), [id(6), id(5), id(4)]);
    let entry = &first["deliveries"][0];
    let keys: Vec<&str> = entry
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "attempts",
            "channel",
            "delivery_id",
            "last_error",
            "provider_message_id",
            "remind_at",
            "status",
            "task_id",
            "updated_at"
        ]
    );
    assert_eq!(
        *entry,
        json!({"delivery_id": id(6), "task_id": "6f1c0000-0000-4000-8000-000000000001",
               "remind_at": "2026-12-01T08:30:00Z", "channel": "email", "status": "sent",
               "attempts": 1, "provider_message_id": "msg-6", "last_error": null,
               "updated_at": "2026-11-01T10:06:01Z"})
    );
    assert!(
        !first.to_string().contains("@example.com"),
        "recipient leaked"
    );

    // A newer row arriving between pages does not shift the next pages.
    insert(&pg, "u-7", 11, "2026-11-02T00:00:00Z").await;
    let next = first["next"].as_str().expect("next cursor");
    let second = page(&api, &format!("?limit=3&before={next}")).await;
    assert_eq!(ids(&second), [id(3), id(2), id(1)]);
    let third = page(
        &api,
        &format!("?before={}&limit=3", second["next"].as_str().expect("next")),
    )
    .await;
    assert_eq!(ids(&third), [id(8), id(7), id(9)]);
    let last = page(
        &api,
        &format!("?limit=3&before={}", third["next"].as_str().expect("next")),
    )
    .await;
    assert_eq!(ids(&last), [id(10)]);
    assert_eq!(last["next"], Value::Null);
    assert_eq!(
        last["deliveries"][0]["updated_at"], "2026-11-01T08:00:01.000001Z",
        "fractional seconds are kept, in UTC"
    );

    // Default limit (50) takes everything, newest first, with no next page.
    let all = page(&api, "").await;
    assert_eq!(ids(&all), [11, 6, 5, 4, 3, 2, 1, 8, 7, 9, 10].map(id));
    assert_eq!(all["next"], Value::Null);
    for d in all["deliveries"].as_array().expect("array") {
        assert!(
            is_utc_rfc3339(&d["remind_at"]) && is_utc_rfc3339(&d["updated_at"]),
            "{d}"
        );
    }
}

#[tokio::test]
async fn a_full_last_page_has_no_next_and_limits_are_bounded() {
    let api = Api::start().await;
    let pg = api.sql().await;
    for n in 1..=4 {
        insert(&pg, "u-7", n, &format!("2026-11-01T10:0{n}:00Z")).await;
    }
    let first = page(&api, "?limit=2").await;
    assert_eq!(ids(&first), [id(4), id(3)]);
    let second = page(
        &api,
        &format!("?limit=2&before={}", first["next"].as_str().expect("next")),
    )
    .await;
    assert_eq!(ids(&second), [id(2), id(1)]);
    assert_eq!(second["next"], Value::Null);
    assert_eq!(ids(&page(&api, "?limit=1").await), [id(4)]);
    assert_eq!(ids(&page(&api, "?limit=200").await).len(), 4);
    assert_eq!(ids(&page(&api, "?limit=4").await).len(), 4);
    assert_eq!(page(&api, "?limit=4").await["next"], Value::Null);
}

#[tokio::test]
async fn an_unknown_user_has_an_empty_log() {
    let api = Api::start().await;
    let body = page(&api, "").await;
    assert_eq!(body, json!({"deliveries": [], "next": null}));
}
