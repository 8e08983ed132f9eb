//! `next_occurrence`: anchors, late completion, COUNT, UNTIL, series start.
// Test code: a failed step stops the test loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
use common::{at, ts};
use recurrence_rules::jiff::SignedDuration;
use recurrence_rules::{
    next_occurrence, next_occurrence_numbered, time_zone, to_rfc3339, Anchor, CompletedTask, Next,
    Numbering, Rule,
};

/// The default numbering ([`Numbering::Tasks`]).
fn next(rule: &str, zone: &str, anchor: Anchor, task: CompletedTask) -> Option<(String, u32)> {
    numbered(rule, zone, anchor, Numbering::Tasks, task)
}

/// RFC 5545 index numbering.
fn next_rfc(rule: &str, zone: &str, anchor: Anchor, task: CompletedTask) -> Option<(String, u32)> {
    numbered(rule, zone, anchor, Numbering::RfcIndex, task)
}

fn numbered(
    rule: &str,
    zone: &str,
    anchor: Anchor,
    numbering: Numbering,
    task: CompletedTask,
) -> Option<(String, u32)> {
    let rule = Rule::parse(rule).unwrap();
    let tz = time_zone(zone).unwrap();
    let got = next_occurrence_numbered(&rule, &tz, anchor, numbering, &task)
        .unwrap()
        .map(|Next { due_at, occurrence }| (to_rfc3339(&due_at), occurrence));
    if numbering == Numbering::Tasks {
        let default = next_occurrence(&rule, &tz, anchor, &task).unwrap();
        let default = default.map(|Next { due_at, occurrence }| (to_rfc3339(&due_at), occurrence));
        assert_eq!(got, default, "next_occurrence numbers by tasks");
    }
    got
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
    // Jan 8, 15, 22 are skipped; Jan 29 is the next task, number 2 (tasks)
    // or 5 (RFC index: the skipped dates keep numbers 2-4).
    let t = task("2024-01-01T09:00:00Z", 1, "2024-01-22T10:00:00Z");
    assert_eq!(
        next("weekly", "UTC", Anchor::Due, t),
        some("2024-01-29T09:00:00+00:00", 2)
    );
    assert_eq!(
        next_rfc("weekly", "UTC", Anchor::Due, t),
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
fn rfc_index_count_bounds_the_series_in_time_when_completed_late() {
    // Every Monday, 4 times: Jan 1, 8, 15, 22. Task 1 done Jan 20 -> Jan 22
    // (occurrence 4); done Jan 23 -> the series is over.
    let rule = "FREQ=WEEKLY;BYDAY=MO;COUNT=4";
    let t = task("2024-01-01T09:00:00Z", 1, "2024-01-20T09:00:00Z");
    assert_eq!(
        next_rfc(rule, "UTC", Anchor::Due, t),
        some("2024-01-22T09:00:00+00:00", 4)
    );
    let t = task("2024-01-01T09:00:00Z", 1, "2024-01-23T09:00:00Z");
    assert_eq!(next_rfc(rule, "UTC", Anchor::Due, t), None);
}

/// `(due_at, occurrence, completed_at)` and the expected `(due_at, occurrence)`.
type Case = (&'static str, u32, &'static str, Option<(&'static str, u32)>);

/// COUNT counts tasks, the first being occurrence 1. Late completions of
/// "every Monday, 4 times" skip dates but still give tasks 2, 3 and 4.
#[test]
fn tasks_count_counts_tasks_when_completed_late() {
    let rule = "FREQ=WEEKLY;BYDAY=MO;COUNT=4";
    // (due_at, occurrence, completed_at) -> expected (due_at, occurrence)
    let table: [Case; 7] = [
        // On time: the plain series.
        (
            "2024-01-01T09:00:00Z",
            1,
            "2024-01-01T09:30:00Z",
            Some(("2024-01-08T09:00:00+00:00", 2)),
        ),
        // Three weeks late: one future task, number 2 (RFC index would say 5,
        // past COUNT, and end the series).
        (
            "2024-01-01T09:00:00Z",
            1,
            "2024-01-23T09:00:00Z",
            Some(("2024-01-29T09:00:00+00:00", 2)),
        ),
        (
            "2024-01-29T09:00:00Z",
            2,
            "2024-03-01T12:00:00Z",
            Some(("2024-03-04T09:00:00+00:00", 3)),
        ),
        (
            "2024-03-04T09:00:00Z",
            3,
            "2024-03-04T10:00:00Z",
            Some(("2024-03-11T09:00:00+00:00", 4)),
        ),
        // Task 4 is the last, on time or late.
        ("2024-03-11T09:00:00Z", 4, "2024-03-11T10:00:00Z", None),
        ("2024-03-11T09:00:00Z", 4, "2025-01-01T00:00:00Z", None),
        // Done early: the schedule holds.
        (
            "2024-01-08T09:00:00Z",
            2,
            "2024-01-02T09:00:00Z",
            Some(("2024-01-15T09:00:00+00:00", 3)),
        ),
    ];
    for (due, occurrence, completed, want) in table {
        let t = task(due, occurrence, completed);
        let want = want.map(|(at, n)| (at.to_owned(), n));
        assert_eq!(
            next(rule, "UTC", Anchor::Due, t),
            want,
            "{due} #{occurrence} done {completed}"
        );
    }
    // UNTIL still ends the series in time, whatever the number.
    let until = "FREQ=WEEKLY;UNTIL=20240129";
    let t = task("2024-01-01T09:00:00Z", 1, "2024-01-23T09:00:00Z");
    assert_eq!(
        next(until, "UTC", Anchor::Due, t),
        some("2024-01-29T09:00:00+00:00", 2)
    );
    let t = task("2024-01-01T09:00:00Z", 1, "2024-02-01T09:00:00Z");
    assert_eq!(next(until, "UTC", Anchor::Due, t), None);
}

#[test]
fn both_numberings_agree_on_time_and_for_the_completion_anchor() {
    for (due, occurrence, completed) in [
        ("2024-01-01T09:00:00Z", 1, "2024-01-01T09:30:00Z"),
        ("2024-01-08T09:00:00Z", 2, "2024-01-03T12:00:00Z"),
        ("2024-01-01T09:00:00Z", 1, "2024-02-20T09:00:00Z"),
    ] {
        let t = task(due, occurrence, completed);
        let late = ts(completed) > ts(due) + SignedDuration::from_hours(24);
        for rule in ["weekly", "FREQ=WEEKLY;COUNT=5", "FREQ=DAILY;INTERVAL=3"] {
            assert_eq!(
                next(rule, "UTC", Anchor::Completion, t),
                next_rfc(rule, "UTC", Anchor::Completion, t),
                "{rule}"
            );
            if !late {
                assert_eq!(
                    next(rule, "UTC", Anchor::Due, t),
                    next_rfc(rule, "UTC", Anchor::Due, t),
                    "{rule}"
                );
            }
        }
    }
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
