use super::*;

#[test]
fn parses_defaults_bounds_and_names_the_variable() {
    assert_eq!(Retention::parse("30", "5000"), Ok(Retention::default()));
    assert_eq!(
        Retention::parse(" 0 ", "1"),
        Ok(Retention { days: 0, batch: 1 })
    );
    assert_eq!(
        Retention::parse("36500", "100000").map(|r| r.days),
        Ok(36_500)
    );
    assert_eq!(Retention::parse("-1", "10"), Err(InvalidRetention::Days));
    assert_eq!(Retention::parse("36501", "10"), Err(InvalidRetention::Days));
    assert_eq!(
        Retention::parse("thirty", "10"),
        Err(InvalidRetention::Days)
    );
    assert_eq!(Retention::parse("", "10"), Err(InvalidRetention::Days));
    assert_eq!(Retention::parse("30", "0"), Err(InvalidRetention::Batch));
    assert_eq!(
        Retention::parse("30", "100001"),
        Err(InvalidRetention::Batch)
    );
    assert_eq!(Retention::parse("30", "1e3"), Err(InvalidRetention::Batch));
    assert!(InvalidRetention::Days
        .to_string()
        .contains("retention_days"));
    assert!(InvalidRetention::Batch
        .to_string()
        .contains("retention_batch"));
}

#[test]
fn zero_days_keeps_everything() {
    assert!(Retention { days: 0, batch: 5 }.keeps_everything());
    assert!(!Retention::default().keeps_everything());
}

#[test]
fn ages_in_seconds() {
    let r = Retention::default();
    assert_eq!(r.age_s(), 30 * 86_400);
    // The lateness limit (one day by default) is below 30 days.
    assert_eq!(r.reminder_age_s(86_400), 30 * 86_400);
    // A lateness limit longer than the retention wins, strictly.
    let short = Retention { days: 1, batch: 5 };
    assert_eq!(short.reminder_age_s(86_400), 86_401);
    assert_eq!(short.reminder_age_s(10 * 86_400), 10 * 86_400 + 1);
    assert_eq!(short.reminder_age_s(i64::MAX), i64::MAX);
    let widest = Retention {
        days: MAX_DAYS,
        batch: 1,
    };
    assert_eq!(widest.age_s(), 36_500 * 86_400);
}

#[test]
fn the_reminder_window_is_bounded_by_the_batch() {
    assert_eq!(Retention::default().reminder_scan(), 10_000);
    assert_eq!(Retention { days: 1, batch: 1 }.reminder_scan(), 2);
    let max = Retention {
        days: 1,
        batch: MAX_BATCH,
    };
    assert_eq!(max.reminder_scan(), 200_000);
}

#[test]
fn counts_only_after_a_full_batch() {
    assert!(!needs_count(0, 5));
    assert!(!needs_count(4, 5));
    assert!(needs_count(5, 5));
}

#[test]
fn serialises_with_the_contract_names() {
    let answer = PruneAnswer {
        deleted: Deleted {
            deliveries: 3,
            rejected_events: 2,
            scheduled_reminders: 1,
        },
        remaining: 7,
    };
    assert_eq!(
        serde_json::to_value(answer).unwrap(),
        serde_json::json!({"deleted": {"deliveries": 3, "rejected_events": 2,
                                       "scheduled_reminders": 1}, "remaining": 7})
    );
    assert_eq!(answer.deleted.total(), 6);
    assert!(!answer.is_quiet());
    assert!(PruneAnswer::default().is_quiet());
}
