//! The outbox flush on several replicas (README, "Outbox"): two `spin up`
//! instances of the notification service on one database, their
//! `POST /outbox-flush` called at the same moment (as every replica's cron
//! binding does) against one sidecar that answers slowly enough for the two
//! flushes to overlap. Each unpublished outcome must be published exactly
//! once per round, and a claim left by a flush that died holds its rows
//! until its lease runs out.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use component_host::derived_manifest::Derive;
use component_host::fakes::FakeSidecar;
use component_host::pg_cluster::fresh_database;
use component_host::TestApp;
use serde_json::Value;

/// More than two flushes' worth (100 each), so the first round cannot
/// empty the outbox and a flush that took its rivals' rows would show.
const UNPUBLISHED: i64 = 250;

async fn flush(app: &TestApp) -> u64 {
    let res =
        component_host::client::send("POST", &format!("{}/outbox-flush", app.base_url()), &[], "")
            .await
            .expect("flush");
    assert_eq!(res.status, 200, "{}", res.text());
    let body: Value = res.json();
    assert_eq!(body["failed"], 0, "{body}");
    body["published"].as_u64().expect("published")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_flushing_at_once_publish_each_outcome_once() {
    let db = fresh_database().await.expect("database");
    let sidecar = FakeSidecar::start().await.expect("sidecar");
    // 20 ms per publish: a flush of 100 takes two seconds or more, so the
    // two flushes of a round overlap throughout.
    sidecar.server().set_delay(Some(Duration::from_millis(20)));
    let mut vars: HashMap<String, String> = HashMap::from([
        ("database_url".to_owned(), db.url()),
        ("database_host".to_owned(), db.host_port()),
    ]);
    for (k, v) in sidecar.spin_variables() {
        vars.insert(k.to_owned(), v);
    }
    let manifest = Derive::keeping("outbox-replicas.toml", &["notification"])
        .write()
        .expect("manifest");
    let (a, b) = tokio::join!(
        TestApp::start(&manifest, &vars),
        TestApp::start(&manifest, &vars)
    );
    let (a, b) = (a.expect("replica a"), b.expect("replica b"));
    let pg = db.client().await;
    pg.batch_execute(&format!(
        "INSERT INTO deliveries (delivery_id, user_id, task_id, remind_at, channel, recipient, status,
                                 attempts, outcome_published, updated_at)
         SELECT gen_random_uuid(), 'u-1', gen_random_uuid(), now(),
                CASE WHEN i % 2 = 0 THEN 'email' ELSE 'push' END, 'r-' || i,
                CASE WHEN i % 3 = 0 THEN 'failed' ELSE 'sent' END, 1, false,
                now() - (i * interval '1 second')
         FROM generate_series(1, {UNPUBLISHED}) i;
         -- A claim left by a flush that died a moment ago: not published
         -- until its lease runs out.
         INSERT INTO deliveries (delivery_id, user_id, task_id, remind_at, channel, recipient, status,
                                 attempts, outcome_published, flush_claimed_until)
         VALUES ('00000000-0000-4000-8000-00000000dead', 'u-1', gen_random_uuid(), now(), 'email', 'r-dead',
                 'sent', 1, false, now() + interval '1 hour');"
    ))
    .await
    .expect("seed");

    let mut rounds = Vec::new();
    loop {
        let (x, y) = tokio::join!(flush(&a), flush(&b));
        rounds.push((x, y));
        if x + y == 0 || rounds.len() > 5 {
            break;
        }
    }
    let published = sidecar.publishes_to("notifications");
    let mut per_id: BTreeMap<String, usize> = BTreeMap::new();
    for p in &published {
        *per_id
            .entry(p.cloudevent_id.clone().expect("id"))
            .or_default() += 1;
    }
    println!("rounds (replica a, replica b): {rounds:?}");
    // Both replicas worked in the first round, on different rows.
    assert_eq!(rounds.first(), Some(&(100, 100)), "{rounds:?}");
    assert_eq!(
        rounds.iter().map(|(x, y)| x + y).sum::<u64>(),
        UNPUBLISHED as u64
    );
    assert_eq!(published.len(), UNPUBLISHED as usize, "{rounds:?}");
    assert!(
        per_id.values().all(|n| *n == 1),
        "published twice: {per_id:?}"
    );
    assert!(!per_id.contains_key("00000000-0000-4000-8000-00000000dead"));
    let left: i64 = pg
        .query_one(
            "SELECT count(*) FROM deliveries WHERE NOT outcome_published OR flush_claimed_until IS NOT NULL",
            &[],
        )
        .await
        .expect("left")
        .get(0);
    assert_eq!(left, 1, "only the dead flush's row is left, still claimed");

    // Its lease runs out: the next round publishes it, once.
    pg.batch_execute(
        "UPDATE deliveries SET flush_claimed_until = now() - interval '1 second' WHERE recipient = 'r-dead'",
    )
    .await
    .expect("expire");
    let (x, y) = tokio::join!(flush(&a), flush(&b));
    assert_eq!(x + y, 1);
    let dead: Vec<_> = sidecar
        .publishes_to("notifications")
        .into_iter()
        .filter(|p| p.cloudevent_id.as_deref() == Some("00000000-0000-4000-8000-00000000dead"))
        .collect();
    assert_eq!(dead.len(), 1);
    let data = dead[0].data.clone().expect("payload");
    assert_eq!(data["delivery_id"], "00000000-0000-4000-8000-00000000dead");
    assert_eq!(a.request_errors(), Vec::<String>::new());
    assert_eq!(b.request_errors(), Vec::<String>::new());
}
