//! Bulk requests of `reminder.due` (docs/CONTRACT.md, "Dapr behaviour"):
//! the reminders of a bulk are one set, so its database work does not grow
//! with its entries (counted on the wire, `pg_proxy`), and each entry is
//! still answered exactly as if it had come alone.

mod notification_events_support;

use component_host::fakes::dapr::{AppStatus, BulkEntry, DeliverOptions};
use notification_events_support::*;
use serde_json::{json, Value};

fn entry(env: &Env, data: Value) -> BulkEntry {
    env.driver
        .bulk_entry(
            "reminders",
            data,
            &DeliverOptions::new().event_type("reminder.due"),
        )
        .expect("entry")
}

/// A two-channel reminder of user `n` (its own task).
fn reminder_of(n: usize) -> Value {
    json!({
        "task_id": uuid::Uuid::new_v4().to_string(), "user_id": format!("user-{n}"),
        "title": "Bulk", "due_at": DUE_AT, "remind_at": REMIND_AT,
    })
}

async fn subscribers(env: &Env, range: std::ops::Range<usize>) {
    for n in range {
        let user = format!("user-{n}");
        env.subscriber(
            &user,
            Some(&format!("user{n}@example.com")),
            &["email", "push"],
        )
        .await;
        env.device(&user, &format!("device-token-{n:04}-abcdefghijklmnop"))
            .await;
    }
}

#[tokio::test]
async fn a_bulk_costs_three_statements_whether_it_carries_ten_or_a_hundred_reminders() {
    let env = Env::start().await;
    subscribers(&env, 0..110).await;
    for (size, first) in [(10, 0), (100, 10)] {
        let entries: Vec<BulkEntry> = (first..first + size)
            .map(|n| entry(&env, reminder_of(n)))
            .collect();
        let (bulk, statements) = env
            .db
            .statements_during(env.driver.deliver_bulk("reminders", entries))
            .await;
        bulk.expect("bulk").assert_all_success(size);
        assert_eq!(statements, 3, "lookup, claim, record for {size} reminders");
    }
    // Every reminder reached both channels once; one access token for all.
    let rows = env.deliveries().await;
    assert_eq!(rows.len(), 220);
    assert!(rows
        .iter()
        .all(|r| r["status"] == "sent" && r["outcome_published"] == true));
    assert_eq!(env.relay.email_count(), 110);
    assert_eq!(env.fcm.pushes().len(), 110);
    assert_eq!(env.outcomes().len(), 220);
    assert_eq!(env.fcm.token_requests(), 1);
}

#[tokio::test]
async fn each_entry_of_a_bulk_is_answered_as_if_it_had_come_alone() {
    let env = Env::start_with(Options::default().without_push()).await;
    subscribers(&env, 0..5).await;
    let good = reminder_of(0);
    let mut malformed = reminder_of(1);
    malformed["remind_at"] = json!("yesterday");
    let mut entries = vec![
        entry(&env, good.clone()),
        // The same reminder again, under another CloudEvent id.
        entry(&env, good.clone()),
        entry(&env, malformed),
    ];
    for n in 2..5 {
        entries.push(entry(&env, reminder_of(n)));
    }
    let ids: Vec<String> = entries.iter().map(|e| e.entry_id.clone()).collect();
    // One of the e-mails meets a relay outage: only its entry is retried.
    env.relay.fail_next_unavailable(1);
    let bulk = env
        .driver
        .deliver_bulk("reminders", entries)
        .await
        .expect("bulk");
    let status = |at: usize| bulk.explicit.get(&ids[at]).cloned().unwrap_or_default();
    assert_eq!(status(2), "DROP", "the malformed entry");
    let retried: Vec<usize> = (0..ids.len()).filter(|at| status(*at) == "RETRY").collect();
    let rows = env.deliveries().await;
    let retrying: Vec<&Value> = rows.iter().filter(|r| r["status"] == "retrying").collect();
    assert_eq!(retrying.len(), 1, "{rows:#?}");
    let failed_user = retrying[0]["user_id"].as_str().expect("user");
    if failed_user == "user-0" {
        // The duplicate shares its delivery, so both entries are retried.
        assert_eq!(retried, [0, 1]);
    } else {
        assert_eq!(retried.len(), 1);
        assert_eq!(status(0), "SUCCESS");
        assert_eq!(status(1), "SUCCESS");
    }
    for at in (3..ids.len()).filter(|at| !retried.contains(at)) {
        assert_eq!(status(at), "SUCCESS");
    }
    // The reminder sent twice in the bulk went out once.
    assert_eq!(
        env.relay.emails_to("user0@example.com").len(),
        usize::from(failed_user != "user-0")
    );
    // One row per channel (push fails as not configured), not one per entry.
    assert_eq!(rows.iter().filter(|r| r["user_id"] == "user-0").count(), 2);
    let rejected = env.rejected().await;
    assert_eq!(rejected.len(), 1, "{rejected:#?}");
}

#[tokio::test]
async fn the_subscription_asks_for_bulk_and_daprd_delivers_in_bulks() {
    let env = Env::start().await;
    assert_eq!(
        env.driver
            .subscription("reminders", None)
            .expect("subscribed")
            .bulk_subscribe,
        Some(json!({"enabled": true, "maxMessagesCount": 100, "maxAwaitDurationMs": 1000}))
    );
    subscribers(&env, 0..250).await;
    let before = env.db.wire_counts().executes;
    let (statuses, requests) = env
        .driver
        .deliver_all(
            "reminders",
            (0..250).map(reminder_of).collect(),
            &DeliverOptions::new().event_type("reminder.due"),
            3,
        )
        .await
        .expect("delivered");
    assert!(
        statuses.iter().all(|s| *s == AppStatus::Success),
        "{statuses:?}"
    );
    assert_eq!(requests, 3, "bulks of 100, 100 and 50");
    assert_eq!(
        env.db.wire_counts().executes - before,
        9,
        "three statements a bulk"
    );
    assert_eq!(env.deliveries().await.len(), 500);
}

#[tokio::test]
async fn bulk_max_messages_zero_asks_for_one_event_per_request() {
    let env = Env::start_with(
        Options::default()
            .var("bulk_max_messages", "0")
            .var("bulk_max_await_ms", "250"),
    )
    .await;
    let sub = env
        .driver
        .subscription("reminders", None)
        .expect("subscribed");
    assert_eq!(sub.bulk_subscribe, None);
    assert_eq!(env.driver.bulk_options("reminders").expect("read"), None);
    let env = Env::start_with(Options::default().var("bulk_max_messages", "7")).await;
    assert_eq!(
        env.driver.bulk_options("reminders").expect("read"),
        Some(component_host::fakes::dapr::BulkOptions {
            max_messages: 7,
            max_await_ms: 1000
        })
    );
}
