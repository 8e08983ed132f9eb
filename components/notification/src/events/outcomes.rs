//! The outcome events (`notification.sent` / `notification.failed`):
//! publishing one, as the outbox flush does, and every one of a set of
//! reminders at once, as the reminder path does.

use std::time::{Duration, Instant};

use notification_core::batch::ReminderSet;
use notification_core::NotificationOutcome;
use spin_glue::dapr::{PublishError, Sidecar};
use spin_glue::outbound::bounded;

/// Outcome publishes of one request in flight at once (the sidecar is on
/// localhost; 32 publishes 200 outcomes in about seven rounds).
const PUBLISHES_IN_FLIGHT: usize = 32;

/// No publish starts later than this after the claim, so the record
/// statement runs inside the claim's lease; an outcome left unpublished is
/// recorded so, and the redelivery or the outbox flush publishes it.
const PUBLISH_WINDOW: Duration = Duration::from_secs(45);

/// Publishes the outcome event of every delivery that has one, at most
/// [`PUBLISHES_IN_FLIGHT`] at once, each with its first reminder's trace;
/// a publish past [`PUBLISH_WINDOW`] is not made and counts as failed.
pub(super) async fn publish_all(
    sidecar: &Sidecar,
    set: &mut ReminderSet,
    traceparents: &[Option<&str>],
    claimed: Instant,
) {
    let events: Vec<(usize, NotificationOutcome, Option<&str>)> = set
        .deliveries
        .iter()
        .enumerate()
        .filter_map(|(at, d)| {
            let outcome = d.outcome_event(set.user_of(at))?;
            let trace = set
                .owner(at)
                .and_then(|r| traceparents.get(r).copied().flatten());
            Some((at, outcome, trace))
        })
        .collect();
    let results = bounded(
        events.iter().map(|(at, outcome, trace)| async move {
            let result = if claimed.elapsed() > PUBLISH_WINDOW {
                Err("publish window passed; left for the redelivery or the outbox".to_owned())
            } else {
                publish(sidecar, outcome, *trace)
                    .await
                    .map_err(|e| e.to_string())
            };
            (*at, result)
        }),
        PUBLISHES_IN_FLIGHT,
    )
    .await;
    for (at, result) in results {
        if let Some(d) = set.deliveries.get_mut(at) {
            d.publish_error = result.err();
        }
    }
}

/// Publishes `outcome` to its topic; the delivery id is the CloudEvent id,
/// so a re-publish is recognisably the same event.
pub(super) async fn publish(
    sidecar: &Sidecar,
    outcome: &NotificationOutcome,
    traceparent: Option<&str>,
) -> Result<(), PublishError> {
    let id = outcome.cloudevent_id();
    let topic = NotificationOutcome::TOPIC;
    sidecar
        .publish(topic, &id, outcome.event_type(), outcome, traceparent)
        .await
}
