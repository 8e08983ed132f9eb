use super::*;

fn sub(body: &str) -> Result<SubscriberInput, ApiError> {
    SubscriberInput::from_json(body.as_bytes())
}

fn dev(body: &str) -> Result<DeviceInput, ApiError> {
    DeviceInput::from_json(body.as_bytes())
}

fn code<T: std::fmt::Debug>(r: Result<T, ApiError>) -> &'static str {
    r.unwrap_err().code
}

#[test]
fn subscriber_defaults_and_full_bodies() {
    let s = sub("{}").unwrap();
    assert_eq!(s.email, None);
    assert_eq!(s.timezone, "UTC");
    assert_eq!(s.channels, Channel::ALL.to_vec());
    assert_eq!(s.channels_literal(), "{email,push}");
    let s = sub(r#"{"email":null,"timezone":null,"channels":null}"#).unwrap();
    assert_eq!((s.email, s.timezone.as_str()), (None, "UTC"));
    let s = sub(
        r#"{"email":"ada@example.com","timezone":"europe/berlin","channels":["push"],"extra":1}"#,
    )
    .unwrap();
    assert_eq!(s.email.as_deref(), Some("ada@example.com"));
    assert_eq!(s.timezone, "Europe/Berlin");
    assert_eq!(s.channels_literal(), "{push}");
    assert_eq!(sub(r#"{"channels":[]}"#).unwrap().channels_literal(), "{}");
}

#[test]
fn subscriber_errors_name_the_field() {
    assert_eq!(code(sub("")), "invalid_json");
    assert_eq!(code(sub("{")), "invalid_json");
    assert_eq!(code(sub("[]")), "invalid_body");
    assert_eq!(code(sub("null")), "invalid_body");
    assert_eq!(code(sub(r#"{"email":42}"#)), "invalid_email");
    assert_eq!(code(sub(r#"{"email":"nope"}"#)), "invalid_email");
    assert_eq!(code(sub(r#"{"timezone":1}"#)), "invalid_timezone");
    assert_eq!(
        code(sub(r#"{"timezone":"Nowhere/City"}"#)),
        "invalid_timezone"
    );
    assert_eq!(code(sub(r#"{"channels":"email"}"#)), "invalid_channels");
    assert_eq!(code(sub(r#"{"channels":[1]}"#)), "invalid_channels");
    assert_eq!(code(sub(r#"{"channels":["sms"]}"#)), "invalid_channels");
    let e = sub(r#"{"email":true}"#).unwrap_err();
    assert!(e.message.contains("email"), "{}", e.message);
    let big = format!(r#"{{"x":"{}"}}"#, "a".repeat(MAX_BODY_BYTES));
    let e = sub(&big).unwrap_err();
    assert_eq!((e.status, e.code), (413, "body_too_large"));
}

#[test]
fn device_bodies() {
    assert_eq!(
        dev(r#"{"token":"t1","platform":"ios"}"#).unwrap(),
        DeviceInput {
            token: "t1".into(),
            platform: Some("ios")
        }
    );
    assert_eq!(dev(r#"{"token":"t1"}"#).unwrap().platform, None);
    assert_eq!(
        dev(r#"{"token":"t1","platform":null}"#).unwrap().platform,
        None
    );
    assert_eq!(code(dev("{}")), "invalid_token");
    assert_eq!(code(dev(r#"{"token":null}"#)), "invalid_token");
    assert_eq!(code(dev(r#"{"token":7}"#)), "invalid_token");
    assert_eq!(code(dev(r#"{"token":""}"#)), "invalid_token");
    assert_eq!(code(dev(r#"{"token":"a b"}"#)), "invalid_token");
    assert_eq!(
        code(dev(r#"{"token":"t","platform":"symbian"}"#)),
        "invalid_platform"
    );
    assert_eq!(
        code(dev(r#"{"token":"t","platform":["ios"]}"#)),
        "invalid_platform"
    );
    assert_eq!(code(dev("not json")), "invalid_json");
    assert_eq!(code(dev(r#""t""#)), "invalid_body");
}

#[test]
fn list_queries() {
    assert_eq!(
        ListQuery::from_query("").unwrap(),
        ListQuery {
            limit: 50,
            before: None
        }
    );
    assert_eq!(ListQuery::from_query("limit=7&x=y").unwrap().limit, 7);
    let c = Cursor {
        created_at: "2026-12-01T07:30:00Z".parse().unwrap(),
        delivery_id: uuid::Uuid::nil(),
    };
    let q = ListQuery::from_query(&format!("before={}&limit=200", c.encode())).unwrap();
    assert_eq!((q.limit, q.before), (200, Some(c)));
    assert_eq!(code(ListQuery::from_query("limit=0")), "invalid_limit");
    assert_eq!(code(ListQuery::from_query("limit=201")), "invalid_limit");
    assert_eq!(code(ListQuery::from_query("limit=")), "invalid_limit");
    assert_eq!(
        code(ListQuery::from_query("limit=1&limit=2")),
        "invalid_limit"
    );
    assert_eq!(code(ListQuery::from_query("before=")), "invalid_cursor");
    assert_eq!(code(ListQuery::from_query("before=%%%")), "invalid_cursor");
}
