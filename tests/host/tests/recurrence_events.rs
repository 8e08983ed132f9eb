//! `task.completed` → the next occurrence, end to end through the built
//! `recurrence.wasm`: the new row (checked with a direct client), the
//! `task.created` the fake sidecar received, and Dapr's reading of the answer.
//! Rule kinds, chained completions, late completions with both anchors,
//! DST, COUNT and UNTIL, and the events that are ignored.

mod recurrence_support;

use component_host::fakes::dapr::{trace_id, AppStatus, DeliverOptions};
use recurrence_support::{answered, at, instant, Env, Task};
use serde_json::Value;

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// The columns of docs/CONTRACT.md, "Tables", `id` published as `task_id`.
const PAYLOAD_FIELDS: [&str; 17] = [
    "task_id",
    "user_id",
    "title",
    "description",
    "priority",
    "tags",
    "due_at",
    "remind_at",
    "completed",
    "completed_at",
    "recurrence_rule",
    "recurrence_anchor",
    "timezone",
    "series_id",
    "occurrence",
    "created_at",
    "updated_at",
];

/// Completes `task` (inserted first) and checks everything about the one
/// occurrence it must create: returns the new row.
async fn complete_and_check(
    env: &Env,
    task: &Task,
    completed_at: &str,
    due: &str,
    remind: Option<&str>,
) -> Value {
    let id = env.insert(task).await;
    let series_id = task.series_id.clone().unwrap_or_else(|| id.clone());
    let occurrence = task.occurrence + 1;
    let before = env.sidecar.publishes().len();
    let delivery = env
        .complete(
            &id,
            completed_at,
            DeliverOptions::new().traceparent(TRACEPARENT),
        )
        .await;
    let rule = task.rule.as_deref().unwrap_or_default();
    assert!(
        answered(&delivery, AppStatus::Success),
        "{rule}: {}",
        delivery.body_text()
    );

    let rows: Vec<Value> = env
        .series(&series_id)
        .await
        .into_iter()
        .filter(|r| r["occurrence"] == occurrence)
        .collect();
    assert_eq!(rows.len(), 1, "{rule}: one row for occurrence {occurrence}");
    let row = rows.into_iter().next().unwrap_or_default();
    let new_id = env.expected_id(&series_id, occurrence).await;
    assert_eq!(
        row["id"],
        new_id.as_str(),
        "{rule}: id is UUID v5 of (series, occurrence)"
    );
    assert_eq!(instant(&row["due_at"]), at(due), "{rule}: due_at");
    match remind {
        Some(r) => assert_eq!(instant(&row["remind_at"]), at(r), "{rule}: remind_at"),
        None => assert_eq!(row["remind_at"], Value::Null, "{rule}: remind_at"),
    }
    assert_eq!(row["series_id"], series_id.as_str());
    assert_eq!(row["completed"], false);
    assert_eq!(row["completed_at"], Value::Null);
    for (column, want) in [
        ("user_id", task.user_id.as_str()),
        ("title", &task.title),
        ("recurrence_anchor", &task.anchor),
        ("timezone", &task.timezone),
    ] {
        assert_eq!(row[column], want, "{rule}: {column} copied");
    }
    assert_eq!(row["recurrence_rule"].as_str(), task.rule.as_deref());
    assert_eq!(row["description"].as_str(), task.description.as_deref());
    assert_eq!(row["priority"].as_str(), task.priority.as_deref());
    assert_eq!(row["tags"], serde_json::json!(["home", "money"]));

    let publishes = env.sidecar.publishes();
    assert_eq!(publishes.len(), before + 1, "{rule}: one task.created");
    let p = publishes.last().cloned().unwrap_or_else(|| unreachable!());
    assert_eq!(
        (p.pubsub.as_str(), p.topic.as_str()),
        ("kafka-pubsub", "task-events")
    );
    assert_eq!(
        p.cloudevent_id.as_deref(),
        Some(new_id.as_str()),
        "{rule}: CloudEvent id = task id"
    );
    assert_eq!(p.cloudevent_type.as_deref(), Some("task.created"));
    assert_eq!(
        trace_id(p.traceparent.as_deref()),
        trace_id(Some(TRACEPARENT)),
        "{rule}: trace continues"
    );
    assert_eq!(p.content_type.as_deref(), Some("application/json"));
    let data = p.data.unwrap_or_default();
    let mut keys: Vec<&str> = data
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    keys.sort_unstable();
    let mut want = PAYLOAD_FIELDS.to_vec();
    want.sort_unstable();
    assert_eq!(keys, want, "{rule}: payload has the contract's columns");
    assert_eq!(data["task_id"], new_id.as_str());
    assert_eq!(instant(&data["due_at"]), at(due));
    for column in [
        "user_id",
        "title",
        "tags",
        "series_id",
        "occurrence",
        "recurrence_rule",
        "timezone",
        "completed",
    ] {
        assert_eq!(
            data[column], row[column],
            "{rule}: payload {column} is the row's"
        );
    }
    row
}

