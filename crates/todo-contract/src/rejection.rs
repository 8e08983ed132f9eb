//! Why an event was dropped, and the record kept of it so nothing is lost
//! even where no dead-letter topic is configured.

crate::wire_names! {
    /// Stable reason codes for a DROP, written to logs, `rejected_events`
    /// and the `reason` label of `/metrics`.
    pub enum RejectReason ("reason") {
        /// The body is not JSON.
        MalformedJson = "malformed_json",
        /// JSON, but not a CloudEvent (no `id` or `type`).
        NotACloudEvent = "not_a_cloudevent",
        /// The `data` payload does not match the event type's schema.
        SchemaViolation = "schema_violation",
        /// The event names a task that does not exist.
        UnknownTask = "unknown_task",
        /// The task's recurrence rule cannot be parsed.
        InvalidRule = "invalid_rule",
        /// The task's time zone is not an IANA zone we know.
        UnknownTimezone = "unknown_timezone",
        /// Text holds U+0000, which PostgreSQL `text` cannot store.
        UnstorableText = "unstorable_text",
        /// The request is larger than the service handles (see
        /// `dapr_pubsub::inbound::MAX_BODY_BYTES` and `MAX_BULK_ENTRIES`).
        TooLarge = "too_large",
    }
}

/// Longest payload kept per rejected event (contract: 64 KiB).
pub const MAX_KEPT_PAYLOAD: usize = 64 * 1024;

/// A `rejected_events` row, ready to insert.
#[derive(Debug, Clone, PartialEq)]
pub struct RejectedEvent {
    /// CloudEvent id, when one could be read.
    pub id: Option<String>,
    /// CloudEvent source, when readable.
    pub source: Option<String>,
    /// CloudEvent type, when readable.
    pub event_type: Option<String>,
    /// The topic the event came from.
    pub topic: String,
    /// Why it was dropped.
    pub reason: RejectReason,
    /// A human detail (which field, which rule part) for operators.
    pub detail: String,
    /// The received payload, cut to [`MAX_KEPT_PAYLOAD`] bytes.
    pub payload: String,
}

impl RejectedEvent {
    /// The row as PostgreSQL can store it: every U+0000 written as the six
    /// characters `\u0000` (the JSON escape), so an event is kept even
    /// when what it contains could never be stored as received.
    pub fn storable(self) -> Self {
        let escape = |s: String| {
            if s.contains('\0') {
                s.replace('\0', "\\u0000")
            } else {
                s
            }
        };
        RejectedEvent {
            id: self.id.map(escape),
            source: self.source.map(escape),
            event_type: self.event_type.map(escape),
            topic: escape(self.topic),
            reason: self.reason,
            detail: escape(self.detail),
            payload: escape(self.payload),
        }
    }
}

/// Cuts `text` to at most `max` bytes without splitting a character.
pub fn truncate_utf8(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
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
}
