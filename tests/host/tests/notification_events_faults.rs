//! Transient faults around the providers: Postgres unreachable, the
//! sidecar refusing to publish, and the outbox flush that republishes.

mod notification_events_support;

use std::time::{Duration, Instant};

use component_host::fakes::dapr::{trace_id, AppStatus, DeliverOptions};
use component_host::fakes::email::Provider;
use component_host::fakes::Fault;
use notification_events_support::*;
use serde_json::Value;

#[tokio::test]
async fn postgres_down_means_retry_and_nothing_is_lost_once_it_is_back() {
    let env = Env::start().await;
    env.subscriber(USER, Some(ADDRESS), &["email"]).await;
    env.db.set_down(true);
    let options = DeliverOptions::new().id("while-down");
    let down = env.deliver_as(reminder(None), options.clone()).await;
    assert_answer(&down, AppStatus::Retry);
    assert_eq!(env.relay.send_attempts().len(), 0, "nothing sent unclaimed");
    assert!(env.outcomes().is_empty());
    let logs = env.app.logs();
    assert!(logs.contains("event will be retried"), "{logs}");

    env.db.set_down(false);
    let back = env.deliver_as(reminder(None), options).await;
    assert_answer(&back, AppStatus::Success);
    assert_eq!(env.relay.email_count(), 1);
    assert_eq!(env.delivery("email").await["status"], "sent");
    assert_eq!(env.outcomes().len(), 1);
}

#[tokio::test]
async fn a_failed_publish_is_retried_without_sending_again() {
    let env = Env::start().await;
    env.subscriber(USER, Some(ADDRESS), &["email"]).await;
    env.sidecar.fail_next_publishes(1, "broker unavailable");
    let first = env.deliver(reminder(None)).await;
    assert_answer(&first, AppStatus::Retry);
    let row = env.delivery("email").await;
    assert_eq!(row["status"], "sent");
    assert_eq!(row["outcome_published"], false);
    assert_eq!(env.sidecar.publish_attempts().len(), 1);
    assert!(env.outcomes().is_empty());

    let again = env.deliver(reminder(None)).await;
    assert_answer(&again, AppStatus::Success);
    assert_eq!(env.relay.send_attempts().len(), 1, "not sent twice");
    let outcomes = env.outcomes();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(
        outcomes[0].cloudevent_id.as_deref(),
        row["delivery_id"].as_str()
    );
    assert_eq!(
        trace_id(outcomes[0].traceparent.as_deref()),
        trace_id(Some(TRACEPARENT))
    );
    // The re-published event is the one that failed, byte for byte.
    let refused = &env.sidecar.publish_attempts()[0];
    assert_eq!(refused.json(), outcomes[0].data);
    assert_eq!(env.delivery("email").await["outcome_published"], true);

    assert_answer(&env.deliver(reminder(None)).await, AppStatus::Success);
    assert_eq!(env.outcomes().len(), 1, "published once");
}

#[tokio::test]
async fn the_outbox_flush_publishes_what_no_redelivery_will() {
    let env = Env::start().await;
    env.subscriber(USER, Some(ADDRESS), &["email", "push"])
        .await;
    // Push fails at once (no device), e-mail is sent; both publishes fail.
    env.sidecar.fail_next_publishes(2, "broker unavailable");
    assert_answer(&env.deliver(reminder(None)).await, AppStatus::Retry);
    let refused: Vec<Option<Value>> = env
        .sidecar
        .publish_attempts()
        .iter()
        .map(|r| r.json())
        .collect();
    assert_eq!(refused.len(), 2);
    assert!(env.outcomes().is_empty());

    let (status, body) = env.flush_outbox().await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["published"], 2);
    assert_eq!(body["failed"], 0);
    let outcomes = env.outcomes();
    assert_eq!(outcomes.len(), 2);
    for o in &outcomes {
        assert!(
            refused.contains(&o.data),
            "same payload as first tried: {o:?}"
        );
        assert_eq!(
            o.cloudevent_id.as_deref(),
            o.data.as_ref().and_then(|d| d["delivery_id"].as_str())
        );
    }
    let types: Vec<&str> = outcomes
        .iter()
        .filter_map(|o| o.cloudevent_type.as_deref())
        .collect();
    assert!(types.contains(&"notification.sent") && types.contains(&"notification.failed"));
    assert!(env
        .deliveries()
        .await
        .iter()
        .all(|r| r["outcome_published"] == true));

    let (status, body) = env.flush_outbox().await;
    assert_eq!((status, body["published"].clone()), (200, 0.into()));
    // The redelivery Dapr still had queued finds nothing to do.
    assert_answer(&env.deliver(reminder(None)).await, AppStatus::Success);
    assert_eq!(env.outcomes().len(), 2);
    assert_eq!(env.relay.send_attempts().len(), 1);
}

