//! `POST /events/reminders`: the `reminder.due` events of one Dapr
//! request (a single event or a bulk), handled as one set in named steps:
//!
//! 1. [`store::lookup`]: every user's subscriber and devices, and the
//!    cached FCM token (one statement);
//! 2. plan ([`ReminderSet::plan`], each business key once) and
//!    [`store::claim`] (one statement);
//! 3. [`providers::call_all`]: the e-mails and pushes, concurrently within
//!    bounds and deadlines;
//! 4. [`outcomes::publish_all`]: every final outcome, concurrently;
//! 5. [`store::record`]: everything learnt (one statement);
//! 6. one log line per notification delivery and one answer per event.
//!
//! Three statements per request whatever the number of reminders in it.
//! Outcome events are published between 3 and 5 (see `store::record` for
//! why that order is safe). What each result means is decided by
//! `notification_core::{batch, delivery}`; this file only moves the
//! deliveries from one I/O step to the next.

use std::time::Instant;

use jiff::Timestamp;
use notification_core::batch::{Lookups, ReminderSet};
use notification_core::delivery::MAX_DEVICES;
use notification_core::{AccessToken, EventSettings, ReminderDue, Secrets};
use spin_glue::dapr::{self, Incoming, Outcome, Sidecar};
use spin_glue::db::{DbFault, LazyConnection};
use spin_glue::{log, serve, vars};
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::pg4::Connection;

use super::{outcomes, providers, store};

/// The topic consumed.
const TOPIC: &str = "reminders";

/// Answers a Dapr request of `reminders`; its events are handled together
/// on the request's one connection (lent by `answer_events`), each
/// answered on its own.
pub async fn handle(req: Request) -> Response {
    if *req.method() != Method::Post {
        return serve::method_not_allowed("POST");
    }
    dapr::answer_events(
        &req,
        TOPIC,
        ReminderDue::EVENT_TYPE,
        async |conn: &mut LazyConnection, events: &[Incoming]| deliver_all(conn, events).await,
    )
    .await
}

/// The variables of the event path, read once per request.
struct EventConfig {
    settings: EventSettings,
    sidecar: Sidecar,
}

impl EventConfig {
    /// Reads and interprets the variables; an unusable attempt limit is
    /// logged once and replaced by the default.
    fn read() -> Self {
        let settings = EventSettings::from_variables(vars::get_or);
        if let Some(e) = &settings.policy_error {
            tracing::warn!(
                reason = "invalid_configuration",
                detail = %e,
                default = notification_core::AttemptPolicy::DEFAULT_MAX_ATTEMPTS,
                "max_delivery_attempts is invalid; using the default"
            );
        }
        EventConfig {
            settings,
            sidecar: Sidecar::from_vars(),
        }
    }
}

/// A well-formed reminder's event: its trace and the span of its lines.
struct Origin<'a> {
    /// Index of the event in the request.
    at: usize,
    event: &'a Incoming,
    /// `reminder` span (task id) inside the event's span.
    span: tracing::Span,
}

/// One outcome per event, in order.
async fn deliver_all(conn: &mut LazyConnection, events: &[Incoming]) -> Vec<Outcome> {
    let mut outcomes: Vec<Option<Outcome>> = vec![None; events.len()];
    let mut reminders = Vec::new();
    let mut origins = Vec::new();
    for (at, event) in events.iter().enumerate() {
        match ReminderDue::from_value(&event.event.data) {
            Ok(reminder) => {
                let span = tracing::info_span!(parent: &event.span, "reminder", task_id = %reminder.task_id);
                origins.push(Origin { at, event, span });
                reminders.push(reminder);
            }
            Err(e) => decide(
                &mut outcomes,
                at,
                Outcome::Drop {
                    reason: e.drop_reason(),
                    detail: e.drop_detail(),
                },
            ),
        }
    }
    if !reminders.is_empty() {
        // Read only when a reminder gets as far as delivering: a request
        // of ignored types or malformed events reads no variable.
        let config = EventConfig::read();
        match deliver(conn, &config, reminders, &origins).await {
            Ok(answers) => {
                for (origin, answer) in origins.iter().zip(answers) {
                    decide(&mut outcomes, origin.at, answer);
                }
            }
            Err(fault) => {
                conn.reset();
                for origin in &origins {
                    decide(
                        &mut outcomes,
                        origin.at,
                        Outcome::Retry(format!("database: {fault}")),
                    );
                }
            }
        }
    }
    outcomes
        .into_iter()
        .map(|o| o.unwrap_or_else(|| Outcome::Retry("not handled".into())))
        .collect()
}

fn decide(outcomes: &mut [Option<Outcome>], at: usize, outcome: Outcome) {
    if let Some(slot) = outcomes.get_mut(at) {
        *slot = Some(outcome);
    }
}

