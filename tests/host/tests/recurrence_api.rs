//! The recurrence component's HTTP API through the built `recurrence.wasm`:
//! preview (happy path and every 400), authentication, methods, readiness,
//! and the number of database round trips per event.

mod recurrence_support;

use component_host::fakes::dapr::{AppStatus, DeliverOptions};
use recurrence_support::{answered, Env, Task};
use serde_json::json;

#[tokio::test]
async fn preview_lists_the_next_dates_with_the_zones_offset() {
    let env = Env::start().await;
    // Weekly on Tuesday 09:00 Berlin, across the end of DST (Oct 25 2026);
    // RRULE text percent-encoded, `+` in the offset too.
    let (status, body) = env
        .get(
            "/recurrence/preview?rule=FREQ%3DWEEKLY%3BBYDAY%3DTU&start=2026-10-13T09:00:00%2B02:00&timezone=Europe/Berlin&count=3",
            &[],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"occurrences": ["2026-10-20T09:00:00+02:00", "2026-10-27T09:00:00+01:00", "2026-11-03T09:00:00+01:00"]})
    );
    // Defaults: UTC, five dates; `+` decodes to a space.
    let (status, body) = env
        .get(
            "/recurrence/preview?rule=+daily&start=2026-01-01T09:00:00Z",
            &[],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let dates = body["occurrences"].as_array().cloned().unwrap_or_default();
    assert_eq!(dates.len(), 5);
    assert_eq!(dates[0], "2026-01-02T09:00:00+00:00");
    assert_eq!(dates[4], "2026-01-06T09:00:00+00:00");
    // COUNT ends the list early (DTSTART is the first of COUNT).
    let (_, body) = env
        .get(
            "/recurrence/preview?rule=FREQ%3DDAILY%3BCOUNT%3D3&start=2026-01-01T09:00:00Z&count=10",
            &[],
        )
        .await;
    assert_eq!(body["occurrences"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn preview_answers_400_naming_what_is_wrong() {
    let env = Env::start().await;
    let start = "start=2026-01-01T09:00:00Z";
    let cases = [
        (start.to_owned(), "missing_parameter", "rule"),
        ("rule=daily".to_owned(), "missing_parameter", "start"),
        (
            format!("rule=fortnightly&{start}"),
            "invalid_rule",
            "fortnightly",
        ),
        (
            format!("rule=FREQ%3DDAILY%3BBYHOUR%3D9&{start}"),
            "invalid_rule",
            "BYHOUR",
        ),
        (
            "rule=daily&start=next+tuesday".to_owned(),
            "invalid_start",
            "start",
        ),
        (
            format!("rule=daily&{start}&timezone=Mars%2FOlympus"),
            "unknown_timezone",
            "Mars/Olympus",
        ),
        (
            format!("rule=daily&{start}&count=0"),
            "invalid_count",
            "count",
        ),
        (
            format!("rule=daily&{start}&count=101"),
            "invalid_count",
            "count",
        ),
        (
            format!("rule=daily&{start}&count=ten"),
            "invalid_count",
            "count",
        ),
    ];
    for (query, code, named) in cases {
        let (status, body) = env.get(&format!("/recurrence/preview?{query}"), &[]).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["code"], code, "{query}: {body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(named), "{query}: {message}");
    }
}

#[tokio::test]
async fn every_route_but_readiness_needs_the_app_token() {
    let env = Env::start_with(&[("app_api_token", "s3cret")]).await;
    let preview = "/recurrence/preview?rule=daily&start=2026-01-01T09:00:00Z";
    for token in [None, Some("wrong"), Some("")] {
        let headers: Vec<(&str, &str)> = token
            .map(|t| vec![("dapr-api-token", t)])
            .unwrap_or_default();
        let (status, body) = env.get(preview, &headers).await;
        assert_eq!(status, 401, "{token:?}");
        assert_eq!(body["error"]["code"], "unauthorized");
        let url = format!("{}/events/task-events", env.app.base_url());
        let res = component_host::client::send("POST", &url, &headers, "{}")
            .await
            .expect("post");
        assert_eq!(res.status, 401, "{token:?}");
        assert_eq!(res.json()["error"]["code"], "unauthorized");
    }
    assert_eq!(
        env.get(preview, &[("dapr-api-token", "s3cret")]).await.0,
        200
    );
    assert_eq!(
        env.get("/recurrence/readyz", &[]).await.0,
        200,
        "probes carry no token"
    );
    // The driver sends the token, as daprd with APP_API_TOKEN does.
    let id = env
        .insert(&Task::recurring(
            "daily",
            "2026-01-05T09:00:00Z",
            "2026-01-05T10:00:00Z",
        ))
        .await;
    let d = env
        .complete(&id, "2026-01-05T10:00:00Z", DeliverOptions::new())
        .await;
    assert!(answered(&d, AppStatus::Success), "{}", d.body_text());
    assert_eq!(env.series(&id).await.len(), 1);
}

#[tokio::test]
async fn other_methods_get_405_with_allow() {
    let env = Env::start().await;
    for (method, path, allow) in [
        ("POST", "/recurrence/preview", "GET"),
        ("GET", "/events/task-events", "POST"),
        ("PUT", "/events/task-events", "POST"),
        ("POST", "/recurrence/readyz", "GET"),
    ] {
        let url = format!("{}{path}", env.app.base_url());
        let res = component_host::client::send(method, &url, &[], "")
            .await
            .expect("request");
        assert_eq!(res.status, 405, "{method} {path}");
        assert_eq!(res.header("allow"), Some(allow), "{method} {path}");
        assert_eq!(res.json()["error"]["code"], "method_not_allowed");
    }
}

#[tokio::test]
async fn readiness_follows_postgres() {
    let env = Env::start().await;
    let (status, body) = env.get("/recurrence/readyz", &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ready");
    env.db.set_down(true);
    let (status, body) = env.get("/recurrence/readyz", &[]).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "database_unreachable", "{body}");
    env.db.set_down(false);
    assert_eq!(env.get("/recurrence/readyz", &[]).await.0, 200);
}

/// At most three round trips on the happy path. Measured on the
/// wire: two statements (read; insert-if-absent returning the row) plus the
/// publish; a redelivery costs the same.
#[tokio::test]
async fn an_event_costs_two_statements_and_one_publish() {
    let env = Env::start().await;
    let id = env
        .insert(&Task::recurring(
            "weekly",
            "2026-01-05T09:00:00Z",
            "2026-01-05T10:00:00Z",
        ))
        .await;
    let (route, envelope) = env
        .driver
        .envelope(
            "task-events",
            recurrence_support::completed(&id, "2026-01-05T10:00:00Z"),
            &DeliverOptions::new().event_type("task.completed"),
        )
        .expect("envelope");
    for (attempt, inserted) in [(1, true), (2, false)] {
        let before = env.db.wire_counts();
        let publishes = env.sidecar.publish_attempts().len();
        let d = env.driver.deliver_envelope(&route, &envelope).await;
        assert!(answered(&d, AppStatus::Success), "{}", d.body_text());
        let used = env.db.wire_counts() - before;
        println!("delivery {attempt} (inserted: {inserted}): {used:?}");
        assert_eq!(used.executes, 2, "statements, delivery {attempt}: {used:?}");
        assert_eq!(env.sidecar.publish_attempts().len() - publishes, 1);
    }
    assert_eq!(env.series(&id).await.len(), 1);
}
