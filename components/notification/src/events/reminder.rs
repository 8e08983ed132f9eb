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
use notification_delivery::{
    render_reminder, Channel, DeliveryStatus, NextStep, NotificationOutcome, ReasonCode,
    ReminderDue,
};
use serde_json::json;
use spin_sdk::pg4::Connection;

use super::claim::{self, Claim};
use super::email;
use super::fcm_token::TokenSource;
use super::lookup::{self, Found, MAX_DEVICES};
use super::outcome::{self, Attempt, LogLine, Settled};
use super::plan::{self, Planned, Ready};
use super::push::{self, PushJob};
use super::record::{self, Record, Write};
use super::settings::Settings;

/// What one request sets up once, however many bulk entries it carries.
pub struct Worker {
    settings: Settings,
    conn: Option<Connection>,
    /// `traceparent` of the HTTP request, when the envelope has none.
    header_traceparent: Option<String>,
}

/// What happens to one planned delivery in this request.
enum Step {
    /// Call the provider (the claim's attempts and lease).
    Call { attempts: u32, lease_until: String },
    /// Settled without a call (budget spent): write it.
    Settle {
        settled: Settled,
        lease_until: String,
    },
    /// Publish an outcome that is already stored.
    Republish(NotificationOutcome),
    /// Final and published.
    Skip(DeliveryStatus),
    /// Held elsewhere or waiting for `Retry-After`.
    Busy(Option<String>),
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
        let claims = claim::claim(conn, reminder, &planned)?;
        let now = Timestamp::now();
        let mut steps: Vec<Step> = planned
            .iter()
            .zip(claims)
            .map(|(p, c)| self.step(p, c, reminder, now))
            .collect();

        let attempts = self.call_providers(reminder, &found, &planned, &steps, traceparent);
        let (attempts, minted) = attempts.await;
        for (i, attempt) in attempts {
            if let Some(step @ Step::Call { .. }) = steps.get_mut(i) {
                let Step::Call {
                    attempts: before,
                    lease_until,
                } = std::mem::replace(step, Step::Busy(None))
                else {
                    continue;
                };
                *step = Step::Settle {
                    settled: outcome::settle(settings.policy, before, attempt),
                    lease_until,
                };
            }
        }

        // Publish every final outcome, then record everything in one go.
        let outcomes: Vec<(usize, NotificationOutcome)> = steps
            .iter()
            .enumerate()
            .filter_map(|(i, step)| {
                let p = planned.get(i)?;
                match step {
                    Step::Settle { settled, .. } if settled.publish => Some((
                        i,
                        outcome::outcome_event(
                            &p.key,
                            &reminder.user_id,
                            settled.status,
                            settled.reason,
                            settled.provider_message_id.clone(),
                            settled.attempts,
                            settled.at,
                        ),
                    )),
                    Step::Republish(event) => Some((i, event.clone())),
                    _ => None,
                }
            })
            .collect();
        let published = join_all(
            outcomes
                .iter()
                .map(|(_, o)| outcome::publish(&settings.sidecar, o, traceparent)),
        )
        .await;
        let publish_error = |i: usize| -> Option<&String> {
            outcomes
                .iter()
                .zip(&published)
                .find(|((j, _), _)| *j == i)
                .and_then(|(_, r)| r.as_ref().err())
        };

        let mut writes = Vec::new();
        let mut dead_tokens = Vec::new();
        for (i, (p, step)) in planned.iter().zip(&steps).enumerate() {
            match step {
                Step::Settle {
                    settled,
                    lease_until,
                } => {
                    writes.push(Write::Settle {
                        delivery_id: &p.id,
                        lease_until,
                        settled,
                        published: settled.publish && publish_error(i).is_none(),
                    });
                    if settled.reason == Some(ReasonCode::InvalidToken)
                        && p.key.channel() == Channel::Push
                    {
                        dead_tokens.push(p.key.recipient());
                    }
                }
                Step::Republish(_) if publish_error(i).is_none() => {
                    writes.push(Write::MarkPublished { delivery_id: &p.id })
                }
                _ => {}
            }
        }
        let settle_count = writes
            .iter()
            .filter(|w| matches!(w, Write::Settle { .. }))
            .count();
        let minted = minted
            .as_ref()
            .and_then(|token| Some((settings.client_email.as_deref()?, token)));
        let written = record::write(
            conn,
            &Record {
                writes,
                dead_tokens,
                user_id: &reminder.user_id,
                minted,
            },
        )?;
        if written.settled < settle_count {
            log::warn(
                "a delivery's lease ran out before its outcome was written; the handler that took it over records it",
                json!({"event_id": event.id, "expected": settle_count, "written": written.settled,
                       "reason": "lease_lost"}),
            );
        }

