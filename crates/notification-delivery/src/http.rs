//! Plain descriptions of HTTP exchanges.
//!
//! The crate never performs I/O: adapters here *describe* the request to send
//! and *classify* the response that came back, so the Spin component only has
//! to copy these fields into `wasi:http` and back. Keeping the types free of any
//! HTTP library also lets the unit tests compare requests field by field.

use std::fmt;

use dapr_pubsub::trace::valid_traceparent;

/// HTTP methods this crate emits.
///
/// Only `POST` is needed today (every provider call is a POST); an enum keeps
/// the adapter's match exhaustive if another verb is added later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `POST`.
    Post,
}

impl Method {
    /// The method token as it goes on the wire, for the adapter's HTTP client.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Post => "POST",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request the caller must send verbatim.
///
/// `Debug` is implemented by hand and hides header values and the body,
/// because they carry bearer tokens, API keys and recipient addresses that
/// must never reach a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct OutboundRequest {
    /// The HTTP method.
    pub method: Method,
    /// Absolute URL, built from the configured base (`scheme://host[:port]`).
    pub url: String,
    /// Header name/value pairs, in the order they should be sent.
    pub headers: Vec<(String, String)>,
    /// The request body (JSON or form-encoded, see the `Content-Type` header).
    pub body: Vec<u8>,
}

impl OutboundRequest {
    /// First value of header `name` (ASCII case-insensitive), for tests and
    /// for adapters that need to look at what they are about to send.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// Adds the incoming W3C `traceparent` so provider calls join the trace.
    ///
    /// The value comes from an untrusted event, so it is only forwarded when
    /// it has the W3C shape (`vv-<32 hex>-<16 hex>-<2 hex>`); anything else
    /// (including header-injection attempts) is dropped silently.
    pub fn with_traceparent(mut self, traceparent: Option<&str>) -> Self {
        if let Some(value) = valid_traceparent(traceparent) {
            self.headers
                .push(("traceparent".to_owned(), value.to_owned()));
        }
        self
    }
}

impl fmt::Debug for OutboundRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("OutboundRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("header_names", &names)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// What came back from a provider: the caller fills it from its HTTP client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderResponse {
    /// HTTP status code.
    pub status: u16,
    /// Response headers (names in any case).
    pub headers: Vec<(String, String)>,
    /// Response body, possibly empty or not JSON at all (HTML error pages).
    pub body: Vec<u8>,
}