#[tokio::test]
async fn happy_path_for_each_rule_kind() {
    let env = Env::start().await;
    // (rule, zone, due, completed, next due) — instants in UTC.
    let cases = [
        (
            "daily",
            "UTC",
            "2026-01-05T09:00:00Z",
            "2026-01-05T10:00:00Z",
            "2026-01-06T09:00:00Z",
        ),
        // Friday -> Monday.
        (
            "weekdays",
            "UTC",
            "2026-01-09T09:00:00Z",
            "2026-01-09T10:00:00Z",
            "2026-01-12T09:00:00Z",
        ),
        (
            "weekly",
            "America/New_York",
            "2026-01-05T14:00:00Z",
            "2026-01-05T15:00:00Z",
            "2026-01-12T14:00:00Z",
        ),
        // Keyword monthly clamps Jan 31 to Feb 28.
        (
            "monthly",
            "UTC",
            "2026-01-31T09:00:00Z",
            "2026-01-31T10:00:00Z",
            "2026-02-28T09:00:00Z",
        ),
        // Keyword yearly clamps 29 Feb to 28 Feb.
        (
            "yearly",
            "UTC",
            "2024-02-29T09:00:00Z",
            "2024-02-29T10:00:00Z",
            "2025-02-28T09:00:00Z",
        ),
        // Every 2nd Tuesday, 09:00 Berlin, across the October DST change.
        (
            "FREQ=MONTHLY;BYDAY=2TU",
            "Europe/Berlin",
            "2026-10-13T07:00:00Z",
            "2026-10-13T08:00:00Z",
            "2026-11-10T08:00:00Z",
        ),
        // Last weekday of the month.
        (
            "RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
            "UTC",
            "2026-01-30T09:00:00Z",
            "2026-01-30T09:30:00Z",
            "2026-02-27T09:00:00Z",
        ),
    ];
    for (rule, zone, due, completed, next) in cases {
        let task = Task::recurring(rule, due, completed).zone(zone);
        let row = complete_and_check(&env, &task, completed, next, None).await;
        assert_eq!(
            row["occurrence"], 2,
            "{rule}: the second task of its series"
        );
    }
}

#[tokio::test]
async fn completing_the_created_task_continues_the_series_from_its_start() {
    let env = Env::start().await;
    // Monthly from Jan 31: Feb 28, then Mar 31 (not Mar 28: the series'
    // first due_at is read with the task), reminders 1 day before.
    let first = Task::recurring("monthly", "2026-01-31T09:00:00Z", "2026-01-31T09:05:00Z")
        .remind_at("2026-01-30T09:00:00Z");
    let second = complete_and_check(
        &env,
        &first,
        "2026-01-31T09:05:00Z",
        "2026-02-28T09:00:00Z",
        Some("2026-02-27T09:00:00Z"),
    )
    .await;
    let series = second["series_id"].as_str().unwrap_or_default().to_owned();
    let second_id = second["id"].as_str().unwrap_or_default().to_owned();
    env.pg
        .execute(
            "UPDATE tasks SET completed = true, completed_at = '2026-02-28T12:00:00Z' WHERE id = $1::text::uuid",
            &[&second_id],
        )
        .await
        .expect("complete the second task");
    let before = env.sidecar.publishes().len();
    let d = env
        .complete(&second_id, "2026-02-28T12:00:00Z", DeliverOptions::new())
        .await;
    assert!(answered(&d, AppStatus::Success), "{}", d.body_text());
    let rows = env.series(&series).await;
    let occurrences: Vec<i64> = rows
        .iter()
        .filter_map(|r| r["occurrence"].as_i64())
        .collect();
    assert_eq!(occurrences, [2, 3]);
    let third = rows.last().cloned().unwrap_or_default();
    assert_eq!(instant(&third["due_at"]), at("2026-03-31T09:00:00Z"));
    assert_eq!(instant(&third["remind_at"]), at("2026-03-30T09:00:00Z"));
    assert_eq!(third["id"], env.expected_id(&series, 3).await.as_str());
    assert_eq!(env.sidecar.publishes().len(), before + 1);
}

