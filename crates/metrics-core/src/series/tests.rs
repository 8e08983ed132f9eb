use super::*;

fn count(key: &[&str], n: f64) -> Count {
    Count {
        key: key.iter().map(|k| (*k).to_owned()).collect(),
        n,
    }
}

fn snapshot() -> Snapshot {
    Snapshot {
        deliveries: vec![
            count(&["email", "sent"], 5.0),
            count(&["push", "failed"], 2.0),
        ],
        outbox_unpublished: 1.0,
        outbox_oldest_unpublished_seconds: 42.5,
        rejected_events: vec![
            count(&["task-events", "schema_violation"], 3.0),
            count(&["reminders", "malformed_json"], 1.0),
        ],
        generated_tasks: 4.0,
        scheduler_due_backlog: 6.0,
        scheduler_lag_seconds: 90.0,
        scheduled_reminders: vec![count(&["published"], 8.0)],
        deliveries_finished_total: vec![count(&["email", "sent"], 9.0)],
        rejected_events_total: vec![count(&["task-events", "invalid_rule"], 5.0)],
        scheduled_reminders_total: vec![count(&["skipped"], 2.0)],
        generated_tasks_total: 7.0,
        retention_oldest_seconds: vec![count(&["deliveries"], 86400.5)],
        schema_version: Some("0009_metric_counters".into()),
    }
}

/// The sample lines (no comments) of the exposition.
fn samples(text: &str) -> Vec<&str> {
    text.lines().filter(|l| !l.starts_with('#')).collect()
}

#[test]
fn every_series_of_the_contract_is_written_with_its_value() {
    let text = render(Some(&snapshot()), true);
    let lines = samples(&text);
    for expected in [
        r#"todo_deliveries{channel="email",status="sent"} 5"#,
        r#"todo_deliveries{channel="push",status="failed"} 2"#,
        r#"todo_deliveries{channel="email",status="pending"} 0"#,
        "todo_outbox_unpublished 1",
        "todo_outbox_oldest_unpublished_seconds 42.5",
        r#"todo_rejected_events{topic="task-events",reason="schema_violation"} 3"#,
        r#"todo_rejected_events{topic="reminders",reason="malformed_json"} 1"#,
        r#"todo_rejected_events{topic="reminders",reason="too_large"} 0"#,
        "todo_generated_tasks 4",
        "todo_scheduler_due_backlog 6",
        "todo_scheduler_lag_seconds 90",
        r#"todo_scheduled_reminders{state="published"} 8"#,
        r#"todo_scheduled_reminders{state="skipped"} 0"#,
        "todo_schema_ready 1",
        r#"todo_deliveries_finished_total{channel="email",status="sent"} 9"#,
        r#"todo_deliveries_finished_total{channel="push",status="failed"} 0"#,
        r#"todo_rejected_events_total{topic="task-events",reason="invalid_rule"} 5"#,
        r#"todo_scheduled_reminders_total{state="skipped"} 2"#,
        "todo_generated_tasks_total 7",
        r#"todo_retention_oldest_seconds{table="deliveries"} 86400.5"#,
        r#"todo_retention_oldest_seconds{table="rejected_events"} 0"#,
    ] {
        assert!(lines.contains(&expected), "missing {expected} in\n{text}");
    }
    // Every combination of the fixed sets, nothing else.
    let gauges = 8 + 1 + 1 + 2 * 8 + 1 + 1 + 1 + 2 + 1;
    let counters = 2 * 2 + 2 * 8 + 2 + 1 + 2;
    assert_eq!(lines.len(), gauges + counters, "{text}");
}

