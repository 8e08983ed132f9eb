//! `reminder.due` → push through FCM HTTP v1, end to end: the message per
//! device, the OAuth2 token (minted with a JWT the fake verifies, cached in
//! Postgres, refreshed once on 401), dead tokens and disabled push.

mod notification_events_support;

use component_host::fakes::dapr::{trace_id, AppStatus, BulkEntry, DeliverOptions};
use notification_events_support::*;
use serde_json::{json, Value};

const PHONE: &str = "dGVzdC1waG9uZS0wMDE6QVBBOTFiSHVuZGVyc2NvcmVfdG9rZW4";
const TABLET: &str = "dGVzdC10YWJsZXQtMDAyOkFQQTkxYkh1bmRlcnNjb3JlX3Rva2Vu";

/// The reminder id (collapse key), computed by Postgres' `uuid-ossp`.
async fn expected_reminder_id(env: &Env, remind_at: &str) -> String {
    env.pg
        .batch_execute("CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\"")
        .await
        .expect("uuid-ossp");
    env.pg
        .query_one(
            "SELECT uuid_generate_v5('81f7262a-f4b8-444c-b090-c91b0d252fbc'::uuid, $1)::text",
            &[&format!("{TASK}\n{remind_at}")],
        )
        .await
        .expect("uuid_generate_v5")
        .get(0)
}

async fn push_env() -> Env {
    let env = Env::start().await;
    env.subscriber(USER, Some(ADDRESS), &["push"]).await;
    env.device(USER, PHONE).await;
    env.device(USER, TABLET).await;
    env
}

#[tokio::test]
async fn each_device_gets_one_message_with_collapse_keys_and_data() {
    let env = push_env().await;
    assert_answer(&env.deliver(reminder(None)).await, AppStatus::Success);
    let collapse = expected_reminder_id(&env, REMIND_AT).await;

    let pushes = env.fcm.pushes();
    assert_eq!(pushes.len(), 2, "{pushes:#?}");
    let rows = env.deliveries().await;
    assert_eq!(rows.len(), 2);
    for token in [PHONE, TABLET] {
        let sent = env.fcm.pushes_to(token);
        assert_eq!(sent.len(), 1, "one push to {token}");
        let push = &sent[0];
        let row = rows
            .iter()
            .find(|r| r["recipient"] == token)
            .expect("row per device");
        assert_eq!(row["status"], "sent");
        assert_eq!(row["channel"], "push");
        assert_eq!(row["attempts"], 1);
        assert_eq!(row["provider_message_id"], push.name.as_str());
        let m = &push.message;
        assert_eq!(m["token"], token);
        assert_eq!(
            m["notification"],
            json!({"title": "Pay rent <today>", "body": "Due Tue, 1 Dec 2026, 10:00 CET (Europe/Berlin)"})
        );
        assert_eq!(m["android"]["collapse_key"], collapse.as_str());
        assert_eq!(m["android"]["notification"]["tag"], collapse.as_str());
        assert_eq!(m["apns"]["headers"]["apns-collapse-id"], collapse.as_str());
        assert_eq!(push.data("task_id"), Some(TASK));
        assert_eq!(push.data("due_at"), Some(DUE_AT));
        assert_eq!(push.data("remind_at"), Some(REMIND_AT));
        assert_eq!(push.data("reminder_id"), Some(collapse.as_str()));
        assert_eq!(push.data("delivery_id"), row["delivery_id"].as_str());
        assert_eq!(
            trace_id(push.traceparent.as_deref()),
            trace_id(Some(TRACEPARENT))
        );
    }
    assert_eq!(env.fcm.token_requests(), 1);
    assert_eq!(env.fcm.tokens_issued(), 1);
    let cached: i64 = env
        .pg
        .query_one(
            "SELECT count(*) FROM fcm_tokens WHERE client_email = $1 AND expires_at > now() + interval '50 minutes'",
            &[&env.account.client_email],
        )
        .await
        .expect("fcm_tokens")
        .get(0);
    assert_eq!(cached, 1, "the minted token is cached");

    let outcomes = env.outcomes();
    assert_eq!(outcomes.len(), 2);
    for o in &outcomes {
        assert_eq!(o.cloudevent_type.as_deref(), Some("notification.sent"));
        let data = o.data.clone().expect("data");
        assert_eq!(data["channel"], "push");
        assert_eq!(data["task_id"], TASK);
        assert_eq!(o.cloudevent_id.as_deref(), data["delivery_id"].as_str());
        assert!(rows.iter().any(|r| r["delivery_id"] == data["delivery_id"]
            && r["provider_message_id"] == data["provider_message_id"]));
    }
}