/// Steps 1 to 6 for the well-formed reminders; one answer per reminder.
async fn deliver(
    conn: &mut LazyConnection,
    config: &EventConfig,
    reminders: Vec<ReminderDue>,
    origins: &[Origin<'_>],
) -> Result<Vec<Outcome>, DbFault> {
    let conn = conn.get()?;
    let settings = &config.settings;
    // 1. Subscribers, devices, cached token.
    let (lookups, cached) = look_up(conn, &reminders, settings)?;
    // 2. Plan and claim.
    let mut set = ReminderSet::plan(reminders, &lookups, settings.ready());
    if set.deliveries.is_empty() {
        return Ok(answer(&set, origins));
    }
    let rows = store::claim(conn, &set, settings)?;
    let claimed = Instant::now();
    set.apply_claims(&rows, settings.policy, Timestamp::now());
    // 3. The providers, for what this handler holds.
    let traceparents: Vec<Option<&str>> = origins
        .iter()
        .map(|o| o.event.event.traceparent.as_deref())
        .collect();
    let minted =
        providers::call_all(settings, &mut set, &traceparents, cached.clone(), claimed).await;
    // Provider error bodies may echo a secret: scrub before logging or storing.
    let mut secrets = settings.secrets();
    for token in minted.iter().chain(cached.iter()) {
        secrets.add(token.secret());
    }
    // 4. Every final outcome is published before the write (see store::record).
    outcomes::publish_all(&config.sidecar, &mut set, &traceparents, claimed).await;
    // 5. The write.
    record(conn, &set, settings, minted.as_ref(), &secrets)?;
    // 6. One line per notification delivery, one answer per event.
    log_lines(&set, settings, origins, &secrets);
    Ok(answer(&set, origins))
}

/// Step 1: every user's subscriber and devices, and the cached access
/// token if it is still fresh.
fn look_up(
    conn: &Connection,
    reminders: &[ReminderDue],
    settings: &EventSettings,
) -> Result<(Lookups, Option<AccessToken>), DbFault> {
    let mut users: Vec<&str> = reminders.iter().map(|r| r.user_id.as_str()).collect();
    users.sort_unstable();
    users.dedup();
    let lookups = store::lookup(conn, &users, settings.token_cache_key())?;
    for user in lookups
        .users
        .iter()
        .filter(|u| u.devices.len() >= MAX_DEVICES)
    {
        tracing::warn!(
            user_id = %user.user_id,
            limit = MAX_DEVICES,
            "subscriber has more devices than one reminder pushes to"
        );
    }
    let cached = lookups
        .fcm_token
        .as_ref()
        .and_then(|t| t.fresh(Timestamp::now()));
    Ok((lookups, cached))
}

/// Step 5: the settlements, the dead device tokens and a minted access
/// token, in one statement; a lost lease is logged.
fn record(
    conn: &Connection,
    set: &ReminderSet,
    settings: &EventSettings,
    minted: Option<&AccessToken>,
    secrets: &Secrets,
) -> Result<(), DbFault> {
    let extras = store::Extras {
        dead_tokens: set.dead_tokens(),
        minted: minted.and_then(|token| Some((settings.client_email.as_deref()?, token))),
    };
    let expected = set.to_settle();
    let written = store::record(conn, &set.deliveries, &extras, secrets)?;
    if written.settled < expected {
        tracing::warn!(
            expected,
            written = written.settled,
            reason = "lease_lost",
            "a delivery's lease ran out before its outcome was written; the handler that took it over records it"
        );
    }
    Ok(())
}

/// Step 6a: one line per notification delivery, under its first reminder.
fn log_lines(
    set: &ReminderSet,
    settings: &EventSettings,
    origins: &[Origin<'_>],
    secrets: &Secrets,
) {
    for (at, d) in set.deliveries.iter().enumerate() {
        let Some(origin) = set.owner(at).and_then(|r| origins.get(r)) else {
            continue;
        };
        let why = settings.not_configured(d.key.channel());
        if let Some((level, mut fields)) = d.log_line(&origin.event.event.id, why.as_deref()) {
            secrets.scrub_json(&mut fields);
            origin
                .span
                .in_scope(|| log::json(level, "delivery", &fields));
        }
    }
}

/// Step 6b: one answer per reminder, as its deliveries decide.
fn answer(set: &ReminderSet, origins: &[Origin<'_>]) -> Vec<Outcome> {
    (0..origins.len())
        .map(|r| {
            if set.members(r).is_empty() {
                if let Some(origin) = origins.get(r) {
                    origin
                        .span
                        .in_scope(|| tracing::info!("reminder has no channel to deliver"));
                }
            }
            match set.retry_reason(r) {
                None => Outcome::Success,
                Some(why) => Outcome::Retry(why),
            }
        })
        .collect()
}
