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
            count(&["task-events", "invalid_data"], 3.0),
            count(&["reminders", "unparseable \"json\""], 1.0),
        ],
        generated_tasks: 4.0,
        scheduler_due_backlog: 6.0,
        scheduler_lag_seconds: 90.0,
        scheduled_reminders: vec![count(&["published"], 8.0)],
        schema_version: Some("0005_metrics_indexes".into()),
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
        r#"todo_rejected_events{topic="task-events",reason="invalid_data"} 3"#,
        r#"todo_rejected_events{topic="reminders",reason="unparseable \"json\""} 1"#,
        "todo_generated_tasks 4",
        "todo_scheduler_due_backlog 6",
        "todo_scheduler_lag_seconds 90",
        r#"todo_scheduled_reminders{state="published"} 8"#,
        r#"todo_scheduled_reminders{state="skipped"} 0"#,
        "todo_schema_ready 1",
    ] {
        assert!(lines.contains(&expected), "missing {expected} in\n{text}");
    }
    assert_eq!(lines.len(), 8 + 1 + 1 + 2 + 1 + 1 + 1 + 2 + 1, "{text}");
}

#[test]
fn each_family_has_help_then_type_gauge_before_its_samples() {
    let text = render(Some(&snapshot()), false);
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| l.strip_suffix(" gauge").expect("every type is gauge"))
        .collect();
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
            "todo_schema_ready",
        ]
    );
    let lines: Vec<&str> = text.lines().collect();
    for name in names {
        let help = lines
            .iter()
            .position(|l| l.starts_with(&format!("# HELP {name} ")))
            .unwrap_or_else(|| panic!("no HELP for {name}"));
        assert_eq!(lines[help + 1], format!("# TYPE {name} gauge"));
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
fn a_rejected_topic_with_a_newline_or_backslash_cannot_break_the_line() {
    let mut s = snapshot();
    s.rejected_events = vec![count(&["a\nb", "c\\d"], 1.0)];
    let text = render(Some(&s), true);
    assert!(
        samples(&text).contains(&r#"todo_rejected_events{topic="a\nb",reason="c\\d"} 1"#),
        "{text}"
    );
}
