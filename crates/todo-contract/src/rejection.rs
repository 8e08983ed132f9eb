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
mod tests;
