use super::*;

#[test]
fn header_lookup_is_case_insensitive() {
    let resp = test_response(202, &[("x-message-id", "abc")], "");
    assert_eq!(header(resp.headers(), "X-Message-Id"), Some("abc"));
    assert_eq!(header(resp.headers(), "Retry-After"), None);
}

#[test]
fn transient_statuses() {
    for status in [408, 429, 500, 502, 503, 504, 599] {
        assert!(is_transient_status(status), "{status}");
    }
    for status in [200, 400, 401, 403, 404, 422] {
        assert!(!is_transient_status(status), "{status}");
    }
}

#[test]
fn credentials_are_sensitive_and_bad_values_refused() {
    let req = post(
        "https://api.resend.com/emails",
        &[
            ("Authorization", "Bearer re_key"),
            ("Content-Type", "application/json"),
        ],
        b"{}".to_vec(),
    )
    .unwrap();
    assert_eq!(req.method(), http::Method::POST);
    assert!(req.headers()[AUTHORIZATION].is_sensitive());
    assert!(!format!("{req:?}").contains("re_key"));
    assert!(!req.headers()["content-type"].is_sensitive());
    assert!(post("https://x", &[("Authorization", "a\r\nX-Evil: 1")], vec![]).is_err());
    assert!(post("not a url", &[], vec![]).is_err());
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
