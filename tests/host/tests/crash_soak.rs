//! Crash soak under the real Spin CLI: 900 events (600 two-channel
//! reminders, 300 completions of recurring tasks) flow through a
//! daprd-like redelivering driver while Spin's whole process group is
//! killed with SIGKILL three times, at seeded random moments, and started
//! again on the same database each time (the way a pod restarts).
//!
//! The kill is `TestApp`'s own guard: dropping the app closes the guard's
//! stdin and the guard sends `kill -9` to Spin's process group (`spin up`
//! and the `spin trigger http` it starts), so no component gets to finish
//! anything. Events in flight at that moment get no answer, which daprd
//! treats as a failure: the driver redelivers them (with a capped
//! exponential backoff, as Dapr's resiliency policy does) to whichever app
//! is running, until each is acknowledged.
//!
//! Required at the end: every event settled SUCCESS, nothing lost (every
//! reminder e-mailed and pushed, every completion's occurrence created),
//! nothing left pending, retrying or unpublished (after the outbox flush),
//! every occurrence once, and the metric counts equal to the tables.
//!
//! The relay and FCM answer through a proxy that holds each answer back
//! for [`ANSWER_DELAY`] after the provider accepted the message (a slow
//! network on the way back), so a kill often falls between a provider's
//! acceptance and the app learning of it: the window a crash can repeat.
//!
//! Where a provider accepted a message and Spin died before the delivery
//! row recorded it, the delivery's claim (a 60 s lease) runs out and the
//! redelivery sends again: the only way a message can go out twice. The
//! test counts those from the fakes and asserts what bounds them: each
//! duplicate straddles a kill (first accepted before it, again after it),
//! and there are at most as many as events were in flight at the kills.
//! Resend's `Idempotency-Key` (the delivery id) absorbs an e-mail resent
//! within 24 h, so e-mail recipients see none; FCM has no such key, so a
//! push may arrive twice. Bounded: a fixed number of events, each
//! redelivered until a deadline.

mod hostile_support;
mod soak_support;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use component_host::derived_manifest::Derive;
use component_host::fakes::dapr::{AppStatus, DaprDriver, DeliverOptions};
use component_host::fakes::email::Provider;
use component_host::fakes::{FakeEmailRelay, FakeFcm, FakeSidecar, TestServiceAccount};
use component_host::pg_cluster::{fresh_database, TestDatabase};
use component_host::TestApp;
use hostile_support::Rng;
use serde_json::Value;
use soak_support::{Aftermath, SoakUser};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

const REMINDERS: usize = 600;
const COMPLETIONS: usize = 300;
const USER: SoakUser = SoakUser {
    user_id: "u-crash",
    address: "crash.user@example.com",
    phone: "Y3Jhc2gtcGhvbmUtMDAxOkFQQTkxYkh1bmRlcnNjb3JlX3Rva2Vu",
};
/// One event enters every `PACE`, so events flow through all the kills.
const PACE: Duration = Duration::from_millis(40);
/// Events the driver has in flight at most (daprd's concurrency): enough
/// that events held up by a killed app's claims (60 s) do not stop the flow.
const IN_FLIGHT: usize = 48;
/// How long the providers' answers take to come back.
const ANSWER_DELAY: Duration = Duration::from_millis(150);
/// Seconds after the start within which each kill falls (seeded).
const KILL_WINDOWS: [(u64, u64); 3] = [(4, 11), (15, 22), (26, 33)];
/// No event may take longer than this to settle (the 60 s claim lease of
/// a delivery the killed app held, plus restarts and backoff).
const SETTLE_DEADLINE: Duration = Duration::from_secs(150);

/// The app that is running now, and a driver aimed at it.
struct Current {
    app: Mutex<Option<TestApp>>,
    driver: Mutex<Arc<DaprDriver>>,
}

