//! What a reminder costs (Postgres statements, counted on the wire between
//! Spin and PostgreSQL) and what
//! it leaves in the logs: one line per delivery, no address, token or
//! secret in clear.

mod notification_events_support;

use component_host::fakes::dapr::{AppStatus, BulkEntry, DeliverOptions};
use component_host::fakes::email::DEFAULT_API_KEY;
use notification_events_support::*;
use serde_json::Value;

const PHONE: &str = "dGVzdC1waG9uZS0wMDE6QVBBOTFiSHVuZGVyc2NvcmVfdG9rZW4";
const OLD_PHONE: &str = "b2xkLXBob25lLTAwMzpBUEE5MWJIdW5kZXJzY29yZV90b2tlbg";

/// Statements the app runs for `data`, and its answer.
async fn cost(env: &Env, data: Value) -> u64 {
    let before = env.db.wire_counts().executes;
    assert_answer(&env.deliver(data).await, AppStatus::Success);
    env.db.wire_counts().executes - before
}

#[tokio::test]
async fn a_one_channel_reminder_costs_three_statements() {
    let env = Env::start().await;
    env.subscriber(USER, Some(ADDRESS), &["email"]).await;
    env.device(USER, PHONE).await;
    let email_only = reminder_for(TASK, "2026-12-01T08:00:00Z", Some(&["email"]));
    assert_eq!(
        cost(&env, email_only.clone()).await,
        3,
        "lookup, claim, record"
    );
    // Push, minting the access token: the token is cached by the record.
    let push_minting = reminder_for(TASK, "2026-12-01T08:01:00Z", Some(&["push"]));
    assert_eq!(cost(&env, push_minting).await, 3);
    assert_eq!(env.fcm.token_requests(), 1);
    // Push with the cached token.
    let push_cached = reminder_for(TASK, "2026-12-01T08:02:00Z", Some(&["push"]));
    assert_eq!(cost(&env, push_cached).await, 3);
    assert_eq!(env.fcm.token_requests(), 1);
    // A duplicate: lookup and claim find it done, nothing is written.
    assert_eq!(cost(&env, email_only).await, 2);
    // Bulk: the reminders of a delivery are one set, so two cost what one
    // does (tests/host/tests/bulk_cost.rs: 10 and 100 entries).
    let entries: Vec<BulkEntry> = (3..5)
        .map(|m| {
            let at = format!("2026-12-01T08:{m:02}:00Z");
            env.driver
                .bulk_entry(
                    "reminders",
                    reminder_for(TASK, &at, Some(&["email"])),
                    &DeliverOptions::new().event_type("reminder.due"),
                )
                .expect("entry")
        })
        .collect();
    let before = env.db.wire_counts().executes;
    let bulk = env
        .driver
        .deliver_bulk("reminders", entries)
        .await
        .expect("bulk");
    assert!(bulk.explicit.values().all(|s| s == "SUCCESS"));
    assert_eq!(env.db.wire_counts().executes - before, 3);
}

#[tokio::test]
async fn logs_have_one_line_per_delivery_and_no_address_token_or_secret() {
    let env = Env::start().await;
    env.subscriber(USER, Some(ADDRESS), &["email", "push"])
        .await;
    env.device(USER, PHONE).await;
    env.device(USER, OLD_PHONE).await;
    env.fcm.unregister_device(OLD_PHONE);
    env.relay.reject_next(
        1,
        "ada.lovelace@example.com is on the suppression list of this account",
    );
    assert_answer(&env.deliver(reminder(None)).await, AppStatus::Success);

    let lines = delivery_logs(&env.app);
    assert_eq!(lines.len(), 3, "{lines:#?}");
    let rows = env.deliveries().await;
    for row in &rows {
        let line = lines
            .iter()
            .find(|l| l["delivery_id"] == row["delivery_id"])
            .unwrap_or_else(|| panic!("no log line for {row}"));
        assert_eq!(line["channel"], row["channel"]);
        assert_eq!(line["status"], row["status"]);
        assert_eq!(line["reason"], row["reason"]);
        assert!(line["event_id"].is_string());
    }
    let email_line = lines
        .iter()
        .find(|l| l["channel"] == "email")
        .expect("e-mail line");
    assert_eq!(email_line["recipient"], "a***@example.com");
    assert_eq!(email_line["reason"], "rejected_by_provider");
    assert!(
        email_line["error"]
            .as_str()
            .is_some_and(|e| e.contains("a***@example.com is on the suppression list")),
        "{email_line}"
    );
    assert!(lines.iter().any(|l| l["recipient"] == "dGVzdC…"));
    assert!(lines.iter().any(|l| l["reason"] == "invalid_token"));

    let access_token: String = env
        .pg
        .query_one("SELECT access_token FROM fcm_tokens", &[])
        .await
        .expect("cached token")
        .get(0);
    let logs = env.app.logs();
    for secret in [
        ADDRESS,
        "ada.lovelace",
        PHONE,
        OLD_PHONE,
        DEFAULT_API_KEY,
        access_token.as_str(),
        "PRIVATE KEY",
    ] {
        assert!(
            !logs.contains(secret),
            "{secret:?} leaked into the logs:\n{logs}"
        );
    }
    // The stored error keeps the provider's words, with the address masked
    // (the delivery-log API serves it: no full address, docs/CONTRACT.md, "Routes").
    let email_row = rows.iter().find(|r| r["channel"] == "email").expect("row");
    let stored = email_row["last_error"].as_str().unwrap_or_default();
    assert!(
        stored.contains("a***@example.com is on the suppression list") && !stored.contains(ADDRESS),
        "{stored}"
    );
}
