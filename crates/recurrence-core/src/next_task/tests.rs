use super::*;
use serde_json::json;

const FIRST: &str = "6f1c0f5e-8a3b-4c1d-9e2f-0a1b2c3d4e5f";

fn row(rule: Option<&str>) -> TaskRow {
    TaskRow {
        id: FIRST.to_owned(),
        series_id: None,
        occurrence: 1,
        due_at: Some("2026-03-23T08:00:00+00:00".to_owned()), // Mon 09:00 CET
        remind_at: Some("2026-03-23T07:30:00+00:00".to_owned()),
        completed_at: Some("2026-03-23T08:10:00+00:00".to_owned()),
        recurrence_rule: rule.map(str::to_owned),
        recurrence_anchor: "due".to_owned(),
        timezone: "Europe/Berlin".to_owned(),
        series_start: None,
    }
}

fn ts(text: &str) -> Timestamp {
    text.parse().expect("test timestamp")
}

fn create(row: &TaskRow) -> NewTask {
    match next_task(row, ts("2030-01-01T00:00:00Z")) {
        Ok(NextTask::Create(t)) => t,
        other => panic!("expected a task, got {other:?}"),
    }
}

#[test]
fn ids_are_uuid_v5_of_series_and_number_as_python_computes_them() {
    let series = Uuid::try_parse(FIRST).expect("uuid");
    // python3: uuid.uuid5(UUID('19471010-6798-461c-a0f3-f9731b0c5aff'), f'{FIRST}:2')
    assert_eq!(
        occurrence_id(&series, 2).to_string(),
        "72859d08-2c83-57be-a8f9-e0c5a7bc3368"
    );
    assert_eq!(
        occurrence_id(&series, 3).to_string(),
        "2c89d8b6-4ad8-579f-841f-5cff056468db"
    );
}

#[test]
fn weekly_across_the_dst_change_keeps_wall_clock_and_reminder_lead() {
    let t = create(&row(Some("weekly")));
    assert_eq!(t.due_at, "2026-03-30T09:00:00+02:00"); // CEST now
    assert_eq!(t.remind_at.as_deref(), Some("2026-03-30T06:30:00Z")); // 30 min before
    assert_eq!(t.occurrence, 2);
    assert_eq!(t.series_id, FIRST);
    assert_eq!(t.id, "72859d08-2c83-57be-a8f9-e0c5a7bc3368");
}

#[test]
fn later_occurrences_keep_the_series_and_count_on() {
    let mut r = row(Some("daily"));
    r.id = "00000000-0000-4000-8000-000000000002".to_owned();
    r.series_id = Some(FIRST.to_owned());
    r.occurrence = 2;
    r.remind_at = None;
    let t = create(&r);
    assert_eq!((t.occurrence, t.series_id.as_str()), (3, FIRST));
    assert_eq!(t.id, "2c89d8b6-4ad8-579f-841f-5cff056468db");
    assert_eq!(t.remind_at, None);
}

#[test]
fn event_completion_time_is_used_only_when_the_row_has_none() {
    let mut r = row(Some("daily"));
    r.recurrence_anchor = "completion".to_owned();
    assert_eq!(create(&r).due_at, "2026-03-24T09:10:00+01:00");
    r.completed_at = None;
    assert_eq!(create(&r).due_at, "2030-01-02T01:00:00+01:00");
}

#[test]
fn missing_due_at_falls_back_to_the_completion_anchor() {
    let mut r = row(Some("daily"));
    r.due_at = None;
    let t = create(&r);
    assert_eq!(t.due_at, "2026-03-24T09:10:00+01:00");
    assert_eq!(t.remind_at, None, "no due_at to measure the lead from");
}

#[test]
fn series_ends_and_non_recurring_tasks_are_answers_not_errors() {
    let at = ts("2026-03-23T09:00:00Z");
    assert_eq!(next_task(&row(None), at), Ok(NextTask::NotRecurring));
    let mut r = row(Some("FREQ=DAILY;COUNT=2"));
    r.occurrence = 2;
    assert_eq!(next_task(&r, at), Ok(NextTask::SeriesOver));
    assert_eq!(
        next_task(&row(Some("FREQ=DAILY;UNTIL=20260323")), at),
        Ok(NextTask::SeriesOver)
    );
}

#[test]
fn permanent_problems_are_rejections_with_reasons() {
    let at = ts("2026-03-23T09:00:00Z");
    let reason = |r: TaskRow| next_task(&r, at).expect_err("rejected").0;
    assert_eq!(reason(row(Some("FREQ=HOURLY"))), RejectReason::InvalidRule);
    let mut r = row(Some("daily"));
    r.timezone = "Mars/Olympus".to_owned();
    assert_eq!(reason(r), RejectReason::UnknownTimezone);
    let mut r = row(Some("daily"));
    r.recurrence_anchor = "whenever".to_owned();
    assert_eq!(reason(r), RejectReason::InvalidRule);
    let mut r = row(Some("daily"));
    r.due_at = Some("infinity".to_owned());
    assert_eq!(reason(r), RejectReason::SchemaViolation);
    let mut r = row(Some("daily"));
    r.occurrence = i64::from(i32::MAX);
    assert_eq!(reason(r), RejectReason::InvalidRule);
}

#[test]
fn payload_renames_id_and_normalises_times() {
    let stored = json!({"id": "abc", "title": "Pay rent", "due_at": "2026-03-30T09:00:00+02:00",
        "remind_at": null, "created_at": "2026-03-23T08:10:00.123456+00:00", "tags": ["a"]});
    let (id, payload) = task_created_payload(stored).expect("object with id");
    assert_eq!(id, "abc");
    assert_eq!(
        payload,
        json!({"task_id": "abc", "title": "Pay rent", "due_at": "2026-03-30T07:00:00Z",
            "remind_at": null, "created_at": "2026-03-23T08:10:00.123456Z", "tags": ["a"]})
    );
    assert_eq!(task_created_payload(json!([1])), None);
    assert_eq!(task_created_payload(json!({"title": "x"})), None);
}
