//! Properties of the public API on arbitrary rules, zones and instants:
//! never panics, strictly increasing, COUNT/UNTIL respected, and
//! `next_occurrence` agrees with `preview`.

mod common;
use common::oracle::spec;
use proptest::prelude::*;
use recurrence_rules::jiff::{SignedDuration, Timestamp, ZonedDateTime};
use recurrence_rules::{next_occurrence, preview, time_zone, Anchor, CompletedTask, Rule};

const ZONES: [&str; 9] = [
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "Pacific/Apia", // skipped 2011-12-30 entirely
    "Pacific/Chatham",
    "America/Sao_Paulo",
    "Asia/Kathmandu",
    "Antarctica/Troll",
];

/// Rule text: keywords, generated valid RRULEs (any INTERVAL, optional
/// COUNT or UNTIL) and near-miss junk built from RRULE-like pieces.
fn rule_text() -> impl Strategy<Value = String> {
    let keyword = prop::sample::select(vec!["daily", "weekdays", "weekly", "monthly", "yearly"])
        .prop_map(str::to_owned);
    let generated = (
        spec(),
        1u32..5,
        prop::option::of(prop_oneof![
            (1u32..12).prop_map(|n| format!("COUNT={n}")),
            (1996i32..2040, 1u32..13, 1u32..29)
                .prop_map(|(y, m, d)| format!("UNTIL={y:04}{m:02}{d:02}")),
            (1996i32..2040, 1u32..13).prop_map(|(y, m)| format!("UNTIL={y:04}{m:02}15T120000Z")),
        ]),
    )
        .prop_map(|(mut spec, interval, end)| {
            spec.interval = interval;
            let mut text = spec.text();
            if let Some(end) = end {
                text = format!("{text};{end}");
            }
            text
        });
    let name = prop::sample::select(vec![
        "FREQ",
        "INTERVAL",
        "BYDAY",
        "BYMONTHDAY",
        "BYMONTH",
        "BYSETPOS",
        "COUNT",
        "UNTIL",
        "WKST",
        "BYHOUR",
        "freq",
        "",
    ]);
    let value = prop_oneof![
        prop::sample::select(vec![
            "DAILY", "WEEKLY", "MONTHLY", "YEARLY", "HOURLY", "MO", "-1FR", "53SU", "2TU,TH"
        ])
        .prop_map(str::to_owned),
        "[-+0-9A-Z,Té]{0,10}",
    ];
    let junk =
        (any::<bool>(), prop::collection::vec((name, value), 0..6)).prop_map(|(prefix, parts)| {
            let body: Vec<String> = parts.iter().map(|(n, v)| format!("{n}={v}")).collect();
            format!("{}{}", if prefix { "RRULE:" } else { "" }, body.join(";"))
        });
    prop_oneof![keyword, generated, junk]
}

fn instant(range: std::ops::Range<i64>) -> impl Strategy<Value = Timestamp> {
    range.prop_map(|s| Timestamp::from_second(s).unwrap())
}

/// 1990 .. 2040 in seconds.
const NORMAL: std::ops::Range<i64> = 631_152_000..2_208_988_800;

