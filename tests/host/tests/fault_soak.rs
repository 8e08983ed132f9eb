//! Fault soak under the real Spin CLI: 5,000 events (3,500 two-channel
//! reminders, 1,500 completions of recurring tasks) through the daprd-like
//! driver, which redelivers on RETRY, while PostgreSQL is cut off and
//! restored twice mid-stream, the relay and FCM answer 5xx or 429 to about
//! 10 % of calls, the sidecar refuses about 5 % of publishes, and about
//! 10 % of events are delivered twice at the same time.
//!
//! Afterwards every reminder reached each channel exactly once, every
//! completion created exactly one occurrence, every final outcome's event
//! was published (the outbox flush included), and nothing is left in
//! flight. Bounded: a fixed number of events, each redelivered at most
//! 4,000 times 5 ms apart.

mod both_services;
mod hostile_support;
mod soak_support;

use std::collections::HashMap;
use std::time::Duration;

use component_host::fakes::dapr::{AppStatus, DeliverOptions};
use component_host::fakes::{FakeEmailRelay, FakeFcm, FakeSidecar, TestServiceAccount};
use component_host::pg_cluster::fresh_database;
use hostile_support::Rng;
use soak_support::{Aftermath, SoakUser};

const REMINDERS: usize = 3_500;
const COMPLETIONS: usize = 1_500;
const USER: SoakUser = SoakUser {
    user_id: "u-soak",
    address: "soak.user@example.com",
    phone: "c29hay1waG9uZS0wMDE6QVBBOTFiSHVuZGVyc2NvcmVfdG9rZW4",
};
const MAX_ATTEMPTS: usize = 4_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_thousand_events_through_faults_settle_exactly_once() {
    let db = fresh_database().await.expect("database");
    let sidecar = FakeSidecar::start().await.expect("sidecar");
    let relay = FakeEmailRelay::start().await.expect("relay");
    let account = TestServiceAccount::new("soak-project");
    let fcm = FakeFcm::start(&account).await.expect("fcm");
    let (app, driver) = both_services::start(
        "fault-soak.toml",
        &db,
        &sidecar,
        &relay,
        Some((&fcm, &account)),
    )
    .await;
    let driver = driver.with_retry_delay(Duration::from_millis(5));
    let pg = db.client().await;
    soak_support::seed(&pg, &fcm, &USER, COMPLETIONS).await;

    // Events in a seeded order: reminders and completions interleaved.
    let mut rng = Rng::new(0x50AC);
    let events = soak_support::events(&USER, REMINDERS, COMPLETIONS, &mut rng);

    let outages = [events.len() / 3, 2 * events.len() / 3];
    let mut injected = HashMap::from([
        ("relay", 0usize),
        ("fcm", 0),
        ("sidecar", 0),
        ("twice", 0),
        ("outage", 0),
    ]);
    let mut settled_retries = 0usize;
    for (i, (topic, data, event_type)) in events.into_iter().enumerate() {
        if rng.below(10) == 0 {
            match rng.below(2) {
                0 => relay.fail_next_unavailable(1),
                _ => relay.fail_next_rate_limited(1, 0),
            }
            *injected.get_mut("relay").unwrap_or(&mut 0) += 1;
        }
        if rng.below(10) == 0 {
            match rng.below(2) {
                0 => fcm.fail_next_unavailable(1),
                _ => fcm.fail_next_quota_exceeded(1, 0),
            }
            *injected.get_mut("fcm").unwrap_or(&mut 0) += 1;
        }
        if rng.below(20) == 0 {
            sidecar.fail_next_publishes(1, "soak: sidecar refuses");
            *injected.get_mut("sidecar").unwrap_or(&mut 0) += 1;
        }
        // PostgreSQL goes away for 300 ms while this event is delivered.
        let outage = outages.contains(&i).then(|| {
            *injected.get_mut("outage").unwrap_or(&mut 0) += 1;
            db.set_down(true);
            let proxy_db = &db;
            async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                proxy_db.set_down(false);
            }
        });
        let options = DeliverOptions::new()
            .id(format!("soak-{i}"))
            .event_type(event_type);
        let twice = rng.below(10) == 0;
        let deliver = |options: DeliverOptions| {
            driver.deliver_until_settled(topic, data.clone(), options, MAX_ATTEMPTS)
        };
        let results = match (twice, outage) {
            (false, None) => vec![deliver(options).await],
            (true, None) => {
                *injected.get_mut("twice").unwrap_or(&mut 0) += 1;
                let (a, b) = tokio::join!(deliver(options.clone()), deliver(options));
                vec![a, b]
            }
            (_, Some(restore)) => {
                let (a, ()) = tokio::join!(deliver(options), restore);
                vec![a]
            }
        };
        for settled in results {
            let settled = settled.expect("delivered");
            assert!(
                settled.outcomes().last() == Some(&AppStatus::Success),
                "event {i} ({topic}) did not settle SUCCESS: {:?} {}",
                settled.outcomes().last(),
                settled
                    .attempts
                    .last()
                    .map(|d| d.body_text())
                    .unwrap_or_default()
            );
            settled_retries += settled.attempts.len() - 1;
        }
    }

    // The cron binding's flush publishes whatever is still unpublished.
    for _ in 0..20 {
        let res = component_host::client::send(
            "POST",
            &format!("{}/outbox-flush", app.base_url()),
            &[],
            "",
        )
        .await
        .expect("flush");
        assert_eq!(res.status, 200, "{}", res.text());
        let left: i64 = pg
            .query_one(
                "SELECT count(*) FROM deliveries WHERE status IN ('sent', 'failed') AND NOT outcome_published",
                &[],
            )
            .await
            .expect("outbox")
            .get(0);
        if left == 0 {
            break;
        }
    }

    let emails = relay.emails_to(USER.address).len();
    let pushes = fcm.pushes_to(USER.phone).len();
    let Aftermath {
        sent,
        in_flight,
        unpublished,
        occurrences,
        series_with_one,
        outcome_ids,
        created_ids,
        metric_drift,
    } = soak_support::aftermath(&pg, &sidecar).await;
    println!(
        "soak: {} events ({REMINDERS} reminders x 2 channels, {COMPLETIONS} completions); injected {injected:?}; \
         {settled_retries} redeliveries; e-mails {emails}, pushes {pushes}, sent rows {sent}, in flight {in_flight}, \
         unpublished {unpublished}, outcome events {}, occurrences {occurrences}, task.created events {}",
        REMINDERS + COMPLETIONS,
        outcome_ids.len(),
        created_ids.len()
    );
    assert_eq!(emails, REMINDERS, "each reminder e-mailed exactly once");
    assert_eq!(pushes, REMINDERS, "each reminder pushed exactly once");
    assert_eq!(sent as usize, 2 * REMINDERS);
    assert_eq!(in_flight, 0);
    assert_eq!(unpublished, 0);
    assert_eq!(outcome_ids.len(), 2 * REMINDERS, "every outcome published");
    assert_eq!(occurrences as usize, COMPLETIONS);
    assert_eq!(series_with_one as usize, COMPLETIONS);
    assert_eq!(created_ids.len(), COMPLETIONS);
    assert!(injected.values().all(|n| *n > 0), "{injected:?}");
    assert!(settled_retries > 0);
    assert_eq!(app.request_errors(), Vec::<String>::new());
    // The running counts behind /metrics (migration 0006's triggers) agree
    // with counting the tables after thousands of concurrent claims
    // (INSERT ... ON CONFLICT DO UPDATE), records and rejections.
    assert_eq!(metric_drift, 0, "metric_counts drifted from the tables");
}
