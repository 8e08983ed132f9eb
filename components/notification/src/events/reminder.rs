//! One `reminder.due`: lookup, claim, provider calls, publish, record.
//!
//! Database round trips on the happy path: 1 lookup (subscriber, devices
//! and cached FCM token), 2 claim, 3 record (which also caches a minted
//! token and deletes dead device tokens). Outcome events are published
//! between 2 and 3 (see `store::record` for why that order is safe). What
//! each result means is decided by `notification_delivery::delivery`; this
//! file only moves the deliveries from one I/O step to the next.

use component_kit::dapr::Outcome;
use component_kit::db::{self, DbFault};
use component_kit::log;
use dapr_pubsub::CloudEvent;
use futures::future::join_all;
use jiff::Timestamp;
use notification_delivery::delivery::{self, MAX_DEVICES};
use notification_delivery::{ReminderDue, Step};
use spin_sdk::pg4::Connection;
use tracing::Instrument;

use super::settings::EventConfig;
use super::{providers, store};

/// What one request sets up once, however many bulk entries it carries.
pub struct ReminderWorker {
    /// Read at the first reminder that gets as far as delivering: a bulk of
    /// ignored types or malformed events reads no variable.
    config: Option<EventConfig>,
    conn: Option<Connection>,
}

impl ReminderWorker {
    /// The variables are read and the connection opened on first use.
    pub fn new() -> Self {
        ReminderWorker {
            config: None,
            conn: None,
        }
    }

    /// Handles one CloudEvent of the `reminders` topic.
    pub async fn handle(&mut self, event: &CloudEvent) -> Outcome {
        if event.event_type != ReminderDue::EVENT_TYPE {
            tracing::info!(
                reason = "ignored_type",
                "event type not handled here; acknowledged"
            );
            return Outcome::Success;
        }
        let reminder = match ReminderDue::from_value(&event.data) {
            Ok(reminder) => reminder,
            Err(e) => {
                return Outcome::Drop {
                    reason: e.drop_reason(),
                    detail: e.drop_detail(),
                }
            }
        };
        let span = tracing::info_span!("reminder", task_id = %reminder.task_id);
        let traceparent = event.traceparent.as_deref();
        match self
            .deliver(event, &reminder, traceparent)
            .instrument(span)
            .await
        {
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
        let conn = match self.conn.take() {
            Some(conn) => conn,
            None => db::open()?,
        };
        let conn = self.conn.insert(conn);
        let config = &*self.config.get_or_insert_with(EventConfig::read);
        let user_id = reminder.user_id.as_str();

        // Round trip 1: subscriber, devices, cached token.
        let lookup = store::lookup(conn, user_id, config.token_cache_key())?;
        if lookup.devices.len() >= MAX_DEVICES {
            tracing::warn!(
                user_id,
                limit = MAX_DEVICES,
                "subscriber has more devices than one reminder pushes to"
            );
        }
        let mut deliveries = delivery::plan(reminder, &lookup, config.ready());
        if deliveries.is_empty() {
            tracing::info!("reminder has no channel to deliver");
            return Ok(Outcome::Success);
        }

        // Round trip 2: the claim.
        let rows = store::claim(conn, reminder, &deliveries)?;
        delivery::apply_claims(
            &mut deliveries,
            &rows,
            config.policy,
            user_id,
            Timestamp::now(),
        );

        // The providers, for what this handler holds.
        let minted = providers::call(config, reminder, &lookup, &mut deliveries, traceparent).await;
        // Provider error bodies may echo a secret: scrub before logging or storing.
        let mut secrets = config.secrets();
        if let Some(token) = &minted {
            secrets.add(token.secret());
        }
        if let Some(token) = lookup
            .fcm_token
            .as_ref()
            .and_then(|t| t.fresh(Timestamp::now()))
        {
            secrets.add(token.secret());
        }

        // Every final outcome is published before the write (see store::record).
        join_all(deliveries.iter_mut().map(|d| async move {
            if let Some(outcome) = d.outcome_event(user_id) {
                let published = super::publish(&config.sidecar, &outcome, traceparent).await;
                d.publish_error = published.err().map(|e| e.to_string());
            }
        }))
        .await;

        // Round trip 3: the write.
        let extras = store::Extras {
            user_id,
            minted: minted
                .as_ref()
                .and_then(|token| Some((config.client_email.as_deref()?, token))),
        };
        let expected = deliveries
            .iter()
            .filter(|d| matches!(d.step, Step::Settle { .. }))
            .count();
        let written = store::record(conn, &deliveries, &extras, &secrets)?;
        if written.settled < expected {
            tracing::warn!(
                expected,
                written = written.settled,
                reason = "lease_lost",
                "a delivery's lease ran out before its outcome was written; the handler that took it over records it"
            );
        }

        for d in &deliveries {
            let why = config.not_configured(d.key.channel());
            if let Some((level, mut fields)) = d.log_line(&event.id, why.as_deref()) {
                secrets.scrub_json(&mut fields);
                log::json(level, "delivery", &fields);
            }
        }
        Ok(match delivery::retry_reason(&deliveries) {
            None => Outcome::Success,
            Some(why) => Outcome::Retry(why),
        })
    }
}