#[tokio::test]
async fn an_unregistered_token_is_deleted_and_fails_with_invalid_token() {
    let env = push_env().await;
    env.fcm.unregister_device(TABLET);
    assert_answer(&env.deliver(reminder(None)).await, AppStatus::Success);
    assert_eq!(env.devices(USER).await, vec![PHONE.to_owned()]);
    let rows = env.deliveries().await;
    let dead = rows
        .iter()
        .find(|r| r["recipient"] == TABLET)
        .expect("tablet row");
    assert_eq!(dead["status"], "failed");
    assert_eq!(dead["reason"], "invalid_token");
    assert!(dead["last_error"].is_string());
    let alive = rows
        .iter()
        .find(|r| r["recipient"] == PHONE)
        .expect("phone row");
    assert_eq!(alive["status"], "sent");
    let failed: Vec<Value> = env
        .outcomes()
        .iter()
        .filter(|o| o.cloudevent_type.as_deref() == Some("notification.failed"))
        .filter_map(|o| o.data.clone())
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["reason"], "invalid_token");
    assert_eq!(failed[0]["delivery_id"], dead["delivery_id"]);
}

#[tokio::test]
async fn one_token_request_serves_fifty_reminders() {
    let env = Env::start().await;
    env.subscriber(USER, None, &["push"]).await;
    env.device(USER, PHONE).await;
    // Half one by one, half in one bulk request.
    for minute in 0..25 {
        let at = format!("2026-12-01T08:{minute:02}:00Z");
        let answer = env.deliver(reminder_for(TASK, &at, None)).await;
        assert_answer(&answer, AppStatus::Success);
    }
    let entries: Vec<BulkEntry> = (25..50)
        .map(|minute| {
            let at = format!("2026-12-01T08:{minute:02}:00Z");
            env.driver
                .bulk_entry(
                    "reminders",
                    reminder_for(TASK, &at, None),
                    &DeliverOptions::new().event_type("reminder.due"),
                )
                .expect("entry")
        })
        .collect();
    let bulk = env
        .driver
        .deliver_bulk("reminders", entries)
        .await
        .expect("bulk");
    assert_eq!(bulk.statuses.len(), 25);
    assert!(
        bulk.statuses.values().all(|s| *s == AppStatus::Success),
        "{:?}",
        bulk.explicit
    );
    assert_eq!(env.fcm.pushes_to(PHONE).len(), 50);
    assert_eq!(env.fcm.token_requests(), 1);
}

#[tokio::test]
async fn a_refused_token_is_refreshed_once_and_the_send_retried() {
    let env = push_env().await;
    assert_answer(&env.deliver(reminder(None)).await, AppStatus::Success);
    assert_eq!(env.fcm.token_requests(), 1);
    // Google revokes the token although the cache still thinks it fresh.
    env.fcm.expire_all_tokens();
    let next = reminder_for(TASK, "2026-12-01T08:45:00Z", None);
    assert_answer(&env.deliver(next).await, AppStatus::Success);
    assert_eq!(env.fcm.token_requests(), 2, "one refresh for both devices");
    assert_eq!(env.fcm.pushes().len(), 4);
    // The refreshed token was cached: the next reminder mints nothing.
    let third = reminder_for(TASK, "2026-12-01T08:50:00Z", None);
    assert_answer(&env.deliver(third).await, AppStatus::Success);
    assert_eq!(env.fcm.token_requests(), 2);
    assert_eq!(env.fcm.pushes().len(), 6);
}