impl Current {
    fn driver(&self) -> Arc<DaprDriver> {
        self.driver
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// What the fakes had accepted when a kill happened.
#[derive(Debug, Clone, Copy)]
struct Kill {
    at: Duration,
    pushes: usize,
    email_attempts: usize,
    in_flight: usize,
}

/// The app (notification, recurrence and subscriptions) with the relay and
/// FCM reached through `relay_base` / `fcm_base`, and a subscribed driver.
async fn start_app(env: &Providers<'_>) -> (TestApp, Arc<DaprDriver>) {
    let mut vars: HashMap<String, String> = HashMap::from([
        ("database_url".to_owned(), env.db.url()),
        ("database_host".to_owned(), env.db.host_port()),
        (
            "email_from".to_owned(),
            "Todo <todo@example.com>".to_owned(),
        ),
    ]);
    for (k, v) in env
        .sidecar
        .spin_variables()
        .into_iter()
        .chain(env.relay.spin_variables(Provider::Resend))
        .chain(env.fcm.spin_variables(env.account))
    {
        vars.insert(k.to_owned(), v);
    }
    vars.insert("email_relay_base".to_owned(), env.relay_base.clone());
    vars.insert("fcm_api_base".to_owned(), env.fcm_base.clone());
    let manifest = Derive::keeping(
        "crash-soak.toml",
        &["notification", "recurrence", "subscriptions"],
    )
    .write()
    .expect("manifest");
    let (app, driver) = component_host::start_subscribed(&manifest, &vars).await;
    (app, Arc::new(driver))
}

/// What every app instance is wired to.
struct Providers<'a> {
    db: &'a TestDatabase,
    sidecar: &'a FakeSidecar,
    relay: &'a FakeEmailRelay,
    fcm: &'a FakeFcm,
    account: &'a TestServiceAccount,
    relay_base: String,
    fcm_base: String,
}

/// A TCP proxy to `upstream` that passes requests on at once and holds
/// each chunk of the answers back for `delay`; its `http://` base URL.
async fn slow_answers(upstream: SocketAddr, delay: Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    return;
                };
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                let requests = tokio::io::copy(&mut client_read, &mut server_write);
                let answers = async {
                    let mut buf = vec![0u8; 16 * 1024];
                    while let Ok(n) = server_read.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                        tokio::time::sleep(delay).await;
                        if client_write.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                };
                // Either side gone (Spin killed, or the fake closed): done.
                tokio::select! {
                    _ = requests => {}
                    () = answers => {}
                }
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spin_killed_three_times_mid_stream_loses_nothing_and_repeats_only_in_flight_sends() {
    let db = fresh_database().await.expect("database");
    let sidecar = FakeSidecar::start().await.expect("sidecar");
    let relay = FakeEmailRelay::start().await.expect("relay");
    let account = TestServiceAccount::new("crash-project");
    let fcm = FakeFcm::start(&account).await.expect("fcm");
    let pg = db.client().await;
    soak_support::seed(&pg, &fcm, &USER, COMPLETIONS).await;

    let providers = Providers {
        db: &db,
        sidecar: &sidecar,
        relay: &relay,
        fcm: &fcm,
        account: &account,
        relay_base: slow_answers(relay.server().addr(), ANSWER_DELAY).await,
        fcm_base: slow_answers(fcm.server().addr(), ANSWER_DELAY).await,
    };
    let (app, driver) = start_app(&providers).await;
    let current = Arc::new(Current {
        app: Mutex::new(Some(app)),
        driver: Mutex::new(driver),
    });

    let mut rng = Rng::new(0xC7A5);
    let events = soak_support::events(&USER, REMINDERS, COMPLETIONS, &mut rng);
    let kill_at: Vec<Duration> = KILL_WINDOWS
        .iter()
        .map(|(lo, hi)| {
            let span_ms = (hi - lo) * 1000;
            Duration::from_millis(lo * 1000 + rng.below(span_ms as usize) as u64)
        })
        .collect();

    let started = Instant::now();
    let in_flight = Arc::new(AtomicUsize::new(0));
    let kills: Arc<Mutex<Vec<Kill>>> = Arc::default();
    let killer = {
        let (current, in_flight, kills) = (current.clone(), in_flight.clone(), kills.clone());
        let (providers, relay, fcm) = (&providers, &relay, &fcm);
        async move {
            for at in kill_at {
                tokio::time::sleep_until((started + at).into()).await;
                // Mid-work: wait (briefly) for an event to be in flight.
                let wait_until = Instant::now() + Duration::from_secs(2);
                while in_flight.load(Ordering::SeqCst) == 0 && Instant::now() < wait_until {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                let app = current.app.lock().unwrap_or_else(|e| e.into_inner()).take();
                let (at, in_flight_now) = (started.elapsed(), in_flight.load(Ordering::SeqCst));
                // SIGKILL to Spin's process group (the guard), waited for.
                if let Some(app) = app {
                    tokio::task::spawn_blocking(move || drop(app))
                        .await
                        .expect("kill");
                }
                // What the providers accepted up to the kill (a request the
                // fakes were still answering when Spin died lands by now;
                // the next app is not started yet, so nothing newer can).
                tokio::time::sleep(Duration::from_secs(1)).await;
                kills.lock().unwrap_or_else(|e| e.into_inner()).push(Kill {
                    at,
                    pushes: fcm.pushes().len(),
                    email_attempts: relay.send_attempts().len(),
                    in_flight: in_flight_now,
                });
                let (app, driver) = start_app(providers).await;
                *current.app.lock().unwrap_or_else(|e| e.into_inner()) = Some(app);
                *current.driver.lock().unwrap_or_else(|e| e.into_inner()) = driver;
            }
        }
    };

    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    let producer = async {
        let mut handles = Vec::new();
        for (i, (topic, data, event_type)) in events.into_iter().enumerate() {
            tokio::time::sleep_until((started + PACE * i as u32).into()).await;
            let permit = slots.clone().acquire_owned().await.expect("semaphore");
            let (current, in_flight) = (current.clone(), in_flight.clone());
            let options = DeliverOptions::new()
                .id(format!("crash-{i}"))
                .event_type(event_type);
            handles.push(tokio::spawn(async move {
                in_flight.fetch_add(1, Ordering::SeqCst);
                let result = settle(&current, topic, data, options).await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                drop(permit);
                (i, topic, result)
            }));
        }
        let mut redeliveries = 0;
        for handle in handles {
            let (i, topic, result) = handle.await.expect("event task");
            match result {
                Ok(attempts) => redeliveries += attempts - 1,
                Err(last) => panic!("event {i} ({topic}) did not settle SUCCESS: {last}"),
            }
        }
        redeliveries
    };
    let ((), redeliveries) = tokio::join!(killer, producer);
    let flowed = started.elapsed();

    // The cron binding's flush publishes whatever is still unpublished.
    let base = current
        .app
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .map(TestApp::base_url)
        .expect("app");
    for _ in 0..20 {
        let res = component_host::client::send("POST", &format!("{base}/outbox-flush"), &[], "")
            .await
            .expect("flush");
        assert_eq!(res.status, 200, "{}", res.text());
        if res.json()["published"] == 0 {
            break;
        }
    }

    let kills = kills.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let Aftermath {
        sent,
        in_flight: in_flight_rows,
        unpublished,
        occurrences,
        series_with_one,
        outcome_ids,
        created_ids,
        metric_drift,
    } = soak_support::aftermath(&pg, &sidecar).await;

    // E-mails: Resend keeps one message per idempotency key (the delivery
    // id); a key accepted again is a resend it absorbed.
    let emails = relay.emails_to(USER.address);
    let email_keys: HashSet<String> = emails
        .iter()
        .filter_map(|e| e.idempotency_key.clone())
        .collect();
    let mut accepted_per_key: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (n, attempt) in relay.send_attempts().iter().enumerate() {
        if attempt.answered.is_some_and(|s| s.is_success()) {
            let key = attempt.header("idempotency-key").expect("key").to_owned();
            accepted_per_key.entry(key).or_default().push(n);
        }
    }
    let email_resends: usize = accepted_per_key.values().map(|at| at.len() - 1).sum();

    // Pushes: FCM accepts every send; a delivery pushed twice is a
    // duplicate the device shows.
    let pushes = fcm.pushes_to(USER.phone);
    let mut per_delivery: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (n, push) in pushes.iter().enumerate() {
        let id = push.data("delivery_id").expect("delivery_id").to_owned();
        per_delivery.entry(id).or_default().push(n);
    }
    let push_duplicates = pushes.len() - per_delivery.len();
    let in_flight_at_kills: usize = kills.iter().map(|k| k.in_flight).sum();

    println!(
        "crash soak: {} events ({REMINDERS} reminders x 2 channels, {COMPLETIONS} completions) in {flowed:.1?}; \
         kills at {:?} with {:?} events in flight; {redeliveries} redeliveries; \
         e-mails {} (resends absorbed by the idempotency key: {email_resends}), pushes {} \
         (duplicates: {push_duplicates}, bound: {in_flight_at_kills} events in flight at the kills); \
         sent rows {sent}, in flight {in_flight_rows}, unpublished {unpublished}, outcome events {}, \
         occurrences {occurrences}, task.created events {}",
        REMINDERS + COMPLETIONS,
        kills.iter().map(|k| k.at).collect::<Vec<_>>(),
        kills.iter().map(|k| k.in_flight).collect::<Vec<_>>(),
        emails.len(),
        pushes.len(),
        outcome_ids.len(),
        created_ids.len(),
    );

    assert!(kills.len() >= 3, "{kills:?}");
    assert!(
        kills.iter().all(|k| k.in_flight > 0),
        "every kill hit events in flight: {kills:?}"
    );
    // Nothing lost, nothing left in flight or unpublished, every occurrence once.
    assert_eq!(emails.len(), REMINDERS, "each reminder e-mailed once");
    assert_eq!(email_keys.len(), REMINDERS);
    assert_eq!(per_delivery.len(), REMINDERS, "each reminder pushed");
    assert_eq!(sent as usize, 2 * REMINDERS);
    assert_eq!(in_flight_rows, 0);
    assert_eq!(unpublished, 0);
    assert_eq!(outcome_ids.len(), 2 * REMINDERS, "every outcome published");
    assert_eq!(occurrences as usize, COMPLETIONS);
    assert_eq!(series_with_one as usize, COMPLETIONS);
    assert_eq!(created_ids.len(), COMPLETIONS);
    // What bounds the repeats: only a send the provider accepted before a
    // kill is repeated after it, at most once per event in flight then.
    // Each send after the first follows a kill that came after the one before.
    let straddles = |at: &[usize], snapshot: fn(&Kill) -> usize| {
        at.windows(2).all(|pair| {
            kills
                .iter()
                .any(|k| pair[0] < snapshot(k) && pair[1] >= snapshot(k))
        })
    };
    for (id, at) in per_delivery.iter().filter(|(_, at)| at.len() > 1) {
        assert!(
            straddles(at, |k| k.pushes),
            "delivery {id}: pushes #{at:?} do not straddle one kill ({kills:?})"
        );
    }
    for (key, at) in accepted_per_key.iter().filter(|(_, at)| at.len() > 1) {
        assert!(
            straddles(at, |k| k.email_attempts),
            "delivery {key}: e-mail attempts #{at:?} do not straddle one kill ({kills:?})"
        );
    }
    assert!(
        push_duplicates <= in_flight_at_kills,
        "{push_duplicates} > {in_flight_at_kills}"
    );
    assert!(
        email_resends <= in_flight_at_kills,
        "{email_resends} > {in_flight_at_kills}"
    );
    assert!(redeliveries > 0);
    // The running counts behind /metrics agree with counting the tables.
    assert_eq!(metric_drift, 0, "metric_counts drifted from the tables");
}

/// Delivers one envelope until the app acknowledges it, to whichever app
/// runs at each attempt; the number of attempts, or the last answer.
async fn settle(
    current: &Current,
    topic: &str,
    data: Value,
    options: DeliverOptions,
) -> Result<usize, String> {
    let deadline = Instant::now() + SETTLE_DEADLINE;
    let (route, envelope) = current
        .driver()
        .envelope(topic, data, &options)
        .map_err(|e| e.to_string())?;
    let mut backoff = Duration::from_millis(25);
    let mut attempts = 0;
    loop {
        attempts += 1;
        let delivery = current.driver().deliver_envelope(&route, &envelope).await;
        match delivery.outcome {
            AppStatus::Success => return Ok(attempts),
            AppStatus::Drop => return Err(format!("DROP: {}", delivery.body_text())),
            AppStatus::Retry if Instant::now() > deadline => {
                return Err(format!(
                    "still RETRY after {attempts} attempts: {:?} {}",
                    delivery.transport_error,
                    delivery.body_text()
                ))
            }
            AppStatus::Retry => {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
}
