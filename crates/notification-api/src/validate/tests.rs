use super::*;

fn code<T: std::fmt::Debug>(r: Result<T, ApiError>) -> &'static str {
    let e = r.unwrap_err();
    assert_eq!(e.status, 400);
    e.code
}

#[test]
fn user_ids_are_1_to_128_characters_without_controls() {
    assert!(user_id("u-42").is_ok());
    assert!(user_id(&"é".repeat(128)).is_ok());
    assert!(user_id("a/b c+d%").is_ok());
    assert_eq!(code(user_id("")), "invalid_user_id");
    assert_eq!(code(user_id(&"x".repeat(129))), "invalid_user_id");
    assert_eq!(code(user_id("a\0b")), "invalid_user_id");
    assert_eq!(code(user_id("a\nb")), "invalid_user_id");
}

#[test]
fn plausible_emails_pass() {
    for ok in [
        "ada@example.com",
        "a.b+tag@sub.example.co.uk",
        "dev@localhost",
        "ünï@exämple.de",
    ] {
        assert!(email(ok).is_ok(), "{ok}");
    }
    let local = "l".repeat(64);
    let domain = format!("{}.com", "d".repeat(254 - 64 - 1 - 4));
    assert!(email(&format!("{local}@{domain}")).is_ok());
}

#[test]
fn implausible_emails_fail() {
    for bad in [
        "",
        "ada",
        "ada@",
        "@example.com",
        "a@b@c",
        "ada @example.com",
        "ada@exa mple.com",
        "ada@example.com\n",
        "ada@.com",
        "ada@example.",
        "ada@example..com",
        "Ada <ada@example.com>",
        "a@b.com,c@d.com",
        "\"a b\"@example.com",
    ] {
        assert_eq!(code(email(bad)), "invalid_email", "{bad:?}");
    }
    assert_eq!(
        code(email(&format!("{}@example.com", "l".repeat(65)))),
        "invalid_email"
    );
    assert_eq!(
        code(email(&format!("a@{}.com", "d".repeat(250)))),
        "invalid_email"
    );
}

#[test]
fn timezones_are_real_iana_names_stored_canonically() {
    assert_eq!(timezone("Europe/Berlin").unwrap(), "Europe/Berlin");
    assert_eq!(timezone("america/new_york").unwrap(), "America/New_York");
    assert_eq!(timezone("UTC").unwrap(), "UTC");
    assert_eq!(timezone("Asia/Kolkata").unwrap(), "Asia/Kolkata");
    for bad in [
        "",
        "Mars/Olympus",
        "Europe/Berlin ",
        "+01:00",
        "CET-1CEST,M3.5.0,M10.5.0/3",
        "Etc/Unknown",
        "../../etc/passwd",
    ] {
        assert_eq!(code(timezone(bad)), "invalid_timezone", "{bad:?}");
    }
}

#[test]
fn channels_are_a_canonical_subset_without_repeats() {
    assert_eq!(
        channels(&["push", "email"]).unwrap(),
        vec![Channel::Email, Channel::Push]
    );
    assert_eq!(channels(&["push"]).unwrap(), vec![Channel::Push]);
    assert_eq!(channels(&[]).unwrap(), vec![]);
    assert_eq!(code(channels(&["sms"])), "invalid_channels");
    assert_eq!(code(channels(&["Email"])), "invalid_channels");
    assert_eq!(code(channels(&["push", "push"])), "invalid_channels");
}

#[test]
fn tokens_are_bounded_and_without_whitespace() {
    assert!(token("fcm:APA91b-_x").is_ok());
    assert!(token(&"t".repeat(4096)).is_ok());
    assert_eq!(code(token("")), "invalid_token");
    assert_eq!(code(token(&"t".repeat(4097))), "invalid_token");
    assert_eq!(code(token("a b")), "invalid_token");
    assert_eq!(code(token("a\tb")), "invalid_token");
    assert_eq!(code(token("a\u{a0}b")), "invalid_token");
}

#[test]
fn platforms_are_exact() {
    assert_eq!(platform("ios").unwrap(), "ios");
    assert_eq!(platform("android").unwrap(), "android");
    assert_eq!(platform("web").unwrap(), "web");
    assert_eq!(code(platform("iOS")), "invalid_platform");
    assert_eq!(code(platform("")), "invalid_platform");
}

#[test]
fn limits_are_1_to_200() {
    assert_eq!(limit("1").unwrap(), 1);
    assert_eq!(limit("200").unwrap(), 200);
    for bad in ["0", "201", "-1", "+5", "abc", "", "1.5", "99999999999"] {
        assert_eq!(code(limit(bad)), "invalid_limit", "{bad:?}");
    }
}

#[test]
fn echoed_values_are_truncated() {
    assert_eq!(truncate("short"), "short");
    let long = "é".repeat(100);
    assert_eq!(truncate(&long).chars().count(), 67);
}
