use super::*;

#[test]
fn a_cursor_naming_an_impossible_time_is_invalid() {
    for at in [
        "0000-01-01T00:00:00.000000Z",
        "0001-01-01T00:00:00.000000+23:59",
    ] {
        let text = format!("{at} 6f1c2a3b-0000-4000-8000-00000000002a");
        let value = Base64UrlUnpadded::encode_string(text.as_bytes());
        assert!(Cursor::decode(&value).is_err(), "{at}");
    }
}

fn cursor() -> Cursor {
    Cursor {
        created_at: "2026-12-01T08:30:00.123456+01:00".parse().unwrap(),
        delivery_id: Uuid::try_parse("6f1c2a3b-0000-4000-8000-00000000002a").unwrap(),
    }
}

#[test]
fn round_trips_and_is_url_safe() {
    let c = cursor();
    let s = c.encode();
    assert!(s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert_eq!(Cursor::decode(&s).unwrap(), c);
}

#[test]
fn passes_microseconds_in_utc_to_sql() {
    assert_eq!(cursor().created_at_param(), "2026-12-01T07:30:00.123456Z");
    let whole = Cursor {
        created_at: "2026-12-01T07:30:00Z".parse().unwrap(),
        ..cursor()
    };
    assert_eq!(whole.created_at_param(), "2026-12-01T07:30:00.000000Z");
}

#[test]
fn rejects_anything_else() {
    let enc = |s: &str| Base64UrlUnpadded::encode_string(s.as_bytes());
    for bad in [
        String::new(),
        "not base64!".into(),
        enc("no-space"),
        enc("2026-12-01T07:30:00Z not-a-uuid"),
        enc("yesterday 6f1c2a3b-0000-4000-8000-00000000002a"),
        enc("2026-12-01T07:30:00.123456789Z 6f1c2a3b-0000-4000-8000-00000000002a"),
        enc("2026-12-01T07:30:00 6f1c2a3b-0000-4000-8000-00000000002a"),
        "A".repeat(300),
        format!("{}=", cursor().encode()),
    ] {
        let e = Cursor::decode(&bad).unwrap_err();
        assert_eq!((e.status, e.code), (400, "invalid_cursor"), "{bad:?}");
    }
}
