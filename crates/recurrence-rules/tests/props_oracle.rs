//! Property: for INTERVAL=1 rules, the engine produces exactly the dates of
//! a day-by-day brute-force model, at DTSTART's wall-clock time (or moved
//! forward by the gap / at the first instant of a fold).
// Test code: a failed step stops the test loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
use common::oracle::{spec, Spec};
use proptest::prelude::*;
use recurrence_rules::jiff::civil::{Date, DateTime};
use recurrence_rules::jiff::tz::AmbiguousOffset;
use recurrence_rules::jiff::{Span, ZonedDateTime};
use recurrence_rules::{preview, time_zone, Rule};

/// Zones with DST gaps/folds of 1 h, 30 min and at midnight; none skips a
/// whole day (that case is covered in props_api.rs).
const ZONES: [&str; 6] = [
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "America/Sao_Paulo",
    "Asia/Kolkata",
];

fn start() -> impl Strategy<Value = DateTime> {
    (
        1995i16..2035,
        1i8..=12,
        1i8..=31,
        prop_oneof![0i8..4, 0i8..24],
        prop_oneof![Just(0i8), Just(30), 0i8..60],
    )
        .prop_map(|(y, m, d, h, min)| {
            let day = d.min(Date::new(y, m, 1).unwrap().days_in_month());
            DateTime::new(y, m, day, h, min, 0, 0).unwrap()
        })
}

/// Checks one occurrence against the civil datetime it should represent.
fn check_time(zone: &str, expected: DateTime, got: &ZonedDateTime) -> Result<(), TestCaseError> {
    let tz = time_zone(zone).unwrap();
    match tz.to_ambiguous_zoned_datetime(expected).offset() {
        AmbiguousOffset::Unambiguous { .. } => {
            prop_assert_eq!(got.datetime(), expected);
        }
        AmbiguousOffset::Gap { before, after } => {
            // Moved forward by the length of the gap.
            let gap = after.duration_since(before);
            prop_assert_eq!(got.datetime(), expected.checked_add(gap).unwrap());
        }
        AmbiguousOffset::Fold { before, .. } => {
            prop_assert_eq!(got.datetime(), expected);
            prop_assert_eq!(got.offset(), before);
        }
    }
    Ok(())
}

fn run(spec: &Spec, zone: &str, civil_start: DateTime) -> Result<(), TestCaseError> {
    let text = spec.text();
    let rule = Rule::parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
    let tz = time_zone(zone).unwrap();
    let start = tz.to_zoned_datetime(civil_start).unwrap();
    // The series' wall-clock time is the start instant's (a gap start moves).
    let dtstart = start.datetime();
    let got = preview(&rule, start.timestamp(), &tz, 6).unwrap();
    let end = match got.last() {
        Some(last) if got.len() == 6 => last.date(),
        // Fewer: the engine says the series is over; look 30 years ahead.
        _ => dtstart.date().checked_add(Span::new().years(30)).unwrap(),
    };
    let expected = spec.brute_force(dtstart.date(), end);
    let got_dates: Vec<Date> = got.iter().map(|z| z.date()).collect();
    // Gap shifts never cross midnight in these zones, so dates compare directly.
    prop_assert_eq!(
        &got_dates,
        &expected,
        "rule {} from {} in {}",
        text,
        dtstart,
        zone
    );
    for (zoned, date) in got.iter().zip(&expected) {
        check_time(zone, date.to_datetime(dtstart.time()), zoned)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn engine_matches_brute_force(spec in spec(), zone in prop::sample::select(&ZONES[..]), civil_start in start()) {
        run(&spec, zone, civil_start)?;
    }
}