#[tokio::test]
async fn late_completion_creates_one_future_task_with_either_anchor() {
    let env = Env::start().await;
    // Weekly, due Mon Jan 5 09:00, done three weeks and a bit late.
    let due = Task::recurring("weekly", "2026-01-05T09:00:00Z", "2026-01-27T15:30:00Z");
    let row = complete_and_check(
        &env,
        &due,
        "2026-01-27T15:30:00Z",
        "2026-02-02T09:00:00Z",
        None,
    )
    .await;
    assert_eq!(
        row["occurrence"], 2,
        "COUNT counts tasks: skipped dates take no numbers"
    );
    // Anchor completion: a week after the completion, at its time of day.
    let completion = Task::recurring("weekly", "2026-01-05T09:00:00Z", "2026-01-27T15:30:00Z")
        .anchor("completion");
    let row = complete_and_check(
        &env,
        &completion,
        "2026-01-27T15:30:00Z",
        "2026-02-03T15:30:00Z",
        None,
    )
    .await;
    assert_eq!(row["occurrence"], 2);
    // Late with COUNT=3: still tasks 2 and 3, then the end.
    let counted = Task::recurring(
        "FREQ=WEEKLY;COUNT=3",
        "2026-01-05T09:00:00Z",
        "2026-02-20T10:00:00Z",
    );
    complete_and_check(
        &env,
        &counted,
        "2026-02-20T10:00:00Z",
        "2026-02-23T09:00:00Z",
        None,
    )
    .await;
}

#[tokio::test]
async fn nine_oclock_berlin_stays_nine_oclock_across_dst() {
    let env = Env::start().await;
    // Spring: Mon Mar 23 09:00 CET (08:00Z) -> Mon Mar 30 09:00 CEST (07:00Z);
    // the reminder keeps its 30 minutes.
    let spring = Task::recurring("weekly", "2026-03-23T08:00:00Z", "2026-03-23T08:10:00Z")
        .zone("Europe/Berlin")
        .remind_at("2026-03-23T07:30:00Z");
    let next_spring = complete_and_check(
        &env,
        &spring,
        "2026-03-23T08:10:00Z",
        "2026-03-30T07:00:00Z",
        Some("2026-03-30T06:30:00Z"),
    )
    .await;
    // Autumn: daily 09:00 CEST on Sat Oct 24 -> Sun Oct 25 09:00 CET (08:00Z).
    let autumn = Task::recurring("daily", "2026-10-24T07:00:00Z", "2026-10-24T07:30:00Z")
        .zone("Europe/Berlin");
    let next_autumn = complete_and_check(
        &env,
        &autumn,
        "2026-10-24T07:30:00Z",
        "2026-10-25T08:00:00Z",
        None,
    )
    .await;
    // 09:00 local both times: one hour apart in UTC across the two changes
    // (07:00Z in summer time, 08:00Z in winter time).
    let hour = |row: &Value| instant(&row["due_at"]).format("%H:%M").to_string();
    assert_eq!(
        (hour(&next_spring), hour(&next_autumn)),
        ("07:00".to_owned(), "08:00".to_owned())
    );
}

#[tokio::test]
async fn count_exhausted_and_until_passed_create_nothing() {
    let env = Env::start().await;
    let series = uuid::Uuid::new_v4().to_string();
    let last = Task::recurring(
        "FREQ=DAILY;COUNT=3",
        "2026-01-07T09:00:00Z",
        "2026-01-07T09:10:00Z",
    )
    .in_series(&series, 3);
    let until = Task::recurring(
        "FREQ=WEEKLY;UNTIL=20260110T000000Z",
        "2026-01-05T09:00:00Z",
        "2026-01-05T09:10:00Z",
    );
    let late_until = Task::recurring(
        "FREQ=DAILY;UNTIL=20260110",
        "2026-01-08T09:00:00Z",
        "2026-01-12T09:00:00Z",
    );
    for task in [last, until, late_until] {
        let id = env.insert(&task).await;
        let d = env
            .complete(&id, "2026-01-07T09:10:00Z", DeliverOptions::new())
            .await;
        assert!(
            answered(&d, AppStatus::Success),
            "{:?}: {}",
            task.rule,
            d.body_text()
        );
    }
    assert_eq!(env.task_count().await, 3, "no new task");
    assert!(
        env.sidecar.publish_attempts().is_empty(),
        "nothing published"
    );
    assert!(env.rejected().await.is_empty());
    assert_eq!(
        env.app.logs().matches("series is over").count(),
        3,
        "{}",
        env.app.logs()
    );
}

