use super::*;

#[test]
fn only_valid_values_are_forwarded() {
    let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let mut headers = http::HeaderMap::new();
    forward(&mut headers, Some(good));
    assert_eq!(headers["traceparent"], good);
    for bad in [None, Some(""), Some("00-t-s-01\r\nX-Evil: 1")] {
        let mut headers = http::HeaderMap::new();
        forward(&mut headers, bad);
        assert!(headers.is_empty(), "{bad:?}");
    }
}

#[test]
fn only_well_formed_values_are_forwarded() {
    let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    assert_eq!(valid_traceparent(Some(good)), Some(good));
    assert_eq!(valid_traceparent(Some(&format!(" {good} "))), Some(good));
    assert_eq!(valid_traceparent(None), None);
    for bad in [
        "",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\nX-Evil: 1",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-xyz92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
    ] {
        assert_eq!(valid_traceparent(Some(bad)), None, "{bad}");
    }
}

#[test]
fn the_header_wins_and_the_envelope_stands_in_for_a_missing_or_bad_one() {
    let header = "00-11111111111111111111111111111111-2222222222222222-01";
    let envelope = "00-33333333333333333333333333333333-4444444444444444-01";
    assert_eq!(continued(Some(header), Some(envelope)), Some(header));
    assert_eq!(continued(None, Some(envelope)), Some(envelope));
    assert_eq!(continued(Some("garbage"), Some(envelope)), Some(envelope));
    assert_eq!(continued(Some("garbage"), None), None);
    assert_eq!(trace_id(header), Some("11111111111111111111111111111111"));
    assert_eq!(trace_id("garbage"), None);
}
