//! The event path of the Notification Service: `POST /events/reminders`
//! (Dapr deliveries of `reminder.due`, single or bulk) and `POST
//! /outbox-flush` (re-publishing outcome events).
//!
//! Each channel of a reminder reaches each recipient exactly once: the
//! business key `(task_id, remind_at, channel, recipient)` is claimed with
//! a compare-and-set and a lease before any provider call (`store::claim`), and
//! the outcome is written with that lease. What every result means is
//! decided in `notification_delivery::delivery`; the files here do the I/O:
//! - [`reminder`]: one event end to end (variables, provider calls through
//!   `component_kit::outbound`, publishes);
//! - [`store`]: its three SQL round trips (lookup, claim, record);
//! - [`outbox`]: the flush.
//!
//! No input may panic: a trap is an HTTP 500, which Dapr retries forever.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod outbox;
mod reminder;
mod store;

use component_kit::dapr::{self, PublishError, Sidecar};
use component_kit::respond;
use dapr_pubsub::CloudEvent;
use notification_delivery::NotificationOutcome;
use spin_sdk::http::{Method, Request, Response};

/// The topic consumed.
const TOPIC: &str = "reminders";

/// Answers a Dapr delivery of `reminders`; each event (or bulk entry) is
/// answered on its own, all sharing one set of variables and one database
/// connection.
pub async fn handle(req: Request) -> Response {
    if *req.method() != Method::Post {
        return respond::method_not_allowed("POST");
    }
    let mut worker = reminder::ReminderWorker::new();
    dapr::answer_delivery(&req, TOPIC, async |event: &CloudEvent| {
        worker.handle(event).await
    })
    .await
}

/// Republishes outcome events whose publish failed (Dapr cron binding).
/// `OPTIONS` is Dapr's start-up probe of a binding route: 200 binds it.
pub async fn outbox_flush(req: Request) -> Response {
    match req.method() {
        Method::Post => outbox::flush(&req).await,
        Method::Options => Response::builder()
            .status(200)
            .header("allow", "POST, OPTIONS")
            .build(),
        _ => respond::method_not_allowed("POST, OPTIONS"),
    }
}

/// Publishes `outcome` to its topic; the delivery id is the CloudEvent id,
/// so a re-publish is recognisably the same event.
async fn publish(
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
