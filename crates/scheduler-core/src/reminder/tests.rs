use super::*;

const DEC_1: i64 = 1_796_113_800_000_000; // 2026-12-01T08:30:00Z

fn due() -> Due {
    Due {
        task_id: "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b".into(),
        user_id: "u-42".into(),
        title: "Pay rent".into(),
        due_at_us: Some(DEC_1 + 1_800_000_000),
        remind_at_us: DEC_1,
    }
}

#[test]
fn event_id_is_uuid_v5_of_task_and_fixed_remind_at() {
    // Python: uuid.uuid5(uuid.NAMESPACE_URL,
    //   "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b/2026-12-01T08:30:00.000000Z")
    assert_eq!(due().event_id(), "e4804f5d-6af1-58c7-bb1f-772a753b6c11");
}

#[test]
fn a_changed_remind_at_is_a_new_id_and_the_same_one_is_stable() {
    let a = due();
    let mut b = due();
    assert_eq!(a.event_id(), b.event_id());
    b.remind_at_us += 1;
    assert_ne!(a.event_id(), b.event_id());
}

#[test]
fn payload_has_exactly_the_contract_fields() {
    assert_eq!(
        due().payload(),
        json!({"task_id": "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b", "user_id": "u-42",
               "title": "Pay rent", "due_at": "2026-12-01T09:00:00Z",
               "remind_at": "2026-12-01T08:30:00Z"})
    );
}

#[test]
fn a_task_without_due_at_sends_null() {
    let mut d = due();
    d.due_at_us = None;
    assert_eq!(d.payload()["due_at"], Value::Null);
    assert!(d.payload().get("channels").is_none());
}

#[test]
fn reads_the_row_shape_the_sql_writes() {
    let row = json!({"task_id": "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b", "user_id": "u-42",
                     "title": "Pay rent", "due_at_us": null, "remind_at_us": DEC_1});
    let d: Due = serde_json::from_value(row).unwrap();
    assert_eq!(d.remind_at_us, DEC_1);
    assert_eq!(d.due_at_us, None);
}

#[test]
fn the_hashed_form_has_six_digits_and_z() {
    assert_eq!(fixed_micros(DEC_1), "2026-12-01T08:30:00.000000Z");
    assert_eq!(fixed_micros(DEC_1 + 7), "2026-12-01T08:30:00.000007Z");
    assert_eq!(fixed_micros(-1), "1969-12-31T23:59:59.999999Z");
    // 2024-02-29T23:59:59Z, a leap day's last second.
    assert_eq!(
        fixed_micros(1_709_251_199_000_000),
        "2024-02-29T23:59:59.000000Z"
    );
    // Postgres' last instant (294276 AD) has no RFC 3339 form.
    assert_eq!(fixed_micros(i64::MAX), format!("{}us", i64::MAX));
}

#[test]
fn payload_times_show_fractions_only_when_present() {
    assert_eq!(rfc3339(DEC_1).as_deref(), Some("2026-12-01T08:30:00Z"));
    assert_eq!(
        rfc3339(DEC_1 + 123_456).as_deref(),
        Some("2026-12-01T08:30:00.123456Z")
    );
    assert_eq!(
        rfc3339(DEC_1 + 500_000).as_deref(),
        Some("2026-12-01T08:30:00.500000Z")
    );
    assert_eq!(rfc3339(-1).as_deref(), Some("1969-12-31T23:59:59.999999Z"));
}

#[test]
fn a_due_at_past_year_9999_is_sent_as_no_due_time() {
    let mut d = due();
    // 10000-01-01T00:00:00Z, which Postgres holds and RFC 3339 cannot write.
    d.due_at_us = Some(253_402_300_800_000_000);
    assert_eq!(d.payload()["due_at"], Value::Null);
    assert_eq!(d.payload()["remind_at"], "2026-12-01T08:30:00Z");
}