#[tokio::test]
async fn other_types_non_recurring_events_and_rule_less_tasks_are_acknowledged() {
    let env = Env::start().await;
    let task = Task::recurring("daily", "2026-01-05T09:00:00Z", "2026-01-05T10:00:00Z");
    let id = env.insert(&task).await;
    for event_type in [
        "task.created",
        "task.updated",
        "task.deleted",
        "com.dapr.event.sent",
    ] {
        let d = env
            .driver
            .deliver(
                "task-events",
                recurrence_support::completed(&id, "2026-01-05T10:00:00Z"),
                DeliverOptions::new().event_type(event_type),
            )
            .await
            .expect("delivery");
        assert!(
            answered(&d, AppStatus::Success),
            "{event_type}: {}",
            d.body_text()
        );
    }
    // has_recurrence false: not even looked up (an unknown id is no DROP).
    let mut data =
        recurrence_support::completed(&uuid::Uuid::new_v4().to_string(), "2026-01-05T10:00:00Z");
    data["has_recurrence"] = false.into();
    let d = env
        .driver
        .deliver(
            "task-events",
            data,
            DeliverOptions::new().event_type("task.completed"),
        )
        .await
        .expect("delivery");
    assert!(answered(&d, AppStatus::Success), "{}", d.body_text());
    // A task whose rule was removed: nothing to create, logged.
    let mut plain = Task::recurring("daily", "2026-01-05T09:00:00Z", "2026-01-05T10:00:00Z");
    plain.rule = None;
    let plain_id = env.insert(&plain).await;
    let d = env
        .complete(
            &plain_id,
            "2026-01-05T10:00:00Z",
            DeliverOptions::new().id("ev-no-rule"),
        )
        .await;
    assert!(answered(&d, AppStatus::Success), "{}", d.body_text());
    assert!(
        env.app
            .logs()
            .lines()
            .any(|l| l.contains("no recurrence rule") && l.contains("ev-no-rule")),
        "{}",
        env.app.logs()
    );

    assert_eq!(env.task_count().await, 2);
    assert!(env.sidecar.publish_attempts().is_empty());
    assert!(env.rejected().await.is_empty());
}

/// The same trace rule as the notification service (README, "Logs and
/// traces"): the delivery's `traceparent` header over the envelope's, in
/// the `task.created` publish and in the component's log line.
#[tokio::test]
async fn the_announcement_and_the_log_line_follow_the_delivery_header() {
    let env = Env::start().await;
    let header = "00-11111111111111111111111111111111-2222222222222222-01";
    let task = Task::recurring("FREQ=DAILY", "2026-03-02T09:00:00Z", "2026-03-02T10:00:00Z");
    let id = env.insert(&task).await;
    let options = DeliverOptions::new()
        .traceparent(TRACEPARENT)
        .header_traceparent(Some(header));
    let delivery = env.complete(&id, "2026-03-02T10:00:00Z", options).await;
    assert!(
        answered(&delivery, AppStatus::Success),
        "{}",
        delivery.body_text()
    );
    let published = env.sidecar.publishes_to("task-events");
    assert_eq!(published.len(), 1);
    assert_eq!(
        trace_id(published[0].traceparent.as_deref()),
        trace_id(Some(header))
    );
    let out = env.app.component_stdout("recurrence");
    let created: Vec<Value> = out
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["msg"] == "next occurrence created")
        .collect();
    assert_eq!(created.len(), 1, "{out}");
    assert_eq!(created[0]["trace_id"], "11111111111111111111111111111111");
    assert_eq!(created[0]["task_id"], id.as_str());
    assert_eq!(
        created[0]["event_id"],
        delivery.event_id.as_deref().unwrap_or_default()
    );
    assert_eq!(created[0]["component"], "recurrence");
}
