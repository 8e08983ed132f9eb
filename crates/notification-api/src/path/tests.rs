use super::*;

fn parts(path: &str) -> (Kind, String, Option<String>) {
    let r = parse(path).unwrap();
    let token = (r.kind == Kind::Device).then(|| r.token().unwrap());
    (r.kind, r.user_id().unwrap(), token)
}

#[test]
fn names_each_resource() {
    assert_eq!(
        parts("/notifications/subscribers/u-42"),
        (Kind::Subscriber, "u-42".into(), None)
    );
    assert_eq!(
        parts("/notifications/subscribers/u-42/devices"),
        (Kind::Devices, "u-42".into(), None)
    );
    assert_eq!(
        parts("/notifications/subscribers/u-42/devices/tok:1"),
        (Kind::Device, "u-42".into(), Some("tok:1".into()))
    );
    assert_eq!(
        parts("/notifications/subscribers/u-42/deliveries"),
        (Kind::Deliveries, "u-42".into(), None)
    );
}

#[test]
fn decodes_segments_once_and_keeps_plus() {
    assert_eq!(
        parts("/notifications/subscribers/a%2Fb%2525+c").1,
        "a/b%25+c"
    );
    assert_eq!(
        parts("/notifications/subscribers/%C3%A9/devices/x%3Ay"),
        (Kind::Device, "é".into(), Some("x:y".into()))
    );
}

#[test]
fn other_paths_are_not_resources() {
    for path in [
        "/notifications/subscriber/u",
        "/notifications/subscribers",
        "/notifications/subscribers/u/",
        "/notifications/subscribers/u/devices/t/x",
        "/notifications/subscribers/u/other",
        "/notifications/subscribers/u/deliveries/x",
    ] {
        assert_eq!(parse(path), None, "{path}");
    }
}

#[test]
fn invalid_segments_are_400s() {
    let user = |p: &str| parse(p).unwrap().user_id().unwrap_err().code;
    let token = |p: &str| parse(p).unwrap().token().unwrap_err().code;
    assert_eq!(user("/notifications/subscribers/"), "invalid_user_id");
    assert_eq!(user("/notifications/subscribers/%FF"), "invalid_user_id");
    assert_eq!(user("/notifications/subscribers/a%00b"), "invalid_user_id");
    let long = "x".repeat(129);
    assert_eq!(
        user(&format!("/notifications/subscribers/{long}")),
        "invalid_user_id"
    );
    assert_eq!(
        token("/notifications/subscribers/u/devices/a%20b"),
        "invalid_token"
    );
    assert_eq!(
        token("/notifications/subscribers/u/devices/%FE"),
        "invalid_token"
    );
    assert_eq!(
        token("/notifications/subscribers/u/devices/"),
        "invalid_token"
    );
}

#[test]
fn allow_lists_match_the_routes() {
    assert_eq!(Kind::Subscriber.allowed(), "GET, PUT");
    assert_eq!(Kind::Devices.allowed(), "POST");
    assert_eq!(Kind::Device.allowed(), "DELETE");
    assert_eq!(Kind::Deliveries.allowed(), "GET");
}