#[tokio::test]
async fn the_outbox_flush_stops_while_the_sidecar_is_down() {
    let env = Env::start().await;
    env.subscriber(USER, None, &["email", "push"]).await;
    env.sidecar.fail_next_publishes(2, "broker unavailable");
    assert_answer(&env.deliver(reminder(None)).await, AppStatus::Retry);
    env.sidecar.fail_next_publishes(1, "still down");
    let (status, body) = env.flush_outbox().await;
    assert_eq!(status, 200);
    assert_eq!(
        (body["published"].clone(), body["failed"].clone()),
        (0.into(), 1.into())
    );
    assert_eq!(
        env.sidecar.publish_attempts().len(),
        3,
        "stopped at the first failure"
    );
    assert!(env
        .deliveries()
        .await
        .iter()
        .all(|r| r["outcome_published"] == false));
}

#[tokio::test]
async fn outbox_flush_answers_dapr_binding_probes_and_guards_the_rest() {
    let env = Env::start_with(Options::default().var("app_api_token", "s3cret")).await;
    let url = format!("{}/outbox-flush", env.app.base_url());
    let send = |method: &'static str, headers: &'static [(&'static str, &'static str)]| {
        let url = url.clone();
        async move {
            component_host::client::send(method, &url, headers, "")
                .await
                .expect("request")
        }
    };
    let probe = send("OPTIONS", &[]).await;
    assert_eq!(probe.status, 200, "Dapr binds the route only on 2xx/405");
    assert_eq!(send("POST", &[]).await.status, 401);
    let ok = send("POST", &[("dapr-api-token", "s3cret")]).await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(ok.json()["published"], 0);
    assert_eq!(
        send("GET", &[("dapr-api-token", "s3cret")]).await.status,
        405
    );
    env.db.set_down(true);
    let down = send("POST", &[("dapr-api-token", "s3cret")]).await;
    assert_eq!(down.status, 503);
    assert_eq!(down.json()["error"]["code"], "database_unavailable");
}

#[tokio::test]
async fn a_hanging_or_vanishing_relay_is_a_transient_failure() {
    let env = Env::start_with(Options::default().provider(Provider::SendGrid)).await;
    env.subscriber(USER, Some(ADDRESS), &["email"]).await;
    env.relay.server().fail_next_with(1, Fault::Disconnect);
    assert_answer(&env.deliver(reminder(None)).await, AppStatus::Retry);
    let row = env.delivery("email").await;
    assert_eq!(
        (row["status"].clone(), row["attempts"].clone()),
        ("retrying".into(), 1.into())
    );
    assert!(
        row["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("failed")),
        "{row}"
    );

    // A relay that never answers is given up on after the call deadline
    // (8 s), well inside Dapr's 30 s delivery timeout.
    env.relay.server().set_delay(Some(Duration::from_secs(20)));
    let started = Instant::now();
    let hung = env.deliver(reminder(None)).await;
    let took = started.elapsed();
    assert_answer(&hung, AppStatus::Retry);
    assert!(took < Duration::from_secs(15), "took {took:?}");
    let row = env.delivery("email").await;
    assert_eq!(row["attempts"], 2);
    assert!(
        row["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("timed out")),
        "{row}"
    );
}
