//! Unit tests of `parse.rs`.
use super::*;
use jiff::civil::date;

fn err(text: &str) -> String {
    match Rule::parse(text) {
        Ok(rule) => panic!("{text:?} parsed as {rule:?}"),
        Err(e) => {
            assert_eq!(e.code(), "invalid_rule");
            e.to_string()
        }
    }
}

#[test]
fn keywords_are_case_insensitive_and_trimmed() {
    let rule = Rule::parse("  Monthly ").unwrap();
    assert_eq!(rule.freq, Frequency::Monthly);
    assert!(rule.clamp);
    let weekdays = Rule::parse("WEEKDAYS").unwrap();
    assert_eq!(weekdays.freq, Frequency::Weekly);
    assert_eq!(weekdays.by_day.len(), 5);
    assert!(!Rule::parse("daily").unwrap().clamp);
}

#[test]
fn rrule_text_with_prefix_and_all_parts() {
    let rule: Rule =
        "RRULE:FREQ=MONTHLY;INTERVAL=2;BYDAY=2TU,-1FR,MO;BYMONTHDAY=-1,15;BYMONTH=1,12;BYSETPOS=1,-1;COUNT=7;WKST=SU"
            .parse()
            .unwrap();
    assert_eq!(rule.freq, Frequency::Monthly);
    assert_eq!(rule.interval, 2);
    assert_eq!(rule.by_month_day, vec![-1, 15]);
    assert_eq!(rule.by_month, vec![1, 12]);
    assert_eq!(rule.by_set_pos, vec![-1, 1]);
    assert_eq!(rule.count, Some(7));
    assert_eq!(rule.week_start, Weekday::Sunday);
    assert!(rule.by_day.contains(&ByDay {
        nth: Some(2),
        weekday: Weekday::Tuesday
    }));
    assert!(rule.by_day.contains(&ByDay {
        nth: Some(-1),
        weekday: Weekday::Friday
    }));
    assert!(rule.by_day.contains(&ByDay {
        nth: None,
        weekday: Weekday::Monday
    }));
    assert!(!rule.clamp);
}

#[test]
fn lower_case_rrule_and_trailing_semicolon() {
    let rule = Rule::parse("freq=weekly;byday=mo,we;").unwrap();
    assert_eq!(rule.freq, Frequency::Weekly);
    assert_eq!(rule.by_day.len(), 2);
}

#[test]
fn until_forms() {
    let r = Rule::parse("FREQ=DAILY;UNTIL=20241231").unwrap();
    assert_eq!(r.until, Some(Until::Date(date(2024, 12, 31))));
    let r = Rule::parse("FREQ=DAILY;UNTIL=20241231T083000").unwrap();
    assert_eq!(
        r.until,
        Some(Until::Floating(date(2024, 12, 31).at(8, 30, 0, 0)))
    );
    let r = Rule::parse("FREQ=DAILY;UNTIL=20241231T083000Z").unwrap();
    let expected: jiff::Timestamp = "2024-12-31T08:30:00Z".parse().unwrap();
    assert_eq!(r.until, Some(Until::Utc(expected)));
}

#[test]
fn errors_name_the_offending_part() {
    assert_eq!(err(""), "recurrence rule is empty");
    assert!(err("fortnightly").contains("\"fortnightly\""));
    assert!(err("FREQ=HOURLY").starts_with("invalid FREQ value \"HOURLY\""));
    assert!(err("FREQ=DAILY;INTERVAL=0").starts_with("invalid INTERVAL value \"0\""));
    assert!(err("FREQ=DAILY;INTERVAL=-2").contains("INTERVAL"));
    assert!(err("FREQ=DAILY;COUNT=abc").starts_with("invalid COUNT value \"ABC\""));
    assert!(err("FREQ=MONTHLY;BYDAY=8XX").starts_with("invalid BYDAY value \"8XX\""));
    assert!(err("FREQ=MONTHLY;BYDAY=0MO").contains("BYDAY"));
    assert!(err("FREQ=YEARLY;BYDAY=54MO").contains("BYDAY"));
    assert!(err("FREQ=MONTHLY;BYMONTHDAY=0").contains("BYMONTHDAY"));
    assert!(err("FREQ=MONTHLY;BYMONTHDAY=32").contains("BYMONTHDAY"));
    assert!(err("FREQ=YEARLY;BYMONTH=13").contains("BYMONTH"));
    assert!(err("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=0").contains("BYSETPOS"));
    assert!(err("FREQ=DAILY;UNTIL=2024-12-31").contains("UNTIL"));
    assert!(err("FREQ=DAILY;UNTIL=20240230").contains("UNTIL"));
    assert!(err("FREQ=DAILY;WKST=XX").contains("WKST"));
    assert_eq!(
        err("FREQ=DAILY;BYHOUR=9"),
        "rule part BYHOUR is not supported"
    );
    assert_eq!(err("FREQ=DAILY;FOO=1"), "unknown rule part \"FOO\"");
    assert_eq!(
        err("FREQ=DAILY;FREQ=WEEKLY"),
        "rule part FREQ is given more than once"
    );
    assert_eq!(err("INTERVAL=2"), "rule part FREQ is missing");
    assert!(err("FREQ=DAILY;BYDAY").contains("\"BYDAY\""));
    assert!(err("FREQ=DAILY;COUNT=2;UNTIL=20240101").contains("COUNT and UNTIL"));
    assert!(err("FREQ=WEEKLY;BYDAY=2TU").starts_with("rule part BYDAY"));
    assert!(err("FREQ=WEEKLY;BYMONTHDAY=1").starts_with("rule part BYMONTHDAY"));
    assert!(err("FREQ=MONTHLY;BYSETPOS=1").starts_with("rule part BYSETPOS"));
    assert!(err("FREQ=MONTHLY;BYDAY=").contains("BYDAY"));
}

#[test]
fn non_ascii_input_is_an_error_not_a_panic() {
    assert!(err("FREQ=MONTHLY;BYDAY=é").contains("BYDAY"));
    assert!(err("FREQ=MONTHLY;BYDAY=2é").contains("BYDAY"));
    assert!(err("FREQ=DAILY;UNTIL=2024é231").contains("UNTIL"));
    assert!(err("ǅaily").contains("keyword"));
}
