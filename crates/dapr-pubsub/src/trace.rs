//! W3C Trace Context: which trace an event's handling continues, and the
//! check that keeps a malformed value (an untrusted event's, including a
//! header-injection attempt) out of every outbound call.
//!
//! **The rule, the same in every component:** the inbound request's HTTP
//! `traceparent` header first, the CloudEvent envelope's `traceparent`
//! attribute only when the header is missing or malformed. daprd sets the
//! header on every request (a child of the envelope's context, so the same
//! trace id), and Spin 3.6.3 continues that header in its own spans and,
//! with OpenTelemetry export on, stamps its span's context over the
//! `traceparent` of every outbound request; following the header keeps the
//! component's log lines and outbound calls in the trace Spin exports.

/// `true` for a W3C Trace Context `traceparent` value (version 00 layout;
/// later versions may append fields after the flags).
pub fn is_traceparent(value: &str) -> bool {
    let mut parts = value.split('-');
    let hex = |s: Option<&str>, len: usize| {
        s.is_some_and(|s| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    let version = parts.next();
    hex(version, 2)
        && version != Some("ff")
        && hex(parts.next(), 32)
        && hex(parts.next(), 16)
        && hex(parts.next(), 2)
        && (version == Some("00") && parts.next().is_none() || version != Some("00"))
        && value.bytes().all(|b| (0x21..0x7f).contains(&b))
        // All-zero trace and parent ids are invalid (W3C Trace Context 3.2.2).
        && value.get(3..35).is_some_and(|id| id.bytes().any(|b| b != b'0'))
        && value.get(36..52).is_some_and(|id| id.bytes().any(|b| b != b'0'))
}

/// The value to forward: `value` trimmed, if it is a valid `traceparent`.
pub fn valid_traceparent(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| is_traceparent(v))
}

/// Puts `traceparent` on an outbound call when it is a valid W3C value, so
/// the call joins the trace; anything else (a header injection included) is
/// left off. Every outbound call goes through this.
pub fn forward(headers: &mut http::HeaderMap, traceparent: Option<&str>) {
    if let Some(value) =
        valid_traceparent(traceparent).and_then(|v| http::HeaderValue::try_from(v).ok())
    {
        headers.insert("traceparent", value);
    }
}

/// The trace a delivered event continues (the module's rule): the HTTP
/// header if valid, else the envelope's attribute if valid.
pub fn continued<'a>(header: Option<&'a str>, envelope: Option<&'a str>) -> Option<&'a str> {
    valid_traceparent(header).or_else(|| valid_traceparent(envelope))
}

/// The trace id of a valid `traceparent` (the 32 hex digits log lines
/// carry as `trace_id`).
pub fn trace_id(traceparent: &str) -> Option<&str> {
    traceparent
        .get(3..35)
        .filter(|_| is_traceparent(traceparent))
}

#[cfg(test)]
mod tests;
