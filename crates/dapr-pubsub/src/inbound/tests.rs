//! Unit tests of `inbound`, by the part they cover.

mod edges;

mod body {
    use super::super::*;

    fn single(body: &str) -> InboundEntry {
        match parse_inbound(body.as_bytes()) {
            InboundBody::Single(e) => e,
            _ => panic!("expected a single request"),
        }
    }

    #[test]
    fn reads_a_dapr_cloudevent() {
        let e = single(
            r#"{"id":"e-1","source":"todo","type":"task.completed","specversion":"1.0",
               "datacontenttype":"application/json","topic":"task-events","pubsubname":"kafka-pubsub",
               "traceparent":"00-aa-bb-01","data":{"task_id":"x"}}"#,
        );
        let ev = e.event.expect("valid event");
        assert_eq!(ev.id, "e-1");
        assert_eq!(ev.event_type, "task.completed");
        assert_eq!(ev.topic.as_deref(), Some("task-events"));
        assert_eq!(ev.traceparent.as_deref(), Some("00-aa-bb-01"));
        assert_eq!(ev.data["task_id"], "x");
    }

    #[test]
    fn data_given_as_a_json_string_is_unwrapped() {
        let e = single(r#"{"id":"1","type":"t","data":"{\"a\":1}"}"#);
        assert_eq!(e.event.expect("valid").data["a"], 1);
    }

    #[test]
    fn malformed_json_and_missing_id_are_rejected_with_reasons() {
        let bad = single("{not json");
        let (reason, partial) = bad.event.expect_err("must reject");
        assert_eq!(reason, Fault::MalformedJson);
        assert_eq!(partial.raw, "{not json");

        let no_id = single(r#"{"type":"task.completed","source":"s"}"#);
        let (reason, partial) = no_id.event.expect_err("must reject");
        assert_eq!(reason, Fault::NotACloudEvent);
        assert_eq!(partial.event_type.as_deref(), Some("task.completed"));

        let (reason, _) = single("[1,2]").event.expect_err("must reject");
        assert_eq!(reason, Fault::NotACloudEvent);
    }

    #[test]
    fn a_lone_surrogate_is_malformed_but_its_id_is_read() {
        let body = r#"{"id":"ev-1","source":"s","type":"reminder.due","topic":"reminders","data":{"title":"\ud800"}}"#;
        let InboundBody::Single(entry) = parse_inbound(body.as_bytes()) else {
            panic!("single")
        };
        let (reason, partial) = entry.event.unwrap_err();
        assert_eq!(reason, Fault::MalformedJson);
        assert_eq!(partial.id.as_deref(), Some("ev-1"));
        assert_eq!(partial.topic.as_deref(), Some("reminders"));
        assert_eq!(partial.raw, body);
    }

    #[test]
    fn surrogate_repair_keeps_pairs_and_escaped_backslashes() {
        assert_eq!(
            replace_lone_surrogates(r#""\ud83d\ude00""#),
            r#""\ud83d\ude00""#
        );
        assert_eq!(replace_lone_surrogates(r#""\\ud800""#), r#""\\ud800""#);
        assert_eq!(
            replace_lone_surrogates(r#""\udc00\ud800x""#),
            r#""\ufffd\ufffdx""#
        );
    }

    #[test]
    fn a_body_past_the_limit_is_oversize_with_its_id() {
        let big = format!(
            r#"{{"id":"big-1","type":"reminder.due","specversion":"1.0","data":"{}"}}"#,
            "x".repeat(MAX_BODY_BYTES)
        );
        let InboundBody::Oversize { entry_ids, partial } = parse_inbound(big.as_bytes()) else {
            panic!("oversize")
        };
        assert_eq!(entry_ids, None);
        assert_eq!(partial.id.as_deref(), Some("big-1"));
        assert_eq!(partial.raw.len(), crate::inbound::MAX_KEPT_RAW);
    }

    #[test]
    fn a_bulk_past_the_limit_names_every_entry() {
        let entries: Vec<String> = (0..=MAX_BULK_ENTRIES)
            .map(|i| format!(r#"{{"entryId":"e{i}","event":{{"id":"x"}}}}"#))
            .collect();
        let body = format!(
            r#"{{"topic":"reminders","entries":[{}]}}"#,
            entries.join(",")
        );
        let InboundBody::Oversize { entry_ids, partial } = parse_inbound(body.as_bytes()) else {
            panic!("oversize")
        };
        let ids = entry_ids.expect("bulk");
        assert_eq!(ids.len(), MAX_BULK_ENTRIES + 1);
        assert_eq!(ids[0], "e0");
        assert_eq!(partial.topic.as_deref(), Some("reminders"));
        // At the limit, a bulk is handled entry by entry.
        let entries = &entries[..MAX_BULK_ENTRIES];
        let body = format!(
            r#"{{"topic":"reminders","entries":[{}]}}"#,
            entries.join(",")
        );
        assert!(
            matches!(parse_inbound(body.as_bytes()), InboundBody::Bulk(v) if v.len() == MAX_BULK_ENTRIES)
        );
    }

    #[test]
    fn bulk_entries_are_answered_one_by_one() {
        let body = r#"{"id":"b","topic":"reminders","pubsubname":"p","type":"com.dapr.event.sent.bulk",
            "entries":[
              {"entryId":"a","event":{"id":"1","type":"reminder.due","data":{}},"contentType":"application/cloudevents+json"},
              {"entryId":"b","event":"garbage","contentType":"application/cloudevents+json"}]}"#;
        let InboundBody::Bulk(entries) = parse_inbound(body.as_bytes()) else {
            panic!("expected bulk");
        };
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].entry_id.as_deref(), Some("a"));
        let first = entries[0].event.as_ref().expect("valid entry");
        assert_eq!(first.topic.as_deref(), Some("reminders"));
        assert_eq!(
            entries[1].event.as_ref().expect_err("bad entry").0,
            Fault::NotACloudEvent
        );
    }
}

mod status {
    use super::super::*;

    #[test]
    fn statuses_are_upper_case_on_the_wire() {
        assert_eq!(AppStatus::Drop.to_body(), br#"{"status":"DROP"}"#);
        assert_eq!(AppStatus::Success.to_body(), br#"{"status":"SUCCESS"}"#);
        let bulk = BulkResponse {
            statuses: vec![EntryStatus {
                entry_id: "e1".into(),
                status: AppStatus::Retry,
            }],
        };
        assert_eq!(
            bulk.to_body(),
            br#"{"statuses":[{"entryId":"e1","status":"RETRY"}]}"#
        );
    }
}
