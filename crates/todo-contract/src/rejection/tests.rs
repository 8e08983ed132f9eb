use super::*;

#[test]
fn nul_is_escaped_in_every_stored_field() {
    let row = RejectedEvent {
        id: Some("a\0b".into()),
        source: Some("\0".into()),
        event_type: None,
        topic: "reminders".into(),
        reason: RejectReason::UnstorableText,
        detail: "unstorable_text".into(),
        payload: "{\"id\":\"a\0b\"}".into(),
    }
    .storable();
    assert_eq!(row.id.as_deref(), Some("a\\u0000b"));
    assert_eq!(row.source.as_deref(), Some("\\u0000"));
    assert!(!row.payload.contains('\0'));
    assert_eq!(row.topic, "reminders");
}

#[test]
fn truncation_respects_char_boundaries() {
    assert_eq!(truncate_utf8("héllo", 2), "h");
    assert_eq!(truncate_utf8("héllo", 3), "hé");
    assert_eq!(truncate_utf8("abc", 10), "abc");
    let big = "x".repeat(MAX_KEPT_PAYLOAD + 10);
    assert_eq!(
        truncate_utf8(&big, MAX_KEPT_PAYLOAD).len(),
        MAX_KEPT_PAYLOAD
    );
}

#[test]
fn codes_are_snake_case() {
    assert_eq!(RejectReason::NotACloudEvent.as_str(), "not_a_cloudevent");
    assert_eq!(
        RejectReason::UnknownTimezone.to_string(),
        "unknown_timezone"
    );
}
