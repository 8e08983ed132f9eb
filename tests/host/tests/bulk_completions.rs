//! Bulk requests of `task.completed` (docs/CONTRACT.md, "Dapr
//! behaviour"): one statement reads the tasks and one creates the next
//! occurrences whatever the number of entries (counted on the wire,
//! `pg_proxy`); every occurrence is created and announced once.

mod recurrence_support;

use component_host::fakes::dapr::{BulkEntry, DeliverOptions};
use recurrence_support::*;

const DUE: &str = "2026-01-05T09:00:00Z";
const DONE: &str = "2026-01-05T10:00:00Z";

#[tokio::test]
async fn a_bulk_costs_two_statements_whether_it_carries_ten_or_a_hundred_completions() {
    let env = Env::start().await;
    let mut tasks = Vec::new();
    for _ in 0..110 {
        tasks.push(env.insert(&Task::recurring("weekly", DUE, DONE)).await);
    }
    let opts = DeliverOptions::new().event_type("task.completed");
    for (size, first) in [(10, 0), (100, 10)] {
        let entries: Vec<BulkEntry> = tasks[first..first + size]
            .iter()
            .map(|t| {
                env.driver
                    .bulk_entry("task-events", completed(t, DONE), &opts)
                    .expect("entry")
            })
            .collect();
        let (bulk, statements) = env
            .db
            .statements_during(env.driver.deliver_bulk("task-events", entries))
            .await;
        bulk.expect("bulk").assert_all_success(size);
        assert_eq!(statements, 2, "load and insert for {size} completions");
    }
    for task in &tasks {
        assert_eq!(env.series(task).await.len(), 1, "its next occurrence, once");
    }
    assert_eq!(env.sidecar.publishes_to("task-events").len(), 110);
    assert_eq!(env.task_count().await, 220);
}