#[tokio::test]
async fn persistent_401_fails_with_provider_auth_failed() {
    let env = Env::start().await;
    env.subscriber(USER, None, &["push"]).await;
    env.device(USER, PHONE).await;
    env.fcm.fail_next_unauthenticated(2);
    assert_answer(&env.deliver(reminder(None)).await, AppStatus::Success);
    assert_eq!(env.fcm.send_attempts().len(), 2);
    assert_eq!(env.fcm.token_requests(), 2);
    let row = env.delivery("push").await;
    assert_eq!(row["status"], "failed");
    assert_eq!(row["reason"], "provider_auth_failed");
}

#[tokio::test]
async fn fcm_unavailable_is_retried_on_redelivery() {
    let env = Env::start().await;
    env.subscriber(USER, None, &["push"]).await;
    env.device(USER, PHONE).await;
    env.fcm.fail_next_unavailable(1);
    assert_answer(&env.deliver(reminder(None)).await, AppStatus::Retry);
    let row = env.delivery("push").await;
    assert_eq!(
        (row["status"].clone(), row["attempts"].clone()),
        (json!("retrying"), json!(1))
    );
    assert!(env.outcomes().is_empty());
    assert_answer(&env.deliver(reminder(None)).await, AppStatus::Success);
    assert_eq!(env.fcm.pushes_to(PHONE).len(), 1);
    assert_eq!(env.delivery("push").await["attempts"], 2);
    assert_eq!(env.fcm.token_requests(), 1, "the cached token is reused");
}

#[tokio::test]
async fn push_disabled_fails_the_channel_as_not_configured() {
    let env = Env::start_with(Options::default().without_push()).await;
    env.subscriber(USER, Some(ADDRESS), &["email", "push"])
        .await;
    env.device(USER, PHONE).await;
    assert_answer(&env.deliver(reminder(None)).await, AppStatus::Success);
    assert_eq!(env.fcm.server().request_count(), 0);
    assert_eq!(env.relay.email_count(), 1, "e-mail still goes out");
    let row = env.delivery("push").await;
    assert_eq!(row["status"], "failed");
    assert_eq!(row["reason"], "channel_not_configured");
    assert_eq!(row["recipient"], "");
    assert_eq!(
        row["last_error"],
        "push is not configured: fcm_project_id is empty: push is disabled"
    );
    let types: Vec<Option<String>> = env
        .outcomes()
        .iter()
        .map(|o| o.cloudevent_type.clone())
        .collect();
    assert_eq!(types.len(), 2);
    assert!(types.contains(&Some("notification.failed".into())));
    assert!(types.contains(&Some("notification.sent".into())));
}

#[tokio::test]
async fn no_device_and_unknown_subscriber_fail_with_no_address() {
    let env = Env::start().await;
    env.subscriber(USER, None, &["email", "push"]).await;
    assert_answer(&env.deliver(reminder(None)).await, AppStatus::Success);
    let rows = env.deliveries().await;
    assert_eq!(rows.len(), 2);
    assert!(rows
        .iter()
        .all(|r| r["status"] == "failed" && r["reason"] == "no_address" && r["attempts"] == 0));
    let failed = env.outcomes();
    assert_eq!(failed.len(), 2);
    assert!(failed
        .iter()
        .all(|o| o.data.as_ref().is_some_and(|d| d["reason"] == "no_address")));

    // Redelivered: nothing new is recorded or announced.
    assert_answer(&env.deliver(reminder(None)).await, AppStatus::Success);
    assert_eq!(env.deliveries().await.len(), 2);
    assert_eq!(env.outcomes().len(), 2);

    // A subscriber nobody registered: both channels, no address.
    let stranger = json!({"task_id": TASK, "user_id": "u-unknown", "title": "x",
                          "remind_at": "2026-12-02T08:00:00Z"});
    assert_answer(&env.deliver(stranger).await, AppStatus::Success);
    let theirs: Vec<Value> = env
        .deliveries()
        .await
        .into_iter()
        .filter(|r| r["user_id"] == "u-unknown")
        .collect();
    assert_eq!(theirs.len(), 2);
    assert!(theirs.iter().all(|r| r["reason"] == "no_address"));
    assert_eq!(env.outcomes().len(), 4);
}
