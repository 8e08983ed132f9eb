//! One `reminder.due`: lookup, claim, provider calls, publish, record.
//!
//! Database round trips on the happy path: 1 lookup (subscriber, devices
//! and cached FCM token), 2 claim, 3 record (which also caches a minted
//! token and deletes dead device tokens). Outcome events are published
//! between 2 and 3 (see `record.rs` for why that order is safe). Anything
//! already final is skipped; a delivery another handler holds, or one
//! waiting for the provider's `Retry-After`, makes the answer RETRY without
//! a provider call.

use component_kit::dapr::Outcome;
use component_kit::db::{self, DbFault};
use component_kit::log;
use dapr_pubsub::{CloudEvent, RejectReason};
use futures::future::join_all;
use jiff::Timestamp;
use notification_delivery::http::is_traceparent;
use notification_delivery::{Channel, NotificationOutcome, ReasonCode, ReminderDue};
use serde_json::json;
use spin_sdk::pg4::Connection;

use super::claim;
use super::lookup::{self, MAX_DEVICES};
use super::outcome;
use super::plan::{self, Planned, Ready};
use super::providers;
use super::record::{self, Record, Write};
use super::report::Pending;
use super::settings::Settings;
use super::step::Step;

/// What one request sets up once, however many bulk entries it carries.
pub struct Worker {
    settings: Settings,
    conn: Option<Connection>,
    /// `traceparent` of the HTTP request, when the envelope has none.
    header_traceparent: Option<String>,
}

impl Worker {
    /// Reads the variables; the connection opens on first use.
    pub fn new(header_traceparent: Option<String>) -> Self {
        Worker {
            settings: Settings::read(),
            conn: None,
            header_traceparent,
        }
    }

    /// Handles one CloudEvent of the `reminders` topic.
    pub async fn handle(&mut self, event: &CloudEvent) -> Outcome {
        if event.event_type != ReminderDue::EVENT_TYPE {
            log::info(
                "event type not handled here; acknowledged",
                json!({"event_id": event.id, "type": event.event_type, "reason": "ignored_type"}),
            );
            return Outcome::Success;
        }
        let mut reminder = match ReminderDue::from_value(&event.data) {
            Ok(reminder) => reminder,
            Err(e) => {
                // The kit's codes are coarser; the precise one leads the detail.
                let reason = match e.reason {
                    notification_delivery::RejectReason::MalformedJson => {
                        RejectReason::MalformedJson
                    }
                    _ => RejectReason::SchemaViolation,
                };
                return Outcome::Drop {
                    reason,
                    detail: format!("{}: {}", e.reason.as_str(), e.message),
                };
            }
        };
        // Postgres keeps microseconds: the key must use the instant the
        // row stores, or two spellings of one reminder below a microsecond
        // apart would get two ids for one unique row.
        if let Ok(us) = Timestamp::from_microsecond(reminder.remind_at.as_microsecond()) {
            reminder.remind_at = us;
        }
        let traceparent = event
            .traceparent
            .clone()
            .or_else(|| self.header_traceparent.clone())
            .filter(|t| is_traceparent(t));
        match self.deliver(event, &reminder, traceparent.as_deref()).await {
            Ok(outcome) => outcome,
            Err(fault) => {
                // The connection may be broken; the next entry opens anew.
                self.conn = None;
                Outcome::Retry(format!("database: {fault}"))
            }
        }
    }