fn assert_increasing(start: Timestamp, items: &[ZonedDateTime]) -> Result<(), TestCaseError> {
    let mut last = start;
    for z in items {
        prop_assert!(z.timestamp() > last, "{} not after {}", z, last);
        last = z.timestamp();
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn parser_never_panics(text in any::<String>()) {
        let _ = Rule::parse(&text);
        let _ = time_zone(&text);
        let _ = text.parse::<Anchor>();
    }

    #[test]
    fn rule_like_text_never_panics_and_is_increasing(
        text in rule_text(),
        zone in prop::sample::select(&ZONES[..]),
        start in instant(NORMAL),
        late in 0i64..90 * 86_400,
        occurrence in 0u32..20,
    ) {
        let Ok(rule) = Rule::parse(&text) else { return Ok(()) };
        let tz = time_zone(zone).unwrap();
        let items = preview(&rule, start, &tz, 12).unwrap();
        assert_increasing(start, &items)?;
        if let Some(count) = rule.count() {
            prop_assert!(items.len() < count as usize);
        }
        let task = CompletedTask {
            due_at: start,
            occurrence,
            completed_at: start + SignedDuration::from_secs(late),
            series_start: None,
        };
        for anchor in [Anchor::Due, Anchor::Completion] {
            if let Some(next) = next_occurrence(&rule, &tz, anchor, &task).unwrap() {
                prop_assert!(next.due_at.timestamp() > task.completed_at);
                prop_assert!(next.occurrence > occurrence.max(1));
                if let Some(count) = rule.count() {
                    prop_assert!(next.occurrence <= count);
                }
            }
        }
    }

    #[test]
    fn until_is_respected(spec in spec(), zone in prop::sample::select(&ZONES[..]), start in instant(NORMAL), days in 0i64..400) {
        let until = start + SignedDuration::from_hours(24 * days);
        let text = format!("{};UNTIL={}", spec.text(), until.strftime("%Y%m%dT%H%M%SZ"));
        let rule = Rule::parse(&text).unwrap();
        let tz = time_zone(zone).unwrap();
        for z in preview(&rule, start, &tz, 20).unwrap() {
            prop_assert!(z.timestamp() <= until);
        }
    }

    /// Completing every task on time, with the series start known, walks
    /// exactly the preview's dates, numbered 2, 3, ...; the series ends
    /// (None) exactly where the preview does.
    #[test]
    fn chained_completions_follow_the_preview(
        text in rule_text(),
        zone in prop::sample::select(&ZONES[..]),
        start in instant(NORMAL),
        with_start in any::<bool>(),
    ) {
        let Ok(rule) = Rule::parse(&text) else { return Ok(()) };
        let tz = time_zone(zone).unwrap();
        // Without the series start only UTC RRULE text is exact (keywords
        // clamp, and gap-shifted times would become the new anchor).
        prop_assume!(with_start || (zone == "UTC" && !rule.clamps_to_month_end()));
        let expected = preview(&rule, start, &tz, 8).unwrap();
        let mut task = CompletedTask { due_at: start, occurrence: 1, completed_at: start, series_start: with_start.then_some(start) };
        for (i, want) in expected.iter().enumerate() {
            let next = next_occurrence(&rule, &tz, Anchor::Due, &task).unwrap();
            let next = next.ok_or_else(|| TestCaseError::fail(format!("{text}: ended before {want}")))?;
            prop_assert_eq!(&next.due_at, want, "{} step {}", text, i);
            prop_assert_eq!(next.occurrence as usize, i + 2);
            task = CompletedTask { due_at: next.due_at.timestamp(), occurrence: next.occurrence, completed_at: next.due_at.timestamp(), ..task };
        }
        if expected.len() < 8 {
            prop_assert!(next_occurrence(&rule, &tz, Anchor::Due, &task).unwrap().is_none());
        }
    }

    /// A late completion (anchor due) gives the first preview date after
    /// the completion, numbered by its position in the series.
    #[test]
    fn late_completion_picks_the_first_future_date(
        text in rule_text(),
        zone in prop::sample::select(&ZONES[..]),
        start in instant(NORMAL),
        late in 0i64..120 * 86_400,
    ) {
        let Ok(rule) = Rule::parse(&text) else { return Ok(()) };
        let tz = time_zone(zone).unwrap();
        let completed_at = start + SignedDuration::from_secs(late);
        let series = preview(&rule, start, &tz, 400).unwrap();
        let position = series.iter().position(|z| z.timestamp() > completed_at);
        prop_assume!(position.is_some() || series.len() < 400);
        let task = CompletedTask { due_at: start, occurrence: 1, completed_at, series_start: None };
        let next = next_occurrence(&rule, &tz, Anchor::Due, &task).unwrap();
        match position {
            Some(i) => {
                let next = next.ok_or_else(|| TestCaseError::fail("ended early"))?;
                prop_assert_eq!(&next.due_at, &series[i]);
                prop_assert_eq!(next.occurrence as usize, i + 2);
            }
            None => prop_assert!(next.is_none()),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Whole supported range, including the ends of the calendar and
    /// anchors thousands of years apart: an answer or an error, no panic.
    #[test]
    fn extreme_instants_never_panic(
        text in rule_text(),
        zone in prop::sample::select(&ZONES[..]),
        due in instant(-377_705_116_800..253_402_207_200),
        completed in instant(-377_705_116_800..253_402_207_200),
    ) {
        let Ok(rule) = Rule::parse(&text) else { return Ok(()) };
        let tz = time_zone(zone).unwrap();
        let _ = preview(&rule, due, &tz, 5);
        let task = CompletedTask { due_at: due, occurrence: 1, completed_at: completed, series_start: Some(completed) };
        for anchor in [Anchor::Due, Anchor::Completion] {
            let _ = next_occurrence(&rule, &tz, anchor, &task);
        }
    }
}
