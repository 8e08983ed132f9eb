//! `next_occurrence`: anchors, late completion, COUNT, UNTIL, series start.

mod common;
use common::{at, ts};
use recurrence_rules::{next_occurrence, time_zone, to_rfc3339, Anchor, CompletedTask, Next, Rule};

fn next(rule: &str, zone: &str, anchor: Anchor, task: CompletedTask) -> Option<(String, u32)> {
    let rule = Rule::parse(rule).unwrap();
    let tz = time_zone(zone).unwrap();
    next_occurrence(&rule, &tz, anchor, &task)
        .unwrap()
        .map(|Next { due_at, occurrence }| (to_rfc3339(&due_at), occurrence))
}

fn task(due: &str, occurrence: u32, completed: &str) -> CompletedTask {
    CompletedTask {
        due_at: ts(due),
        occurrence,
        completed_at: ts(completed),
        series_start: None,
    }
}

fn some(at: &str, occurrence: u32) -> Option<(String, u32)> {
    Some((at.to_owned(), occurrence))
}

#[test]
fn on_time_completion() {
    let t = task("2024-01-01T09:00:00Z", 1, "2024-01-01T08:00:00Z");
    assert_eq!(
        next("weekly", "UTC", Anchor::Due, t),
        some("2024-01-08T09:00:00+00:00", 2)
    );
}

#[test]
fn anchor_strings() {
    assert_eq!("due".parse::<Anchor>(), Ok(Anchor::Due));
    assert_eq!("completion".parse::<Anchor>(), Ok(Anchor::Completion));
    let err = "Due".parse::<Anchor>().unwrap_err();
    assert_eq!(err.code(), "invalid_anchor");
    assert!(err.to_string().contains("\"Due\""));
}

#[test]
fn late_completion_due_anchor_creates_one_future_task() {
    // Weekly from Mon Jan 1, done Mon Jan 22 10:00 (3 weeks and 1 hour late):
    // Jan 8, 15, 22 are skipped (occurrences 2-4), Jan 29 is occurrence 5.
    let t = task("2024-01-01T09:00:00Z", 1, "2024-01-22T10:00:00Z");
    assert_eq!(
        next("weekly", "UTC", Anchor::Due, t),
        some("2024-01-29T09:00:00+00:00", 5)
    );
}

#[test]
fn late_completion_completion_anchor_restarts_the_series() {
    let t = task("2024-01-01T09:00:00Z", 1, "2024-01-22T10:00:00Z");
    assert_eq!(
        next("weekly", "UTC", Anchor::Completion, t),
        some("2024-01-29T10:00:00+00:00", 2)
    );
    // Completed on a Saturday: next weekday is Monday, at completion time.
    let t = task("2024-01-05T09:00:00Z", 3, "2024-01-06T17:30:00Z");
    assert_eq!(
        next("weekdays", "UTC", Anchor::Completion, t),
        some("2024-01-08T17:30:00+00:00", 4)
    );
}

#[test]
fn early_completion_keeps_the_schedule() {
    let t = task("2024-01-10T09:00:00Z", 2, "2024-01-03T12:00:00Z");
    assert_eq!(
        next("weekly", "UTC", Anchor::Due, t),
        some("2024-01-17T09:00:00+00:00", 3)
    );
}

#[test]
fn weekdays_over_the_weekend() {
    // Friday's task -> Monday.
    let t = task("2024-01-05T09:00:00Z", 1, "2024-01-05T10:00:00Z");
    assert_eq!(
        next("weekdays", "UTC", Anchor::Due, t),
        some("2024-01-08T09:00:00+00:00", 2)
    );
}

#[test]
fn count_exhausted() {
    let t = task("2024-01-03T09:00:00Z", 3, "2024-01-03T09:30:00Z");
    assert_eq!(next("FREQ=DAILY;COUNT=3", "UTC", Anchor::Due, t), None);
    assert_eq!(
        next("FREQ=DAILY;COUNT=3", "UTC", Anchor::Completion, t),
        None
    );
    let t = task("2024-01-02T09:00:00Z", 2, "2024-01-02T09:30:00Z");
    assert_eq!(
        next("FREQ=DAILY;COUNT=3", "UTC", Anchor::Due, t),
        some("2024-01-03T09:00:00+00:00", 3)
    );
}