impl ProviderResponse {
    /// First value of header `name` (ASCII case-insensitive), because HTTP
    /// header names are case-insensitive and clients differ in what they keep.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// `true` for 2xx, the only statuses providers use for an accepted message.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// `true` for statuses that are worth retrying on every provider here:
    /// 408 (request timeout), 429 (rate limit / quota) and any 5xx.
    pub fn is_transient_status(&self) -> bool {
        matches!(self.status, 408 | 429) || (500..600).contains(&self.status)
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Longest provider error text kept for the delivery log, in characters.
///
/// Provider messages are useful for debugging but unbounded (an HTML error
/// page can be megabytes); the log column and the outcome event stay small.
pub const MAX_DETAIL_CHARS: usize = 300;

/// Shortens `text` to at most [`MAX_DETAIL_CHARS`] characters on a character
/// boundary (never splitting UTF-8), appending `…` when something was cut, and
/// flattens control characters so a provider cannot forge extra log lines.
pub fn truncate_detail(text: &str) -> String {
    let mut out = String::new();
    for (count, ch) in text.trim().chars().enumerate() {
        if count == MAX_DETAIL_CHARS {
            out.push('…');
            break;
        }
        out.push(if ch.is_control() { ' ' } else { ch });
    }
    out
}

/// A short description of a body that is not the JSON we expected, e.g. the
/// HTML page of a load balancer: enough to recognise it in the log.
pub(crate) fn describe_unparsed_body(status: u16, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    if trimmed.is_empty() {
        format!("HTTP {status} with an empty body")
    } else if trimmed.starts_with('<') {
        format!("HTTP {status} with a non-JSON (HTML) body")
    } else {
        format!("HTTP {status}: {}", truncate_detail(trimmed))
    }
}

/// Percent-encodes `pairs` as `application/x-www-form-urlencoded`
/// (WHATWG URL standard: unreserved bytes kept, space as `+`), which is what
/// the OAuth token endpoint expects.
pub fn form_urlencode(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode_form_component(name, &mut out);
        out.push('=');
        encode_form_component(value, &mut out);
    }
    out
}

fn encode_form_component(input: &str, out: &mut String) {
    for byte in input.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(char::from(byte))
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
}

/// Rejects header values that an HTTP stack would refuse or, worse, split:
/// configuration values (API keys, tokens) end up in headers verbatim.
pub(crate) fn is_valid_header_value(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
}

/// Normalises a configured base URL (`scheme://host[:port]`): trims
/// whitespace and trailing slashes and requires an `http` or `https` scheme
/// and a host, so that `{base}/path` is always a well-formed URL.
pub(crate) fn normalize_base_url(raw: &str) -> Option<String> {
    let trimmed = raw.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))?;
    if rest.is_empty()
        || rest
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '?' | '#'))
    {
        return None;
    }
    Some(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lookup_is_case_insensitive() {
        let resp = ProviderResponse {
            status: 202,
            headers: vec![("x-message-id".into(), "abc".into())],
            body: vec![],
        };
        assert_eq!(resp.header("X-Message-Id"), Some("abc"));
        assert_eq!(resp.header("Retry-After"), None);
    }

    #[test]
    fn transient_statuses() {
        for status in [408, 429, 500, 502, 503, 504, 599] {
            let r = ProviderResponse {
                status,
                ..Default::default()
            };
            assert!(r.is_transient_status(), "{status}");
        }
        for status in [200, 400, 401, 403, 404, 422] {
            let r = ProviderResponse {
                status,
                ..Default::default()
            };
            assert!(!r.is_transient_status(), "{status}");
        }
    }

    #[test]
    fn truncation_keeps_char_boundaries_and_flattens_newlines() {
        let long = "é".repeat(MAX_DETAIL_CHARS + 10);
        let cut = truncate_detail(&long);
        assert_eq!(cut.chars().count(), MAX_DETAIL_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(truncate_detail("a\nb\r\nc"), "a b  c");
        assert_eq!(truncate_detail("  short  "), "short");
    }

    #[test]
    fn html_bodies_are_summarised_not_copied() {
        let d = describe_unparsed_body(502, b"<html><body>Bad Gateway</body></html>");
        assert_eq!(d, "HTTP 502 with a non-JSON (HTML) body");
        assert_eq!(
            describe_unparsed_body(503, b"  "),
            "HTTP 503 with an empty body"
        );
        assert_eq!(describe_unparsed_body(500, b"oops"), "HTTP 500: oops");
    }

    #[test]
    fn form_encoding_escapes_reserved_characters() {
        let s = form_urlencode(&[("grant_type", "urn:a b"), ("x", "a+b/c=d&e~")]);
        assert_eq!(s, "grant_type=urn%3Aa+b&x=a%2Bb%2Fc%3Dd%26e%7E");
    }

    #[test]
    fn header_values_with_line_breaks_are_rejected() {
        assert!(is_valid_header_value("Bearer abc.def-123"));
        assert!(!is_valid_header_value("abc\r\nX-Evil: 1"));
        assert!(!is_valid_header_value("ключ"));
    }

    #[test]
    fn traceparent_is_forwarded_only_when_well_formed() {
        let req = OutboundRequest {
            method: Method::Post,
            url: "https://x".into(),
            headers: vec![],
            body: vec![],
        };
        let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let with = req.clone().with_traceparent(Some(good));
        assert_eq!(with.header("traceparent"), Some(good));
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\nX-Evil: 1",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-xyz92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert_eq!(
                req.clone()
                    .with_traceparent(Some(bad))
                    .header("traceparent"),
                None,
                "{bad}"
            );
        }
        assert_eq!(req.with_traceparent(None).headers.len(), 0);
    }

    #[test]
    fn base_urls_are_normalised() {
        assert_eq!(
            normalize_base_url(" https://api.resend.com/ ").as_deref(),
            Some("https://api.resend.com")
        );
        assert_eq!(
            normalize_base_url("http://localhost:8025").as_deref(),
            Some("http://localhost:8025")
        );
        assert_eq!(normalize_base_url("ftp://x"), None);
        assert_eq!(normalize_base_url("https://"), None);
        assert_eq!(normalize_base_url("https://a b"), None);
        assert_eq!(normalize_base_url("https://a?x=1"), None);
    }
}