    async fn deliver(
        &mut self,
        event: &CloudEvent,
        reminder: &ReminderDue,
        traceparent: Option<&str>,
    ) -> Result<Outcome, DbFault> {
        if self.conn.is_none() {
            self.conn = Some(db::open()?);
        }
        let Some(conn) = self.conn.as_ref() else {
            return Err(DbFault("no connection".into()));
        };
        let settings = &self.settings;

        // Round trip 1: subscriber, devices, cached token.
        let client_email = settings
            .fcm
            .as_ref()
            .ok()
            .and(settings.client_email.as_deref());
        let found = lookup::lookup(conn, &reminder.user_id, client_email)?;
        if found.devices.len() >= MAX_DEVICES {
            log::warn(
                "subscriber has more devices than one reminder pushes to",
                json!({"event_id": event.id, "user_id": reminder.user_id, "limit": MAX_DEVICES}),
            );
        }
        let ready = Ready {
            email: settings.relay.is_ok(),
            push: settings.fcm.is_ok(),
        };
        let planned = plan::plan(reminder, &found, ready);
        if planned.is_empty() {
            log::info(
                "reminder has no channel to deliver",
                json!({"event_id": event.id, "task_id": reminder.task_id.to_string()}),
            );
            return Ok(Outcome::Success);
        }

        // Round trip 2: the claim.
        let claims = claim::claim(conn, reminder, &planned)?;
        let now = Timestamp::now();
        let mut steps: Vec<Step> = planned
            .iter()
            .zip(claims)
            .map(|(p, c)| Step::from_claim(settings.policy, p, c, &reminder.user_id, now))
            .collect();

        // The providers, for what this handler holds.
        let calls = planned
            .iter()
            .enumerate()
            .filter(|(i, _)| steps.get(*i).is_some_and(Step::is_call))
            .collect();
        let called = providers::call(settings, reminder, &found, calls, traceparent).await;
        for (i, attempt) in called.attempts {
            if let Some(step) = steps.get_mut(i) {
                step.settle(settings.policy, attempt);
            }
        }

        // Every final outcome is published before the write (see record.rs).
        let events: Vec<(usize, NotificationOutcome)> = planned
            .iter()
            .zip(&steps)
            .enumerate()
            .filter_map(|(i, (p, step))| Some((i, step.outcome_event(p, &reminder.user_id)?)))
            .collect();
        let results = join_all(
            events
                .iter()
                .map(|(_, e)| outcome::publish(&settings.sidecar, e, traceparent)),
        )
        .await;
        let mut publish_errors: Vec<Option<String>> = vec![None; planned.len()];
        for ((i, _), result) in events.iter().zip(results) {
            if let (Some(slot), Err(e)) = (publish_errors.get_mut(*i), result) {
                *slot = Some(e);
            }
        }
        let failed_publish = |i: usize| publish_errors.get(i).and_then(Option::as_deref);

        // Round trip 3: the write.
        let record = Record {
            writes: writes(&planned, &steps, &failed_publish),
            dead_tokens: planned
                .iter()
                .zip(&steps)
                .filter(|(p, step)| {
                    p.key.channel() == Channel::Push
                        && matches!(step, Step::Settle { settled, .. }
                            if settled.reason == Some(ReasonCode::InvalidToken))
                })
                .map(|(p, _)| p.key.recipient())
                .collect(),
            user_id: &reminder.user_id,
            minted: called
                .minted
                .as_ref()
                .and_then(|token| Some((settings.client_email.as_deref()?, token))),
        };
        let expected = record
            .writes
            .iter()
            .filter(|w| matches!(w, Write::Settle { .. }))
            .count();
        let written = record::write(conn, &record)?;
        if written.settled < expected {
            log::warn(
                "a delivery's lease ran out before its outcome was written; the handler that took it over records it",
                json!({"event_id": event.id, "expected": expected, "written": written.settled,
                       "reason": "lease_lost"}),
            );
        }

        let mut pending = Pending::default();
        for (i, (p, step)) in planned.iter().zip(&steps).enumerate() {
            pending.note(settings, event, p, step, failed_publish(i));
        }
        Ok(pending.answer())
    }
}

/// The delivery rows to write: every settlement (published or not), and
/// the re-published outcomes to mark.
fn writes<'a>(
    planned: &'a [Planned],
    steps: &'a [Step],
    failed_publish: &dyn Fn(usize) -> Option<&'a str>,
) -> Vec<Write<'a>> {
    let mut out = Vec::new();
    for (i, (p, step)) in planned.iter().zip(steps).enumerate() {
        match step {
            Step::Settle {
                settled,
                lease_until,
            } => out.push(Write::Settle {
                delivery_id: &p.id,
                lease_until,
                settled,
                published: settled.publish && failed_publish(i).is_none(),
            }),
            Step::Republish(_) if failed_publish(i).is_none() => {
                out.push(Write::MarkPublished { delivery_id: &p.id })
            }
            _ => {}
        }
    }
    out
}
