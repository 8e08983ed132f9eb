use super::*;

#[test]
fn both_services_by_default_with_dead_letter_topics() {
    let subs = subscriptions_for("notification,recurrence", "kafka-pubsub", None).expect("known");
    let json = serde_json::to_value(&subs).expect("serialises");
    assert_eq!(
        json,
        serde_json::json!([
            {"pubsubname":"kafka-pubsub","topic":"reminders","route":"/events/reminders","deadLetterTopic":"reminders-dlq"},
            {"pubsubname":"kafka-pubsub","topic":"task-events","route":"/events/task-events","deadLetterTopic":"task-events-dlq"}
        ])
    );
}

#[test]
fn split_deployment_lists_one_service() {
    let subs = subscriptions_for(" recurrence ", "p", None).expect("known");
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].topic, "task-events");
    assert!(subscriptions_for("", "p", None)
        .expect("empty is fine")
        .is_empty());
}

#[test]
fn unknown_service_is_an_error_naming_it() {
    let err = subscriptions_for("notification,billing", "p", None).expect_err("unknown");
    assert_eq!(err, UnknownService("billing".into()));
    assert!(err.to_string().contains("billing"));
}

#[test]
fn bulk_is_asked_for_with_the_variables_and_zero_turns_it_off() {
    let (bulk, errors) = BulkSubscribe::from_settings("100", "1000");
    assert!(errors.is_empty());
    let subs = subscriptions_for("notification", "p", bulk).expect("known");
    assert_eq!(
        serde_json::to_value(&subs[0]).expect("serialises")["bulkSubscribe"],
        serde_json::json!({"enabled": true, "maxMessagesCount": 100, "maxAwaitDurationMs": 1000})
    );
    let (off, errors) = BulkSubscribe::from_settings(" 0 ", "250");
    assert_eq!((off, errors.len()), (None, 0));
    let subs = subscriptions_for("notification", "p", off).expect("known");
    assert!(serde_json::to_value(&subs[0])
        .expect("serialises")
        .get("bulkSubscribe")
        .is_none());
}

#[test]
fn unusable_bulk_settings_fall_back_and_say_so() {
    let (bulk, errors) = BulkSubscribe::from_settings("lots", "-5");
    assert_eq!(
        bulk,
        Some(BulkSubscribe {
            enabled: true,
            max_messages_count: DEFAULT_BULK_MAX_MESSAGES,
            max_await_duration_ms: DEFAULT_BULK_MAX_AWAIT_MS,
        })
    );
    let named: Vec<&str> = errors.iter().map(|e| e.variable).collect();
    assert_eq!(named, ["bulk_max_messages", "bulk_max_await_ms"]);
    // More than a bulk may carry would have every bulk dropped whole.
    let (bulk, errors) = BulkSubscribe::from_settings("5000", "10");
    assert_eq!(bulk.map(|b| b.max_messages_count), Some(1000));
    assert_eq!(errors.len(), 1);
    assert!(errors[0].to_string().contains("using 1000"));
}