#[test]
fn each_family_has_help_then_its_type_before_its_samples() {
    let text = render(Some(&snapshot()), false);
    let types: Vec<(&str, &str)> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| l.split_once(' ').expect("name and type"))
        .collect();
    for (name, kind) in &types {
        // Prometheus conventions: counters end in _total, gauges do not.
        assert_eq!(
            *kind == "counter",
            name.ends_with("_total"),
            "{name} {kind}"
        );
        assert!(*kind == "counter" || *kind == "gauge", "{name} {kind}");
    }
    let names: Vec<&str> = types.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "todo_deliveries",
            "todo_outbox_unpublished",
            "todo_outbox_oldest_unpublished_seconds",
            "todo_rejected_events",
            "todo_generated_tasks",
            "todo_scheduler_due_backlog",
            "todo_scheduler_lag_seconds",
            "todo_scheduled_reminders",
            "todo_deliveries_finished_total",
            "todo_rejected_events_total",
            "todo_scheduled_reminders_total",
            "todo_generated_tasks_total",
            "todo_retention_oldest_seconds",
            "todo_schema_ready",
        ]
    );
    let lines: Vec<&str> = text.lines().collect();
    for name in names {
        let help = lines
            .iter()
            .position(|l| l.starts_with(&format!("# HELP {name} ")))
            .unwrap_or_else(|| panic!("no HELP for {name}"));
        assert!(lines[help + 1].starts_with(&format!("# TYPE {name} ")));
        let first_sample = lines
            .iter()
            .position(|l| l.starts_with(name) && !l.starts_with('#'))
            .unwrap_or(usize::MAX);
        let prefixed = lines
            .iter()
            .filter(|l| !l.starts_with('#'))
            .any(|l| l.starts_with(&format!("{name} ")) || l.starts_with(&format!("{name}{{")));
        assert!(
            !prefixed || first_sample > help + 1,
            "{name} sample before TYPE"
        );
    }
    assert!(samples(&text).contains(&"todo_schema_ready 0"));
}

#[test]
fn deliveries_always_have_all_eight_channel_status_pairs() {
    let mut s = snapshot();
    s.deliveries.clear();
    let text = render(Some(&s), true);
    let deliveries: Vec<&str> = samples(&text)
        .into_iter()
        .filter(|l| l.starts_with("todo_deliveries{"))
        .collect();
    assert_eq!(deliveries.len(), 8, "{text}");
    assert!(deliveries.iter().all(|l| l.ends_with(" 0")));
}

#[test]
fn without_a_snapshot_only_schema_readiness_is_written() {
    let text = render(None, false);
    assert_eq!(
        text,
        "# HELP todo_schema_ready 1 when the database schema is at the migration this build \
         expects, else 0.\n# TYPE todo_schema_ready gauge\ntodo_schema_ready 0\n"
    );
}

#[test]
fn a_rejected_topic_or_reason_outside_its_set_is_written_as_other() {
    let mut s = snapshot();
    s.rejected_events = vec![
        count(&["a\nb", "c\\d"], 1.0),
        count(&["x-9f3c", "malformed_json"], 2.0),
        count(&["reminders", "invented_reason"], 4.0),
    ];
    s.rejected_events_total = s.rejected_events.clone();
    let text = render(Some(&s), true);
    let lines = samples(&text);
    for family in ["todo_rejected_events", "todo_rejected_events_total"] {
        for expected in [
            format!(r#"{family}{{topic="other",reason="other"}} 1"#),
            format!(r#"{family}{{topic="other",reason="malformed_json"}} 2"#),
            format!(r#"{family}{{topic="reminders",reason="other"}} 4"#),
        ] {
            assert!(
                lines.contains(&expected.as_str()),
                "missing {expected} in\n{text}"
            );
        }
    }
    assert!(
        !text.contains("x-9f3c") && !text.contains("invented"),
        "{text}"
    );
}

#[test]
fn many_hostile_rows_cannot_add_series() {
    let mut s = snapshot();
    let baseline = samples(&render(Some(&s), true)).len();
    s.rejected_events = (0..1000)
        .map(|i| count(&[&format!("x-{i}"), &format!("r-{i}")], 1.0))
        .collect();
    s.rejected_events_total = s.rejected_events.clone();
    let text = render(Some(&s), true);
    // One `other`/`other` sample per family, and nothing else new.
    assert_eq!(samples(&text).len(), baseline + 2, "{text}");
    assert!(samples(&text)
        .contains(&r#"todo_rejected_events_total{topic="other",reason="other"} 1000"#));
}
