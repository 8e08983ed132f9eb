//! The same reminder, delivered again and again under different CloudEvent
//! ids (one after the other, all at once, in one bulk message): each
//! channel reaches each recipient once. And the claim's lease: a live
//! attempt elsewhere blocks, a crashed one is taken over.

mod notification_events_support;

use std::sync::Arc;
use std::time::Duration;

use component_host::fakes::dapr::{AppStatus, BulkEntry, DaprDriver, DeliverOptions};
use notification_events_support::*;
use serde_json::json;

const PHONE: &str = "dGVzdC1waG9uZS0wMDE6QVBBOTFiSHVuZGVyc2NvcmVfdG9rZW4";
const TABLET: &str = "dGVzdC10YWJsZXQtMDAyOkFQQTkxYkh1bmRlcnNjb3JlX3Rva2Vu";

async fn both_channels() -> Env {
    let env = Env::start().await;
    env.subscriber(USER, Some(ADDRESS), &["email", "push"])
        .await;
    env.device(USER, PHONE).await;
    env.device(USER, TABLET).await;
    env
}

/// Requests that reached the providers: every call counts, including ones
/// Resend's idempotency would have swallowed.
fn provider_calls(env: &Env) -> (usize, usize, usize) {
    (
        env.relay.send_attempts().len(),
        env.fcm.pushes_to(PHONE).len(),
        env.fcm.pushes_to(TABLET).len(),
    )
}

#[tokio::test]
async fn three_sequential_deliveries_send_each_channel_once() {
    let env = both_channels().await;
    for n in 0..3 {
        let options = DeliverOptions::new().id(format!("envelope-{n}"));
        let answer = env.deliver_as(reminder(None), options).await;
        assert_answer(&answer, AppStatus::Success);
    }
    assert_eq!(provider_calls(&env), (1, 1, 1));
    assert_eq!(env.fcm.send_attempts().len(), 2);
    assert_eq!(env.deliveries().await.len(), 3);
    assert_eq!(env.outcomes().len(), 3, "one outcome per delivery");
    // The same instant written with another offset is the same reminder.
    let shifted = reminder_for(TASK, "2026-12-01T09:30:00+01:00", None);
    assert_answer(&env.deliver(shifted).await, AppStatus::Success);
    assert_eq!(provider_calls(&env), (1, 1, 1));
}

#[tokio::test]
async fn ten_concurrent_deliveries_send_each_channel_once() {
    let env = both_channels().await;
    // Slow providers keep the winner's claim in flight while the others arrive.
    env.relay
        .server()
        .set_delay(Some(Duration::from_millis(300)));
    env.fcm.server().set_delay(Some(Duration::from_millis(300)));
    let mut driver =
        DaprDriver::new(env.app.base_url()).with_retry_delay(Duration::from_millis(100));
    driver.subscribe().await.expect("subscribe");
    let driver = Arc::new(driver);
    let mut runs = tokio::task::JoinSet::new();
    for n in 0..10 {
        let driver = driver.clone();
        runs.spawn(async move {
            driver
                .deliver_until_settled(
                    "reminders",
                    reminder(None),
                    DeliverOptions::new()
                        .event_type("reminder.due")
                        .id(format!("concurrent-{n}")),
                    60,
                )
                .await
        });
    }
    let settled = runs.join_all().await;
    assert_eq!(settled.len(), 10);
    let mut retried = 0;
    for s in settled {
        let s = s.expect("delivered");
        assert_eq!(
            s.attempts.last().map(|a| a.outcome),
            Some(AppStatus::Success)
        );
        retried += s.attempts.len() - 1;
        assert!(s
            .attempts
            .iter()
            .all(|a| a.http_status.map(|c| c.as_u16()) == Some(200)));
    }
    assert!(retried > 0, "the race was not exercised");
    assert_eq!(provider_calls(&env), (1, 1, 1));
    assert_eq!(env.outcomes().len(), 3);
    let rows = env.deliveries().await;
    assert_eq!(rows.len(), 3);
    assert!(rows
        .iter()
        .all(|r| r["status"] == "sent" && r["attempts"] == 1 && r["lease_until"].is_null()));
}

#[tokio::test]
async fn duplicates_within_one_bulk_message_send_once() {
    let env = both_channels().await;
    let entries: Vec<BulkEntry> = (0..3)
        .map(|n| {
            env.driver
                .bulk_entry(
                    "reminders",
                    reminder(None),
                    &DeliverOptions::new()
                        .event_type("reminder.due")
                        .id(format!("bulk-{n}")),
                )
                .expect("entry")
        })
        .collect();
    let bulk = env
        .driver
        .deliver_bulk("reminders", entries)
        .await
        .expect("bulk");
    assert_eq!(bulk.http_status.map(|s| s.as_u16()), Some(200));
    assert_eq!(bulk.explicit.len(), 3);
    assert!(
        bulk.explicit.values().all(|s| s == "SUCCESS"),
        "{:?}",
        bulk.explicit
    );
    assert_eq!(provider_calls(&env), (1, 1, 1));
}

#[tokio::test]
async fn an_attempt_in_flight_elsewhere_blocks_and_a_crashed_one_is_taken_over() {
    let env = Env::start().await;
    env.subscriber(USER, Some(ADDRESS), &["email"]).await;
    let first = env.deliver(reminder(None)).await;
    assert_answer(&first, AppStatus::Success);
    let id = env.delivery("email").await["delivery_id"].clone();
    env.pg
        .execute(
            "UPDATE deliveries SET status = 'pending', attempts = 0, outcome_published = false, \
             lease_until = now() + interval '30 seconds'",
            &[],
        )
        .await
        .expect("another replica claimed it and is calling the relay");
    let blocked = env.deliver(reminder(None)).await;
    assert_answer(&blocked, AppStatus::Retry);
    assert_eq!(env.relay.send_attempts().len(), 1, "no call while leased");

    // That replica crashed: once its lease runs out, the delivery is retried.
    env.pg
        .execute(
            "UPDATE deliveries SET lease_until = now() - interval '1 second'",
            &[],
        )
        .await
        .expect("expire the lease");
    assert_answer(&env.deliver(reminder(None)).await, AppStatus::Success);
    assert_eq!(env.relay.send_attempts().len(), 2);
    let row = env.delivery("email").await;
    assert_eq!(row["delivery_id"], id);
    assert_eq!(
        (
            row["status"].clone(),
            row["attempts"].clone(),
            row["lease_until"].clone()
        ),
        (json!("sent"), json!(1), json!(null))
    );
}
