use super::array_literal;

#[test]
fn array_literals_quote_escape_and_keep_nulls() {
    assert_eq!(
        array_literal([Some("a"), None, Some("b c")]),
        r#"{"a",NULL,"b c"}"#
    );
    assert_eq!(array_literal([Some(r#"q"u\o"#)]), r#"{"q\"u\\o"}"#);
    assert_eq!(array_literal(std::iter::empty()), "{}");
}
