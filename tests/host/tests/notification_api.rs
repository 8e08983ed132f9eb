//! End to end: the subscriber and device API of the notification component
//! (docs/CONTRACT.md, "Routes") through the test host, real release wasm, real
//! PostgreSQL. Paging of the delivery log is in `notification_api_deliveries.rs`.

mod notification_api_support;

use notification_api_support::{assert_error, is_utc_rfc3339, Api};
use serde_json::{json, Value};

const SUB: &str = "/notifications/subscribers/u-42";

#[tokio::test]
async fn subscribers_are_upserted_with_defaults_and_read_back() {
    let api = Api::start().await;
    assert_error(&api.call("GET", SUB, "").await, 404, "subscriber_not_found");

    let (status, body) = api.call("PUT", SUB, "{}").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"user_id": "u-42", "email": null, "timezone": "UTC",
               "channels": ["email", "push"], "devices": []})
    );

    let put = json!({"email": "ada@example.com", "timezone": "europe/berlin",
                     "channels": ["push"], "unknown_field": true});
    let (status, body) = api.call("PUT", SUB, &put.to_string()).await;
    assert_eq!(status, 200, "{body}");
    let expected = json!({"user_id": "u-42", "email": "ada@example.com",
        "timezone": "Europe/Berlin", "channels": ["push"], "devices": []});
    assert_eq!(body, expected);
    assert_eq!(api.call("GET", SUB, "").await, (200, expected));

    // Channels come back in canonical order; an empty list is kept.
    let (_, body) = api
        .call("PUT", SUB, r#"{"channels":["push","email"]}"#)
        .await;
    assert_eq!(body["channels"], json!(["email", "push"]));
    let (_, body) = api.call("PUT", SUB, r#"{"channels":[]}"#).await;
    assert_eq!(body["channels"], json!([]));

    // PUT replaces: absent fields fall back to their defaults.
    let (_, body) = api.call("PUT", SUB, "{}").await;
    assert_eq!(
        (&body["email"], &body["timezone"]),
        (&Value::Null, &json!("UTC"))
    );

    let row = api
        .sql()
        .await
        .query_one(
            "SELECT email, timezone, channels FROM subscribers WHERE user_id = 'u-42'",
            &[],
        )
        .await
        .expect("stored row");
    assert_eq!(row.get::<_, Option<String>>(0), None);
    assert_eq!(row.get::<_, String>(1), "UTC");
    assert_eq!(row.get::<_, Vec<String>>(2), vec!["email", "push"]);
}

#[tokio::test]
async fn devices_register_idempotently_list_and_unregister() {
    let api = Api::start().await;
    api.call("PUT", SUB, r#"{"email":"ada@example.com"}"#).await;
    let devices = format!("{SUB}/devices");

    let (status, first) = api
        .call(
            "POST",
            &devices,
            r#"{"token":"tok-A:1_x","platform":"android"}"#,
        )
        .await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["token"], "tok-A:1_x");
    assert_eq!(first["platform"], "android");
    assert!(is_utc_rfc3339(&first["created_at"]), "{first}");

    // Again, and again without platform: 200, same row, platform kept.
    let (status, again) = api
        .call(
            "POST",
            &devices,
            r#"{"token":"tok-A:1_x","platform":"android"}"#,
        )
        .await;
    assert_eq!((status, &again), (200, &first));
    let (status, again) = api.call("POST", &devices, r#"{"token":"tok-A:1_x"}"#).await;
    assert_eq!((status, &again), (200, &first));

    let (status, second) = api.call("POST", &devices, r#"{"token":"tok-B"}"#).await;
    assert_eq!(status, 201, "{second}");
    assert_eq!(second["platform"], Value::Null);

    let (_, sub) = api.call("GET", SUB, "").await;
    let tokens: Vec<&str> = sub["devices"]
        .as_array()
        .expect("devices")
        .iter()
        .map(|d| d["token"].as_str().expect("token"))
        .collect();
    assert_eq!(tokens, ["tok-A:1_x", "tok-B"]);
    assert_eq!(sub["devices"][0], first);

    // DELETE is 204 whether or not the token is (still) registered.
    for _ in 0..2 {
        let res = api
            .raw("DELETE", &format!("{devices}/tok-A%3A1_x"), &[], "")
            .await;
        assert_eq!((res.status, res.body.len()), (204, 0));
    }
    let (_, sub) = api.call("GET", SUB, "").await;
    assert_eq!(sub["devices"], json!([second]));
    let res = api
        .raw("DELETE", &format!("{devices}/never-seen"), &[], "")
        .await;
    assert_eq!(res.status, 204);
}

#[tokio::test]
async fn a_token_registered_by_another_user_moves_to_them() {
    let api = Api::start().await;
    for user in ["alice", "bob"] {
        let (status, _) = api
            .call("PUT", &format!("/notifications/subscribers/{user}"), "{}")
            .await;
        assert_eq!(status, 200);
    }
    let token = "shared-device-token-0123456789";
    let body = json!({"token": token, "platform": "ios"}).to_string();
    let (status, _) = api
        .call("POST", "/notifications/subscribers/alice/devices", &body)
        .await;
    assert_eq!(status, 201);

    // Bob cannot unregister Alice's device through his own path.
    let res = api
        .raw(
            "DELETE",
            &format!("/notifications/subscribers/bob/devices/{token}"),
            &[],
            "",
        )
        .await;
    assert_eq!(res.status, 204);
    let (_, alice) = api
        .call("GET", "/notifications/subscribers/alice", "")
        .await;
    assert_eq!(alice["devices"][0]["token"], token);

    // Registering it for Bob moves it (new for him: 201), platform kept.
    let (status, moved) = api
        .call(
            "POST",
            "/notifications/subscribers/bob/devices",
            &json!({"token": token}).to_string(),
        )
        .await;
    assert_eq!(status, 201, "{moved}");
    assert_eq!(moved["platform"], "ios");
    let (_, alice) = api
        .call("GET", "/notifications/subscribers/alice", "")
        .await;
    assert_eq!(alice["devices"], json!([]));
    let (_, bob) = api.call("GET", "/notifications/subscribers/bob", "").await;
    assert_eq!(bob["devices"], json!([moved]));
    assert!(!api.app.logs().contains(token), "raw token in logs");
}

#[tokio::test]
async fn devices_of_an_unknown_subscriber_are_404() {
    let api = Api::start().await;
    let got = api
        .call(
            "POST",
            "/notifications/subscribers/nobody/devices",
            r#"{"token":"t"}"#,
        )
        .await;
    assert_error(&got, 404, "subscriber_not_found");
    let n: i64 = api
        .sql()
        .await
        .query_one("SELECT count(*) FROM devices", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(n, 0);
}

#[tokio::test]
async fn percent_encoded_segments_are_decoded_once() {
    let api = Api::start().await;
    let path = "/notifications/subscribers/team%2Fa%20b%25+%C3%A9";
    let (status, body) = api.call("PUT", path, "{}").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user_id"], "team/a b%+é");
    assert_eq!(api.call("GET", path, "").await.1["user_id"], "team/a b%+é");
    let (status, _) = api
        .call("POST", &format!("{path}/devices"), r#"{"token":"a:b/c"}"#)
        .await;
    assert_eq!(status, 201);
    let res = api
        .raw("DELETE", &format!("{path}/devices/a%3Ab%2Fc"), &[], "")
        .await;
    assert_eq!(res.status, 204);
    assert_eq!(api.call("GET", path, "").await.1["devices"], json!([]));
}

#[tokio::test]
async fn bad_input_is_400_with_a_specific_code() {
    let api = Api::start().await;
    api.call("PUT", SUB, "{}").await;
    let long_user = format!("/notifications/subscribers/{}", "x".repeat(129));
    let long_token = json!({"token": "t".repeat(4097)}).to_string();
    let cases: Vec<(&str, String, String, &str)> = vec![
        ("PUT", SUB.into(), "{".into(), "invalid_json"),
        ("PUT", SUB.into(), "".into(), "invalid_json"),
        ("PUT", SUB.into(), "[]".into(), "invalid_body"),
        ("PUT", SUB.into(), r#"{"email":42}"#.into(), "invalid_email"),
        (
            "PUT",
            SUB.into(),
            r#"{"email":"ada at example.com"}"#.into(),
            "invalid_email",
        ),
        (
            "PUT",
            SUB.into(),
            r#"{"email":"a@b@c.com"}"#.into(),
            "invalid_email",
        ),
        (
            "PUT",
            SUB.into(),
            r#"{"timezone":"Mars/Olympus"}"#.into(),
            "invalid_timezone",
        ),
        (
            "PUT",
            SUB.into(),
            r#"{"timezone":7}"#.into(),
            "invalid_timezone",
        ),
        (
            "PUT",
            SUB.into(),
            r#"{"channels":["sms"]}"#.into(),
            "invalid_channels",
        ),
        (
            "PUT",
            SUB.into(),
            r#"{"channels":["push","push"]}"#.into(),
            "invalid_channels",
        ),
        (
            "PUT",
            SUB.into(),
            r#"{"channels":"email"}"#.into(),
            "invalid_channels",
        ),
        ("PUT", long_user.clone(), "{}".into(), "invalid_user_id"),
        (
            "PUT",
            "/notifications/subscribers/a%00b".into(),
            "{}".into(),
            "invalid_user_id",
        ),
        (
            "GET",
            "/notifications/subscribers/%FF".into(),
            "".into(),
            "invalid_user_id",
        ),
        (
            "POST",
            format!("{SUB}/devices"),
            "nope".into(),
            "invalid_json",
        ),
        (
            "POST",
            format!("{SUB}/devices"),
            "{}".into(),
            "invalid_token",
        ),
        (
            "POST",
            format!("{SUB}/devices"),
            r#"{"token":"a b"}"#.into(),
            "invalid_token",
        ),
        (
            "POST",
            format!("{SUB}/devices"),
            r#"{"token":5}"#.into(),
            "invalid_token",
        ),
        (
            "POST",
            format!("{SUB}/devices"),
            long_token,
            "invalid_token",
        ),
        (
            "POST",
            format!("{SUB}/devices"),
            r#"{"token":"t","platform":"nokia"}"#.into(),
            "invalid_platform",
        ),
        (
            "DELETE",
            format!("{SUB}/devices/a%20b"),
            "".into(),
            "invalid_token",
        ),
        (
            "GET",
            format!("{SUB}/deliveries?limit=0"),
            "".into(),
            "invalid_limit",
        ),
        (
            "GET",
            format!("{SUB}/deliveries?limit=201"),
            "".into(),
            "invalid_limit",
        ),
        (
            "GET",
            format!("{SUB}/deliveries?limit=ten"),
            "".into(),
            "invalid_limit",
        ),
        (
            "GET",
            format!("{SUB}/deliveries?before=bm90IGEgY3Vyc29y"),
            "".into(),
            "invalid_cursor",
        ),
        (
            "GET",
            format!("{SUB}/deliveries?before=%2B%2F%3D"),
            "".into(),
            "invalid_cursor",
        ),
        (
            "GET",
            format!("{long_user}/deliveries"),
            "".into(),
            "invalid_user_id",
        ),
    ];
    for (method, path, body, code) in &cases {
        let got = api.call(method, path, body).await;
        assert_eq!(got.0, 400, "{method} {path} {body}: {}", got.1);
        assert_error(&got, 400, code);
    }
    // Nothing was written by the refused requests.
    let (_, sub) = api.call("GET", SUB, "").await;
    assert_eq!(
        sub,
        json!({"user_id": "u-42", "email": null, "timezone": "UTC",
               "channels": ["email", "push"], "devices": []})
    );
}

#[tokio::test]
async fn wrong_methods_are_405_with_allow() {
    let api = Api::start().await;
    for (method, path, allow) in [
        ("POST", SUB.to_owned(), "GET, PUT"),
        ("DELETE", SUB.to_owned(), "GET, PUT"),
        ("GET", format!("{SUB}/devices"), "POST"),
        ("PUT", format!("{SUB}/devices/t"), "DELETE"),
        ("POST", format!("{SUB}/deliveries"), "GET"),
        // The method is checked before the segments are validated.
        (
            "PATCH",
            format!("/notifications/subscribers/{}", "x".repeat(200)),
            "GET, PUT",
        ),
    ] {
        let res = api.raw(method, &path, &[], "").await;
        assert_eq!(res.status, 405, "{method} {path}");
        assert_eq!(res.header("allow"), Some(allow), "{method} {path}");
        assert_error(&(res.status, res.json()), 405, "method_not_allowed");
    }
}

#[tokio::test]
async fn app_api_token_guards_every_api_route_but_readiness() {
    let mut api = Api::start_with(&[("app_api_token", "s3cret-token")]).await;
    let routes = [
        ("PUT", SUB.to_owned(), "{}"),
        ("GET", SUB.to_owned(), ""),
        ("POST", format!("{SUB}/devices"), r#"{"token":"t1"}"#),
        ("DELETE", format!("{SUB}/devices/t1"), ""),
        ("GET", format!("{SUB}/deliveries"), ""),
    ];
    for (method, path, body) in &routes {
        for headers in [
            vec![],
            vec![("dapr-api-token", "wrong")],
            vec![("dapr-api-token", "s3cret-tokenX")],
        ] {
            let res = api.raw(method, path, &headers, body).await;
            assert_error(&(res.status, res.json()), 401, "unauthorized");
        }
    }
    // Nothing was written without the token.
    assert_error(&api.call("GET", SUB, "").await, 404, "subscriber_not_found");
    let expected = [200, 200, 201, 204, 200];
    for ((method, path, body), status) in routes.iter().zip(expected) {
        assert_eq!(
            api.call(method, path, body).await.0,
            status,
            "{method} {path}"
        );
    }
    api.token = None;
    let res = api.raw("GET", "/notifications/readyz", &[], "").await;
    assert_eq!(res.status, 200, "{}", res.text());
}

#[tokio::test]
async fn postgres_down_is_503_database_unavailable_and_recovers() {
    let api = Api::start().await;
    assert_eq!(api.call("PUT", SUB, "{}").await.0, 200);
    api.db.set_down(true);
    for (method, path, body) in [
        ("PUT", SUB.to_owned(), "{}"),
        ("GET", SUB.to_owned(), ""),
        ("POST", format!("{SUB}/devices"), r#"{"token":"t1"}"#),
        ("DELETE", format!("{SUB}/devices/t1"), ""),
        ("GET", format!("{SUB}/deliveries"), ""),
    ] {
        let got = api.call(method, &path, body).await;
        assert_error(&got, 503, "database_unavailable");
    }
    // Input is still validated first: a bad body is a 400, not a 503.
    assert_error(&api.call("PUT", SUB, "{").await, 400, "invalid_json");
    api.db.set_down(false);
    assert_eq!(
        api.call("POST", &format!("{SUB}/devices"), r#"{"token":"t1"}"#)
            .await
            .0,
        201
    );
    assert_eq!(api.app.request_errors(), Vec::<String>::new());
}