        let mut pending = Pending::default();
        for (i, (p, step)) in planned.iter().zip(&steps).enumerate() {
            pending.note(self.log_step(event, p, step, publish_error(i).map(String::as_str)));
        }
        Ok(pending.answer())
    }

    /// Turns a claim into what to do.
    fn step(&self, p: &Planned, claim: Claim, reminder: &ReminderDue, now: Timestamp) -> Step {
        match claim {
            Claim::Mine {
                status,
                attempts,
                lease_until,
            } => match (
                p.failure,
                self.settings.policy.next_step(status, attempts, None, now),
            ) {
                (_, NextStep::GiveUp) => Step::Settle {
                    settled: outcome::fail_without_call(ReasonCode::AttemptsExhausted, attempts),
                    lease_until,
                },
                // A channel that cannot be served, found claimable (only a
                // row written by another version could be): fail, no call.
                (Some(reason), _) => Step::Settle {
                    settled: outcome::fail_without_call(reason, attempts),
                    lease_until,
                },
                (None, _) => Step::Call {
                    attempts,
                    lease_until,
                },
            },
            Claim::Unpublished(stored) => Step::Republish(outcome::outcome_event(
                &p.key,
                &reminder.user_id,
                stored.status,
                stored.reason,
                stored.provider_message_id,
                stored.attempts,
                stored.at,
            )),
            Claim::Done(status) => Step::Skip(status),
            Claim::Busy { next_attempt_at } => Step::Busy(next_attempt_at),
        }
    }

    /// Calls the providers for every `Step::Call`, e-mail and pushes at the
    /// same time. Returns each attempt by index, and a minted token.
    async fn call_providers(
        &self,
        reminder: &ReminderDue,
        found: &Found,
        planned: &[Planned],
        steps: &[Step],
        traceparent: Option<&str>,
    ) -> (
        Vec<(usize, Attempt)>,
        Option<notification_delivery::AccessToken>,
    ) {
        let calls: Vec<(usize, &Planned)> = planned
            .iter()
            .enumerate()
            .filter(|(i, _)| matches!(steps.get(*i), Some(Step::Call { .. })))
            .collect();
        if calls.is_empty() {
            return (Vec::new(), None);
        }
        let settings = &self.settings;
        let timezone = found
            .subscriber
            .as_ref()
            .map_or("UTC", |s| s.timezone.as_str());
        let content = render_reminder(&reminder.title, reminder.due_at, timezone);
        let (emails, pushes): (Vec<_>, Vec<_>) = calls
            .into_iter()
            .partition(|(_, p)| p.key.channel() == Channel::Email);

        let email_calls = join_all(emails.iter().map(|(i, p)| {
            let content = &content;
            async move {
                let attempt = match &settings.relay {
                    Ok(relay) => email::send(relay, &p.key, content, traceparent).await,
                    Err(why) => not_configured(why),
                };
                (*i, attempt)
            }
        }));
        let now = Timestamp::now();
        let cached = found.fcm_token.as_ref().and_then(|t| t.fresh(now));
        let push_calls = async {
            let keys: Vec<_> = pushes.iter().map(|(_, p)| &p.key).collect();
            let results = match &settings.fcm {
                Ok(fcm) => {
                    let mut tokens = TokenSource::new(fcm, &settings.service_account_json, cached);
                    let job = PushJob {
                        fcm,
                        content: &content,
                        due_at: reminder.due_at,
                        traceparent,
                    };
                    let attempts = push::send_all(&job, &mut tokens, &keys).await;
                    (attempts, tokens.minted().cloned())
                }
                Err(why) => (vec![not_configured(why); keys.len()], None),
            };
            let (attempts, minted) = results;
            let indexed: Vec<(usize, Attempt)> =
                pushes.iter().map(|(i, _)| *i).zip(attempts).collect();
            (indexed, minted)
        };
        let (mut attempts, (push_attempts, minted)) = futures::join!(email_calls, push_calls);
        attempts.extend(push_attempts);
        (attempts, minted)
    }

    /// The one log line of a delivery; returns what it means for the answer.
    fn log_step(
        &self,
        event: &CloudEvent,
        p: &Planned,
        step: &Step,
        publish_error: Option<&str>,
    ) -> Verdict {
        let line = |status, reason, attempts, action, error| {
            outcome::log_line(LogLine {
                event_id: &event.id,
                key: &p.key,
                delivery_id: &p.id,
                status,
                reason,
                attempts,
                action,
                error,
            })
        };
        let config_error = |reason: Option<ReasonCode>| -> Option<&str> {
            if reason != Some(ReasonCode::ChannelNotConfigured) {
                return None;
            }
            let why = match p.key.channel() {
                Channel::Email => self.settings.relay.as_ref().err(),
                Channel::Push => self.settings.fcm.as_ref().err(),
            };
            why.map(String::as_str)
        };
        match step {
            Step::Settle { settled, .. } => {
                let (action, verdict) = match (publish_error, settled.retry) {
                    (Some(_), _) if settled.publish => ("publish_failed", Verdict::PublishFailed),
                    (_, true) => ("retrying", Verdict::Retrying),
                    _ => (settled.status.as_str(), Verdict::Done),
                };
                let error = publish_error
                    .or(settled.last_error.as_deref())
                    .or_else(|| config_error(settled.reason));
                line(
                    Some(settled.status),
                    settled.reason,
                    Some(settled.attempts),
                    action,
                    error,
                );
                verdict
            }
            Step::Republish(o) => {
                let status = if o.reason.is_some() {
                    DeliveryStatus::Failed
                } else {
                    DeliveryStatus::Sent
                };
                let (action, verdict) = match publish_error {
                    Some(_) => ("publish_failed", Verdict::PublishFailed),
                    None if o.attempts == 0 => (status.as_str(), Verdict::Done),
                    None => ("republished", Verdict::Done),
                };
                line(
                    Some(status),
                    o.reason,
                    Some(o.attempts),
                    action,
                    publish_error.or_else(|| config_error(o.reason)),
                );
                verdict
            }
            Step::Skip(status) => {
                line(Some(*status), None, None, "skipped", None);
                Verdict::Done
            }
            Step::Busy(until) => {
                line(None, None, None, "busy", until.as_deref());
                Verdict::Busy
            }
            Step::Call { .. } => Verdict::Busy,
        }
    }
}

fn not_configured(why: &str) -> Attempt {
    Attempt::Failed {
        reason: ReasonCode::ChannelNotConfigured,
        detail: why.to_owned(),
    }
}

/// What a delivery means for the event's answer.
enum Verdict {
    Done,
    Retrying,
    Busy,
    PublishFailed,
}

/// Counts of deliveries that keep the event from SUCCESS.
#[derive(Default)]
struct Pending {
    retrying: usize,
    busy: usize,
    unpublished: usize,
}

impl Pending {
    fn note(&mut self, verdict: Verdict) {
        match verdict {
            Verdict::Done => {}
            Verdict::Retrying => self.retrying += 1,
            Verdict::Busy => self.busy += 1,
            Verdict::PublishFailed => self.unpublished += 1,
        }
    }

    fn answer(&self) -> Outcome {
        if self.retrying + self.busy + self.unpublished == 0 {
            return Outcome::Success;
        }
        Outcome::Retry(format!(
            "{} delivery(ies) retrying after a transient provider failure, {} in flight elsewhere or waiting for Retry-After, {} outcome(s) not published",
            self.retrying, self.busy, self.unpublished
        ))
    }
}
