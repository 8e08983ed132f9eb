//! Month ends, leap days, ordinals and BYSETPOS, computed by hand from a
//! 2024 calendar (2024-01-01 is a Monday, 2024 is a leap year).

mod common;
use common::preview_strings;

fn dates(rule: &str, start: &str, n: usize) -> Vec<String> {
    preview_strings(rule, "UTC", start, n)
        .into_iter()
        .map(|s| {
            assert!(s.ends_with("T09:00:00+00:00"), "{s}");
            s[..10].to_owned()
        })
        .collect()
}

#[test]
fn keyword_monthly_clamps_and_returns_to_the_31st() {
    assert_eq!(
        dates("monthly", "2024-01-31T09:00", 4),
        ["2024-02-29", "2024-03-31", "2024-04-30", "2024-05-31"]
    );
    assert_eq!(
        dates("monthly", "2023-01-31T09:00", 2),
        ["2023-02-28", "2023-03-31"]
    );
}

#[test]
fn rrule_monthly_skips_months_without_the_day() {
    assert_eq!(
        dates("FREQ=MONTHLY", "2024-01-31T09:00", 3),
        ["2024-03-31", "2024-05-31", "2024-07-31"]
    );
    assert_eq!(
        dates("FREQ=MONTHLY;BYMONTHDAY=-1", "2024-01-15T09:00", 3),
        ["2024-01-31", "2024-02-29", "2024-03-31"]
    );
}

#[test]
fn leap_day_yearly() {
    assert_eq!(
        dates("yearly", "2024-02-29T09:00", 4),
        ["2025-02-28", "2026-02-28", "2027-02-28", "2028-02-29"]
    );
    assert_eq!(
        dates("FREQ=YEARLY", "2024-02-29T09:00", 2),
        ["2028-02-29", "2032-02-29"]
    );
}

#[test]
fn last_weekday_of_the_month() {
    assert_eq!(
        dates(
            "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
            "2024-01-01T09:00",
            6
        ),
        // Mar 30/31 and Jun 29/30 are weekends.
        [
            "2024-01-31",
            "2024-02-29",
            "2024-03-29",
            "2024-04-30",
            "2024-05-31",
            "2024-06-28"
        ]
    );
}

#[test]
fn every_second_tuesday() {
    assert_eq!(
        dates("FREQ=MONTHLY;BYDAY=2TU", "2024-01-01T09:00", 4),
        ["2024-01-09", "2024-02-13", "2024-03-12", "2024-04-09"]
    );
}

#[test]
fn last_friday() {
    assert_eq!(
        dates("RRULE:FREQ=MONTHLY;BYDAY=-1FR", "2024-01-01T09:00", 4),
        ["2024-01-26", "2024-02-23", "2024-03-29", "2024-04-26"]
    );
}

#[test]
fn weekdays_keyword_skips_the_weekend() {
    // Fri 2024-01-05 -> Mon 8, Tue 9; a Saturday start goes to Monday too.
    assert_eq!(
        dates("weekdays", "2024-01-05T09:00", 2),
        ["2024-01-08", "2024-01-09"]
    );
    assert_eq!(dates("weekdays", "2024-01-06T09:00", 1), ["2024-01-08"]);
}

#[test]
fn interval_and_by_month() {
    assert_eq!(
        dates("FREQ=DAILY;INTERVAL=10", "2024-02-25T09:00", 2),
        ["2024-03-06", "2024-03-16"]
    );
    // Quarterly on the 15th, only Jan/Apr/Jul/Oct.
    assert_eq!(
        dates(
            "FREQ=MONTHLY;BYMONTH=1,4,7,10;BYMONTHDAY=15",
            "2024-02-01T09:00",
            2
        ),
        ["2024-04-15", "2024-07-15"]
    );
    // Friday the 13th (RFC 5545 example): Sep 13 and Dec 13 2024.
    assert_eq!(
        dates("FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13", "2024-01-01T09:00", 2),
        ["2024-09-13", "2024-12-13"]
    );
}

#[test]
fn count_and_until_end_the_preview() {
    // DTSTART is occurrence 1, so COUNT=3 leaves two more.
    assert_eq!(
        dates("FREQ=DAILY;COUNT=3", "2024-01-01T09:00", 10),
        ["2024-01-02", "2024-01-03"]
    );
    assert_eq!(
        dates("FREQ=DAILY;UNTIL=20240103", "2024-01-01T09:00", 10),
        ["2024-01-02", "2024-01-03"]
    );
    assert_eq!(
        dates("FREQ=DAILY;UNTIL=20240103T085959Z", "2024-01-01T09:00", 10),
        ["2024-01-02"]
    );
    assert!(dates("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "2024-01-01T09:00", 3).is_empty());
}
