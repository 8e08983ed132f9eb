//! Unit tests of `expand.rs`: civil expansion, no time zones.
use super::*;
use jiff::civil::date;

fn first_dates(rule: &str, start: Date, n: usize) -> Vec<Date> {
    let rule = Rule::parse(rule).unwrap();
    let mut iter = CivilIter::new(&rule, start.at(9, 0, 0, 0));
    let mut out = Vec::new();
    while out.len() < n {
        match iter.next_occurrence().unwrap() {
            Some(dt) => {
                assert_eq!(dt.time(), jiff::civil::time(9, 0, 0, 0));
                out.push(dt.date());
            }
            None => break,
        }
    }
    out
}

#[test]
fn rrule_monthly_skips_invalid_dates() {
    assert_eq!(
        first_dates("FREQ=MONTHLY", date(2024, 1, 31), 3),
        vec![date(2024, 3, 31), date(2024, 5, 31), date(2024, 7, 31)]
    );
}

#[test]
fn keyword_monthly_clamps_from_the_anchor() {
    assert_eq!(
        first_dates("monthly", date(2024, 1, 31), 4),
        vec![
            date(2024, 2, 29),
            date(2024, 3, 31),
            date(2024, 4, 30),
            date(2024, 5, 31)
        ]
    );
}

#[test]
fn weekly_interval_uses_wkst_weeks() {
    // RFC 5545 §3.3.10 example: DTSTART 1997-08-05 (Tuesday).
    // WKST=MO -> Aug 5, 10, 19, 24; WKST=SU -> Aug 5, 17, 19, 31.
    let start = date(1997, 8, 5);
    assert_eq!(
        first_dates(
            "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO",
            start,
            3
        ),
        vec![date(1997, 8, 10), date(1997, 8, 19), date(1997, 8, 24)]
    );
    assert_eq!(
        first_dates(
            "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU",
            start,
            3
        ),
        vec![date(1997, 8, 17), date(1997, 8, 19), date(1997, 8, 31)]
    );
}

#[test]
fn yearly_by_month_day_without_by_month_expands_every_month() {
    assert_eq!(
        first_dates("FREQ=YEARLY;BYMONTHDAY=-1", date(2023, 11, 5), 3),
        vec![date(2023, 11, 30), date(2023, 12, 31), date(2024, 1, 31)]
    );
}

#[test]
fn yearly_by_day_ordinal_counts_in_year_or_month() {
    // 20th Monday of the year (RFC example: 1997-05-19, 1998-05-18).
    assert_eq!(
        first_dates("FREQ=YEARLY;BYDAY=20MO", date(1997, 1, 1), 2),
        vec![date(1997, 5, 19), date(1998, 5, 18)]
    );
    // US Thanksgiving: 4th Thursday of November.
    assert_eq!(
        first_dates("FREQ=YEARLY;BYMONTH=11;BYDAY=4TH", date(2024, 1, 1), 2),
        vec![date(2024, 11, 28), date(2025, 11, 27)]
    );
}

#[test]
fn never_matching_rules_end_instead_of_hanging() {
    for rule in [
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=31",
        "FREQ=DAILY;BYMONTH=4;BYMONTHDAY=31",
        "FREQ=WEEKLY;BYMONTH=2;BYDAY=MO;BYSETPOS=6",
        "FREQ=MONTHLY;BYDAY=6MO",
    ] {
        assert_eq!(first_dates(rule, date(2024, 1, 1), 1), vec![], "{rule}");
    }
}

#[test]
fn series_ends_at_the_end_of_the_calendar() {
    assert_eq!(
        first_dates("FREQ=YEARLY;INTERVAL=5000", date(2024, 6, 1), 5),
        vec![date(7024, 6, 1)]
    );
}
