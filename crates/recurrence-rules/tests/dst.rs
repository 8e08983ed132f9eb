//! Wall-clock time is kept across DST changes; gap times move forward by the
//! gap, fold times take the first instant (RFC 5545 §3.3.5).

mod common;
use common::{at, preview_strings, ts};
use recurrence_rules::{next_occurrence, time_zone, to_rfc3339, Anchor, CompletedTask, Rule};

#[test]
fn new_york_spring_forward_gap_moves_forward() {
    // 2024-03-10 02:00 EST -> 03:00 EDT: 02:30 does not exist that day.
    assert_eq!(
        preview_strings("daily", "America/New_York", "2024-03-08T02:30", 3),
        [
            "2024-03-09T02:30:00-05:00",
            "2024-03-10T03:30:00-04:00",
            "2024-03-11T02:30:00-04:00",
        ]
    );
}

#[test]
fn new_york_keeps_nine_oclock_across_both_changes() {
    assert_eq!(
        preview_strings("daily", "America/New_York", "2024-03-09T09:00", 2),
        ["2024-03-10T09:00:00-04:00", "2024-03-11T09:00:00-04:00"]
    );
    assert_eq!(
        preview_strings("weekly", "America/New_York", "2024-10-27T09:00", 2),
        ["2024-11-03T09:00:00-05:00", "2024-11-10T09:00:00-05:00"]
    );
}

#[test]
fn new_york_fall_back_fold_takes_first_instant() {
    // 2024-11-03 02:00 EDT -> 01:00 EST: 01:30 happens twice.
    let got = preview_strings("daily", "America/New_York", "2024-11-01T01:30", 3);
    assert_eq!(
        got,
        [
            "2024-11-02T01:30:00-04:00",
            "2024-11-03T01:30:00-04:00",
            "2024-11-04T01:30:00-05:00",
        ]
    );
}

#[test]
fn completion_in_the_repeated_hour_still_moves_to_the_next_day() {
    let tz = time_zone("America/New_York").unwrap();
    let rule = Rule::parse("daily").unwrap();
    // Due at the first 01:30 (05:30Z), completed at the second 01:45 (06:45Z).
    let task = CompletedTask {
        due_at: ts("2024-11-03T05:30:00Z"),
        occurrence: 4,
        completed_at: ts("2024-11-03T06:45:00Z"),
        series_start: None,
    };
    let next = next_occurrence(&rule, &tz, Anchor::Due, &task)
        .unwrap()
        .unwrap();
    assert_eq!(to_rfc3339(&next.due_at), "2024-11-04T01:30:00-05:00");
    assert_eq!(next.occurrence, 5);
    // Anchor completion: the series restarts at 01:45 EST.
    let next = next_occurrence(&rule, &tz, Anchor::Completion, &task)
        .unwrap()
        .unwrap();
    assert_eq!(to_rfc3339(&next.due_at), "2024-11-04T01:45:00-05:00");
}

#[test]
fn berlin_nine_oclock_on_both_sides_of_dst() {
    // CEST starts 2026-03-29, ends 2026-10-25.
    assert_eq!(
        preview_strings(
            "FREQ=WEEKLY;BYDAY=MO",
            "Europe/Berlin",
            "2026-03-23T09:00",
            2
        ),
        ["2026-03-30T09:00:00+02:00", "2026-04-06T09:00:00+02:00"]
    );
    assert_eq!(
        preview_strings("weekly", "Europe/Berlin", "2026-10-19T09:00", 1),
        ["2026-10-26T09:00:00+01:00"]
    );
    assert_eq!(
        preview_strings(
            "FREQ=WEEKLY;BYDAY=TH",
            "Europe/Berlin",
            "2026-11-26T09:00",
            1
        ),
        ["2026-12-03T09:00:00+01:00"]
    );
}

#[test]
fn lord_howe_half_hour_gap_and_fold() {
    // DST starts 2024-10-06 02:00 (+10:30) -> 02:30 (+11:00).
    assert_eq!(
        preview_strings("daily", "Australia/Lord_Howe", "2024-10-05T02:15", 3),
        [
            "2024-10-06T02:45:00+11:00",
            "2024-10-07T02:15:00+11:00",
            "2024-10-08T02:15:00+11:00",
        ]
    );
    // DST ends 2024-04-07 02:00 (+11:00) -> 01:30 (+10:30): 01:45 twice.
    assert_eq!(
        preview_strings("daily", "Australia/Lord_Howe", "2024-04-06T01:45", 2),
        ["2024-04-07T01:45:00+11:00", "2024-04-08T01:45:00+10:30"]
    );
}

#[test]
fn gap_day_does_not_shift_later_occurrences() {
    // Series at 02:30 New York; the Mar 10 task was moved to 03:30. Given
    // the series start, the next task is back at 02:30.
    let tz = time_zone("America/New_York").unwrap();
    let rule = Rule::parse("daily").unwrap();
    let task = CompletedTask {
        due_at: ts("2024-03-10T07:30:00Z"), // 03:30 EDT
        occurrence: 3,
        completed_at: ts("2024-03-10T08:00:00Z"),
        series_start: Some(at("America/New_York", "2024-03-08T02:30")),
    };
    let next = next_occurrence(&rule, &tz, Anchor::Due, &task)
        .unwrap()
        .unwrap();
    assert_eq!(to_rfc3339(&next.due_at), "2024-03-11T02:30:00-04:00");
    assert_eq!(next.occurrence, 4);
}
