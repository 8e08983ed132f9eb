//! The log line of each delivery, and what the deliveries mean for the
//! event's answer to Dapr.

use component_kit::dapr::Outcome;
use dapr_pubsub::CloudEvent;
use notification_delivery::{Channel, DeliveryStatus, ReasonCode};

use super::outcome::{self, LogLine};
use super::plan::Planned;
use super::settings::Settings;
use super::step::Step;

/// Counts of deliveries that keep the event from SUCCESS.
#[derive(Default)]
pub struct Pending {
    retrying: usize,
    busy: usize,
    unpublished: usize,
}

impl Pending {
    /// Logs one delivery's line and counts what it means for the answer.
    pub fn note(
        &mut self,
        settings: &Settings,
        event: &CloudEvent,
        p: &Planned,
        step: &Step,
        publish_error: Option<&str>,
    ) {
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
        // Why a channel is not configured, for its failure's log line.
        let config_error = |reason: Option<ReasonCode>| -> Option<&str> {
            if reason != Some(ReasonCode::ChannelNotConfigured) {
                return None;
            }
            let why = match p.key.channel() {
                Channel::Email => settings.relay.as_ref().err(),
                Channel::Push => settings.fcm.as_ref().err(),
            };
            why.map(String::as_str)
        };
        match step {
            Step::Settle { settled, .. } => {
                let action = if settled.publish && publish_error.is_some() {
                    self.unpublished += 1;
                    "publish_failed"
                } else if settled.retry {
                    self.retrying += 1;
                    "retrying"
                } else {
                    settled.status.as_str()
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
            }
            Step::Republish(o) => {
                let status = if o.reason.is_some() {
                    DeliveryStatus::Failed
                } else {
                    DeliveryStatus::Sent
                };
                let action = match publish_error {
                    Some(_) => {
                        self.unpublished += 1;
                        "publish_failed"
                    }
                    // Recorded as failed by the claim just now.
                    None if o.attempts == 0 => status.as_str(),
                    None => "republished",
                };
                let error = publish_error.or_else(|| config_error(o.reason));
                line(Some(status), o.reason, Some(o.attempts), action, error);
            }
            Step::Skip(status) => line(Some(*status), None, None, "skipped", None),
            Step::Busy(until) => {
                self.busy += 1;
                line(None, None, None, "busy", until.as_deref());
            }
            Step::Call { .. } => self.busy += 1,
        }
    }

    /// SUCCESS when every delivery is done, else RETRY saying why.
    pub fn answer(&self) -> Outcome {
        if self.retrying + self.busy + self.unpublished == 0 {
            return Outcome::Success;
        }
        Outcome::Retry(format!(
            "{} delivery(ies) retrying after a transient provider failure, {} in flight elsewhere or waiting for Retry-After, {} outcome(s) not published",
            self.retrying, self.busy, self.unpublished
        ))
    }
}
