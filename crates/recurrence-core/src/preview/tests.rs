use super::*;

fn code(query: &str) -> &'static str {
    occurrences(query).expect_err("rejected").code
}

#[test]
fn decodes_percent_and_plus_and_defaults_to_utc_and_five() {
    let got = occurrences("rule=FREQ%3DMONTHLY%3BBYDAY%3D-1FR&start=2026-01-01T09:00:00%2B01:00&timezone=Europe%2FBerlin&count=2")
        .expect("valid");
    assert_eq!(
        got,
        ["2026-01-30T09:00:00+01:00", "2026-02-27T09:00:00+01:00"]
    );
    let got = occurrences("rule=+daily+&start=2026-01-01T09:00:00Z").expect("valid");
    assert_eq!(got.len(), 5);
    assert_eq!(
        got.first().map(String::as_str),
        Some("2026-01-02T09:00:00+00:00")
    );
}

#[test]
fn a_parameter_given_twice_is_refused_with_its_code() {
    assert_eq!(
        code("rule=daily&rule=weekly&start=2026-01-01T09:00:00Z"),
        "invalid_rule"
    );
    assert_eq!(
        code("rule=daily&start=2026-01-01T09:00:00Z&count=2&count=3"),
        "invalid_count"
    );
}

#[test]
fn each_problem_has_its_code_and_names_the_parameter() {
    assert_eq!(code("start=2026-01-01T09:00:00Z"), "missing_parameter");
    assert_eq!(code("rule=daily"), "missing_parameter");
    assert_eq!(
        code("rule=&start=2026-01-01T09:00:00Z"),
        "missing_parameter"
    );
    assert_eq!(
        code("rule=hourly&start=2026-01-01T09:00:00Z"),
        "invalid_rule"
    );
    assert_eq!(code("rule=daily&start=tomorrow"), "invalid_start");
    assert_eq!(
        code("rule=daily&start=2026-01-01T09:00:00"),
        "invalid_start"
    );
    assert_eq!(
        code("rule=daily&start=2026-01-01T09:00:00Z&timezone=Mars%2FBase"),
        "unknown_timezone"
    );
    for count in ["0", "101", "-1", "x", "", "1.5"] {
        let q = format!("rule=daily&start=2026-01-01T09:00:00Z&count={count}");
        assert_eq!(code(&q), "invalid_count", "{count}");
    }
    let e = occurrences("rule=daily&start=2026-01-01T09:00:00Z&count=500").expect_err("bad");
    assert!(e.message.contains("count"), "{}", e.message);
    let e =
        occurrences("rule=FREQ%3DDAILY%3BBYHOUR%3D9&start=2026-01-01T09:00:00Z").expect_err("bad");
    assert!(e.message.contains("BYHOUR"), "{}", e.message);
    assert!(occurrences("rule=daily&start=2026-01-01T09:00:00Z&count=100").is_ok());
}

#[test]
fn garbage_never_panics() {
    for q in [
        "",
        "&&&",
        "%",
        "%ZZ",
        "rule=%FF%FE&start=%00",
        "count=99999999999999999999999",
    ] {
        let _ = occurrences(q);
    }
    let far = occurrences("rule=yearly&start=9999-06-01T00:00:00Z&count=100").expect("valid");
    assert!(far.is_empty());
}
