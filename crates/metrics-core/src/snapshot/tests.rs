use super::*;

#[test]
fn decodes_the_row_the_scrape_query_returns() {
    let row = serde_json::json!({
        "deliveries": [{"key": ["email", "sent"], "n": 3}],
        "outbox_unpublished": 1,
        "outbox_oldest_unpublished_seconds": 12.5,
        "rejected_events": [],
        "generated_tasks": 0,
        "scheduler_due_backlog": 2,
        "scheduler_lag_seconds": 0,
        "scheduled_reminders": [{"key": ["published"], "n": 7}],
        "schema_version": null
    });
    let s: Snapshot = serde_json::from_value(row).expect("decodes");
    assert_eq!(s.deliveries[0].key, ["email", "sent"]);
    assert_eq!(s.deliveries[0].n, 3.0);
    assert_eq!(s.outbox_oldest_unpublished_seconds, 12.5);
    assert_eq!(s.scheduled_reminders[0].n, 7.0);
    assert_eq!(s.schema_version, None);
}
