use super::*;

#[test]
fn echo_shortens_on_char_boundary() {
    let long = "é".repeat(100);
    let short = echo(&long);
    assert_eq!(short.chars().count(), ECHO_LIMIT + 1);
    assert!(short.ends_with('…'));
    assert_eq!(echo("abc"), "abc");
}

#[test]
fn codes_are_stable() {
    assert_eq!(Error::from(RuleError::Empty).code(), "invalid_rule");
    let tz = TimeZoneError {
        name: "Mars/Base".into(),
    };
    assert_eq!(Error::from(tz.clone()).code(), "unknown_timezone");
    assert_eq!(tz.to_string(), "unknown time zone \"Mars/Base\"");
    let anchor = AnchorError { value: "x".into() };
    assert_eq!(anchor.code(), "invalid_anchor");
    let limit = SearchError::LimitExceeded { periods: 3 };
    assert_eq!(Error::from(limit).code(), "search_limit_exceeded");
    assert_eq!(
        SearchError::OccurrenceOverflow.code(),
        "occurrence_overflow"
    );
}
