use super::*;

#[test]
fn final_statuses_are_the_final_ones() {
    for status in DeliveryStatus::ALL {
        assert_eq!(FINAL_STATUSES.contains(&status.as_str()), status.is_final());
    }
}

#[test]
fn unknown_values_become_other_and_known_ones_stay() {
    assert_eq!(clamp("reminders", TOPICS), "reminders");
    assert_eq!(clamp("x-3f9a", TOPICS), OTHER);
    assert_eq!(clamp("Reminders", TOPICS), OTHER);
    assert_eq!(clamp("", REASONS), OTHER);
    assert_eq!(clamp("too_large", REASONS), "too_large");
}
