//! The last hostile-input edges (issue 20, item 6): junk in attributes no
//! handler uses, JSON deeper than the parser's limit, and bodies in
//! another Unicode encoding.

use super::super::*;
use base64ct::Encoding as _;

fn single(body: &[u8]) -> InboundEntry {
    match parse_inbound(body) {
        InboundBody::Single(e) => e,
        other => panic!("expected a single request, got {other:?}"),
    }
}

fn deep(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

#[test]
fn nul_in_attributes_no_handler_uses_leaves_the_event_whole() {
    for attribute in [
        r#""traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\u0000""#,
        r#""tracestate":"a=\u0000""#,
        r#""traceid":"\u0000""#,
        r#""time":"2026-12-01T08:00:00Z\u0000""#,
        r#""datacontenttype":"application/json\u0000""#,
        r#""pubsubname":"\u0000""#,
        r#""topic":"reminders\u0000""#,
        r#""x-extension\u0000":"\u0000""#,
    ] {
        let body = format!(
            r#"{{"id":"e-1","source":"s","type":"reminder.due",{attribute},"data":{{"k":"v"}}}}"#
        );
        let event = single(body.as_bytes())
            .event
            .unwrap_or_else(|e| panic!("{attribute}: {e:?}"));
        assert_eq!(event.unstorable(), None, "{attribute}");
        assert_eq!(event.data["k"], "v");
    }
}

#[test]
fn an_unhandled_type_holding_nul_is_still_an_event_to_acknowledge() {
    let event = single(br#"{"id":"e-2","type":"task.\u0000deleted","data":{}}"#)
        .event
        .expect("an event");
    assert_eq!(event.event_type, "task.\0deleted");
    assert_eq!(event.unstorable(), None);
}

#[test]
fn nul_in_what_a_handler_stores_makes_the_event_unstorable() {
    for (body, part) in [
        (r#"{"id":"a\u0000b","type":"t"}"#, "id"),
        (r#"{"id":"e","type":"t","source":"\u0000"}"#, "source"),
        (
            r#"{"id":"e","type":"t","data":{"user_id":"u\u0000"}}"#,
            "data",
        ),
        (r#"{"id":"e","type":"t","data":{"k\u0000":1}}"#, "data"),
        (
            r#"{"id":"e","type":"t","data":"{\"k\":\"\\u0000\"}"}"#,
            "data",
        ),
    ] {
        let event = single(body.as_bytes()).event.expect("an event");
        assert_eq!(event.unstorable(), Some(part), "{body}");
    }
}

#[test]
fn json_past_the_nesting_limit_is_malformed_but_keeps_its_id() {
    // The envelope and 126 levels inside it (127 in all) still parse;
    // 128 in all do not.
    let shallow = format!(r#"{{"id":"ok","type":"t","data":{}}}"#, deep(126));
    assert!(single(shallow.as_bytes()).event.is_ok());
    for depth in [127, 10_000] {
        let body = format!(
            r#"{{"id":"deep-1","source":"s","type":"reminder.due","topic":"reminders","data":{}}}"#,
            deep(depth)
        );
        let (reason, partial) = single(body.as_bytes()).event.expect_err("too deep");
        assert_eq!(reason, Fault::MalformedJson);
        assert_eq!(partial.id.as_deref(), Some("deep-1"), "{depth}");
        assert_eq!(partial.source.as_deref(), Some("s"));
        assert_eq!(partial.event_type.as_deref(), Some("reminder.due"));
        assert_eq!(partial.raw, body);
        assert!(
            partial.detail.as_deref().is_some_and(|d| d.contains("128")),
            "{:?}",
            partial.detail
        );
    }
    // Deep and holding a lone surrogate: still read.
    let body = format!(
        r#"{{"id":"deep-2","type":"t","x":"\ud800","data":{}}}"#,
        deep(500)
    );
    let (_, partial) = single(body.as_bytes()).event.expect_err("malformed");
    assert_eq!(partial.id.as_deref(), Some("deep-2"));
}

#[test]
fn a_too_deep_or_surrogate_bulk_entry_is_dropped_alone_with_its_id() {
    let body = format!(
        r#"{{"topic":"reminders","entries":[
          {{"entryId":"good","event":{{"id":"1","type":"reminder.due","data":{{}}}}}},
          {{"entryId":"deep","event":{{"id":"deep-id","type":"reminder.due","data":{}}}}},
          {{"entryId":"surrogate","event":{{"id":"s-id","type":"reminder.due","data":"\udc00"}}}}]}}"#,
        deep(5_000)
    );
    let InboundBody::Bulk(entries) = parse_inbound(body.as_bytes()) else {
        panic!("bulk")
    };
    let ids: Vec<_> = entries
        .iter()
        .map(|e| e.entry_id.clone().unwrap_or_default())
        .collect();
    assert_eq!(ids, ["good", "deep", "surrogate"]);
    let good = entries[0].event.as_ref().expect("good entry");
    assert_eq!(good.topic.as_deref(), Some("reminders"));
    let (reason, partial) = entries[1].event.as_ref().expect_err("deep entry");
    assert_eq!(*reason, Fault::MalformedJson);
    assert_eq!(partial.id.as_deref(), Some("deep-id"));
    assert!(partial.raw.starts_with(r#"{"id":"deep-id""#));
    assert!(partial.detail.as_deref().is_some_and(|d| d.contains("128")));
    let (reason, partial) = entries[2].event.as_ref().expect_err("surrogate entry");
    assert_eq!(*reason, Fault::MalformedJson);
    assert_eq!(partial.id.as_deref(), Some("s-id"));
}

/// `text` in `encoding`, with or without its byte order mark.
fn encode(text: &str, encoding: &str, bom: bool) -> Vec<u8> {
    let text = if bom {
        format!("\u{feff}{text}")
    } else {
        text.to_owned()
    };
    match encoding {
        "UTF-16LE" => text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
        "UTF-16BE" => text.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        "UTF-32LE" => text
            .chars()
            .flat_map(|c| u32::from(c).to_le_bytes())
            .collect(),
        "UTF-32BE" => text
            .chars()
            .flat_map(|c| u32::from(c).to_be_bytes())
            .collect(),
        _ => unreachable!(),
    }
}

#[test]
fn a_body_in_another_unicode_encoding_is_kept_recoverably_and_says_so() {
    let text = r#"{"id":"enc-1","source":"s","type":"reminder.due","data":{"title":"Über 🎉"}}"#;
    for encoding in ["UTF-16LE", "UTF-16BE", "UTF-32LE", "UTF-32BE"] {
        for bom in [true, false] {
            let body = encode(text, encoding, bom);
            let (reason, partial) = single(&body).event.expect_err("not UTF-8");
            assert_eq!(reason, Fault::MalformedJson);
            let detail = partial.detail.clone().unwrap_or_default();
            assert!(detail.contains(encoding), "{encoding} {bom}: {detail}");
            assert!(detail.contains(if bom { "with byte" } else { "without byte" }));
            assert!(detail.contains("base64"));
            assert_eq!(partial.id.as_deref(), Some("enc-1"), "{encoding} {bom}");
            let bytes = base64ct::Base64::decode_vec(&partial.raw).expect("base64");
            assert_eq!(bytes, body, "{encoding} {bom}: the original bytes");
        }
    }
}

#[test]
fn a_large_foreign_body_keeps_a_whole_base64_prefix() {
    let text = format!(
        r#"{{"id":"big","type":"t","data":"{}"}}"#,
        "x".repeat(40_000)
    );
    let body = encode(&text, "UTF-16LE", true);
    let (_, partial) = single(&body).event.expect_err("not UTF-8");
    assert_eq!(partial.raw.len(), crate::inbound::MAX_KEPT_RAW);
    let bytes = base64ct::Base64::decode_vec(&partial.raw).expect("base64");
    assert_eq!(bytes, body[..bytes.len()]);
    assert!(partial
        .detail
        .unwrap_or_default()
        .contains(&format!("of {}", body.len())));
}

#[test]
fn utf8_bodies_are_never_taken_for_another_encoding() {
    for body in [
        &b"{\"id\":\"a\0b\"}"[..],
        b"\xef\xbb\xbf{}",
        b"{\"id\":\"\xff\xfe\",\"type\":\"x\"}",
        b"{not json",
        b"",
        b" \n{}",
    ] {
        let entry = single(body);
        if let Err((_, partial)) = entry.event {
            assert_eq!(partial.detail, None, "{body:?}");
        }
    }
}
