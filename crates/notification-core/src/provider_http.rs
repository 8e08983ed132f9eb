//! Provider calls described with the `http` crate's types.
//!
//! The crate never performs I/O: adapters here *describe* the request to
//! send and *classify* the response that came back. The component hands the
//! request to Spin's outbound HTTP as it is (`spin_sdk::http` takes `http`
//! requests) and converts the answer back, so the types in tests and in the
//! product are the ones every Rust HTTP stack shares.
//!
//! Credentials travel in `authorization` headers, which `post` marks
//! sensitive: `http`'s `Debug` then prints `Sensitive` instead of the value.
//! Bodies (addresses, assertions, tokens) are never logged.

use http::header::{HeaderMap, HeaderValue, AUTHORIZATION};

/// A provider call: method, URL, headers and body.
pub type ProviderRequest = http::Request<Vec<u8>>;

/// What came back from a provider; the body may be empty or not JSON at
/// all (HTML error pages).
pub type ProviderResponse = http::Response<Vec<u8>>;

/// A request that could not be described: a URL or header value an HTTP
/// stack refuses. Configuration is checked when it is read, so this means
/// a value got past those checks; the delivery fails as not configured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the provider request could not be built: {0}")]
pub struct RequestError(String);

impl From<http::Error> for RequestError {
    fn from(e: http::Error) -> Self {
        // `http` names the part it refused, never the value.
        RequestError(e.to_string())
    }
}

/// A `POST` of `body` to `url` with `headers`; `authorization` values are
/// marked sensitive.
pub(crate) fn post(
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Result<ProviderRequest, RequestError> {
    let mut request = http::Request::post(url).body(body)?;
    for (name, value) in headers {
        let name = http::header::HeaderName::try_from(*name).map_err(http::Error::from)?;
        let mut value = HeaderValue::try_from(*value).map_err(http::Error::from)?;
        value.set_sensitive(name == AUTHORIZATION);
        request.headers_mut().append(name, value);
    }
    Ok(request)
}

/// First value of header `name` as text (names are case-insensitive in
/// `http`); `None` when absent or not visible ASCII.
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `true` for statuses worth retrying on every provider here: 408 (request
/// timeout), 429 (rate limit / quota) and any 5xx.
pub fn is_transient_status(status: u16) -> bool {
    matches!(status, 408 | 429) || (500..600).contains(&status)
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

/// A provider's answer, for the adapters' tests.
#[cfg(test)]
pub(crate) fn test_response(status: u16, headers: &[(&str, &str)], body: &str) -> ProviderResponse {
    let mut response = http::Response::new(body.as_bytes().to_vec());
    *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
    for (name, value) in headers {
        response.headers_mut().append(
            http::header::HeaderName::try_from(*name).unwrap(),
            HeaderValue::try_from(*value).unwrap(),
        );
    }
    response
}

#[cfg(test)]
mod tests;