#[test]
fn count_bounds_the_series_in_time_when_completed_late() {
    // Every Monday, 4 times: Jan 1, 8, 15, 22. Task 1 done Jan 20 -> Jan 22
    // (occurrence 4); done Jan 23 -> the series is over.
    let rule = "FREQ=WEEKLY;BYDAY=MO;COUNT=4";
    let t = task("2024-01-01T09:00:00Z", 1, "2024-01-20T09:00:00Z");
    assert_eq!(
        next(rule, "UTC", Anchor::Due, t),
        some("2024-01-22T09:00:00+00:00", 4)
    );
    let t = task("2024-01-01T09:00:00Z", 1, "2024-01-23T09:00:00Z");
    assert_eq!(next(rule, "UTC", Anchor::Due, t), None);
}

#[test]
fn until_passed() {
    let rule = "FREQ=DAILY;UNTIL=20240105";
    let t = task("2024-01-05T09:00:00Z", 5, "2024-01-05T09:10:00Z");
    assert_eq!(next(rule, "UTC", Anchor::Due, t), None);
    let t = task("2024-01-04T09:00:00Z", 4, "2024-01-04T09:10:00Z");
    assert_eq!(
        next(rule, "UTC", Anchor::Due, t),
        some("2024-01-05T09:00:00+00:00", 5)
    );
    // Late completion past UNTIL ends the series too.
    let t = task("2024-01-03T09:00:00Z", 3, "2024-01-09T09:10:00Z");
    assert_eq!(next(rule, "UTC", Anchor::Due, t), None);
    // A Z UNTIL is an instant: 09:00 Berlin (CET) is 08:00Z.
    let rule = "FREQ=WEEKLY;UNTIL=20240115T080000Z";
    let t = CompletedTask {
        due_at: at("Europe/Berlin", "2024-01-08T09:00"),
        occurrence: 1,
        completed_at: at("Europe/Berlin", "2024-01-08T09:00"),
        series_start: None,
    };
    assert_eq!(
        next(rule, "Europe/Berlin", Anchor::Due, t),
        some("2024-01-15T09:00:00+01:00", 2)
    );
    let rule = "FREQ=WEEKLY;UNTIL=20240115T075959Z";
    assert_eq!(next(rule, "Europe/Berlin", Anchor::Due, t), None);
}

#[test]
fn month_end_needs_the_series_start() {
    let feb29 = task("2024-02-29T09:00:00Z", 2, "2024-02-29T10:00:00Z");
    // From the Feb 29 task alone, "monthly" means the 29th...
    assert_eq!(
        next("monthly", "UTC", Anchor::Due, feb29),
        some("2024-03-29T09:00:00+00:00", 3)
    );
    // ...with the series start (Jan 31) it is Mar 31, as the contract wants.
    let with_start = CompletedTask {
        series_start: Some(ts("2024-01-31T09:00:00Z")),
        ..feb29
    };
    assert_eq!(
        next("monthly", "UTC", Anchor::Due, with_start),
        some("2024-03-31T09:00:00+00:00", 3)
    );
    // A series start after due_at is ignored.
    let bogus = CompletedTask {
        series_start: Some(ts("2024-03-01T09:00:00Z")),
        ..feb29
    };
    assert_eq!(
        next("monthly", "UTC", Anchor::Due, bogus),
        some("2024-03-29T09:00:00+00:00", 3)
    );
}

#[test]
fn series_that_never_matches_ends() {
    let t = task("2024-01-01T09:00:00Z", 1, "2024-01-01T09:00:00Z");
    assert_eq!(
        next(
            "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=31",
            "UTC",
            Anchor::Due,
            t
        ),
        None
    );
}

#[test]
fn absurd_distance_is_an_error_not_a_hang() {
    let rule = Rule::parse("daily").unwrap();
    let tz = time_zone("UTC").unwrap();
    let t = task("-009000-01-01T00:00:00Z", 1, "9000-01-01T00:00:00Z");
    let err = next_occurrence(&rule, &tz, Anchor::Due, &t).unwrap_err();
    assert_eq!(err.code(), "search_limit_exceeded");
}

#[test]
fn occurrence_overflow_is_an_error() {
    let rule = Rule::parse("daily").unwrap();
    let tz = time_zone("UTC").unwrap();
    let t = task("2024-01-01T09:00:00Z", u32::MAX, "2024-01-01T09:00:00Z");
    let err = next_occurrence(&rule, &tz, Anchor::Completion, &t).unwrap_err();
    assert_eq!(err.code(), "occurrence_overflow");
}
