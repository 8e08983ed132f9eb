use super::*;

const S: i64 = 1_000_000;
const NOW: i64 = 1_796_113_800 * S;

fn due(age_s: i64) -> Due {
    Due {
        task_id: format!("00000000-0000-0000-0000-{age_s:012}"),
        user_id: "u".into(),
        title: "t".into(),
        due_at_us: None,
        remind_at_us: NOW - age_s * S,
    }
}

#[test]
fn lateness_limit_is_inclusive() {
    assert_eq!(decide(NOW, NOW, 86_400), Decision::Publish);
    assert_eq!(decide(NOW, NOW - 86_400 * S, 86_400), Decision::Publish);
    assert_eq!(decide(NOW, NOW - 86_400 * S - 1, 86_400), Decision::Skip);
    // Zero: only reminders due this very microsecond are sent.
    assert_eq!(decide(NOW, NOW - 1, 0), Decision::Skip);
}

#[test]
fn extreme_values_do_not_overflow() {
    assert_eq!(decide(i64::MAX, i64::MIN, 86_400), Decision::Skip);
    assert_eq!(decide(NOW, NOW, i64::MAX), Decision::Publish);
}

#[test]
fn skips_do_not_count_against_the_batch() {
    let page = vec![due(90_000), due(88_000), due(60), due(30), due(10)];
    let split = split_page(page, NOW, 86_400, 2);
    assert_eq!(split.skip.len(), 2);
    assert_eq!(
        split
            .publish
            .iter()
            .map(|d| d.remind_at_us)
            .collect::<Vec<_>>(),
        vec![NOW - 60 * S, NOW - 30 * S],
        "oldest first"
    );
    assert_eq!(split.deferred, 1);
}

#[test]
fn no_room_publishes_nothing_but_still_skips() {
    let split = split_page(vec![due(100_000), due(5)], NOW, 86_400, 0);
    assert_eq!(
        (split.skip.len(), split.publish.len(), split.deferred),
        (1, 0, 1)
    );
}
