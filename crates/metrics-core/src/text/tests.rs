use super::*;

#[test]
fn a_family_has_help_type_and_its_samples_in_order() {
    let mut out = String::new();
    Family::gauge(&mut out, "todo_x", "Things.")
        .sample(&[], 3.0)
        .sample(&[("a", "1"), ("b", "2")], 0.5);
    assert_eq!(
        out,
        "# HELP todo_x Things.\n# TYPE todo_x gauge\ntodo_x 3\ntodo_x{a=\"1\",b=\"2\"} 0.5\n"
    );
}

#[test]
fn label_values_escape_backslash_quote_and_newline() {
    assert_eq!(escape_label_value(r#"a\b"c"#), r#"a\\b\"c"#);
    assert_eq!(escape_label_value("line\nnext"), r"line\nnext");
    assert_eq!(escape_label_value("plain_text-1.2"), "plain_text-1.2");
    // Escaping the backslash first: an existing `\n` text stays two
    // characters, not a line feed.
    assert_eq!(escape_label_value(r"\n"), r"\\n");
}

#[test]
fn help_escapes_backslash_and_newline_but_not_quotes() {
    assert_eq!(escape_help("a \"b\" \\ c\nd"), "a \"b\" \\\\ c\\nd");
}

#[test]
fn values_are_written_the_way_prometheus_reads_them() {
    assert_eq!(format_value(0.0), "0");
    assert_eq!(format_value(1_000_000.0), "1000000");
    assert_eq!(format_value(12.25), "12.25");
    assert_eq!(format_value(-3.0), "-3");
    assert_eq!(format_value(f64::NAN), "NaN");
    assert_eq!(format_value(f64::INFINITY), "+Inf");
    assert_eq!(format_value(f64::NEG_INFINITY), "-Inf");
    assert_eq!(format_value(1e20), "100000000000000000000");
}
