use super::*;
use jiff::civil::date;

#[test]
fn add_days_out_of_range_is_none() {
    assert_eq!(add_days(date(9999, 12, 31), 1), None);
    assert_eq!(add_days(date(2024, 2, 28), 1), Some(date(2024, 2, 29)));
}

#[test]
fn scope_ordinals() {
    // May 2024: Wednesdays are 1, 8, 15, 22, 29; the month has 31 days.
    let may = Scope::month(2024, 5).unwrap();
    let mut out = Vec::new();
    may.expand(
        ByDay {
            nth: Some(-1),
            weekday: Weekday::Wednesday,
        },
        &mut out,
    );
    may.expand(
        ByDay {
            nth: Some(5),
            weekday: Weekday::Wednesday,
        },
        &mut out,
    );
    may.expand(
        ByDay {
            nth: Some(5),
            weekday: Weekday::Tuesday,
        },
        &mut out,
    );
    assert_eq!(out, vec![date(2024, 5, 29), date(2024, 5, 29)]);
    let fifth_wed = ByDay {
        nth: Some(5),
        weekday: Weekday::Wednesday,
    };
    assert!(may.matches(fifth_wed, date(2024, 5, 29)));
    assert!(!may.matches(fifth_wed, date(2024, 5, 22)));
    // 2024 has 366 days; its first Monday is Jan 1, its last Dec 30.
    let year = Scope::year(2024).unwrap();
    let mut out = Vec::new();
    for nth in [1, -1, 53] {
        year.expand(
            ByDay {
                nth: Some(nth),
                weekday: Weekday::Monday,
            },
            &mut out,
        );
    }
    assert_eq!(
        out,
        vec![date(2024, 1, 1), date(2024, 12, 30), date(2024, 12, 30)]
    );
}
