//! The two ways a component meets the Dapr sidecar: answering deliveries
//! (single or bulk) and publishing through `/v1.0/publish`.

use dapr_pubsub::delivery::Partial;
use dapr_pubsub::rejection::{truncate_utf8, MAX_KEPT_PAYLOAD};
use dapr_pubsub::{
    parse_delivery, publish_request, publish_succeeded, AppStatus, BulkResponse, CloudEvent,
    DeliveryBody, DeliveryEntry, EntryStatus, OutgoingEvent, RejectReason, RejectedEvent,
};
use spin_sdk::http::{Request, Response};
use tracing::Instrument;

use crate::outbound::{self, CallError};
use crate::{db, serve, vars};

/// Keeps a dropped event in `rejected_events` (docs/CONTRACT.md, "Dapr
/// behaviour": a DROP is never lost).
const KEEP_REJECTED: &str =
    "INSERT INTO rejected_events (id, source, type, topic, reason, detail, payload) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// Deadline of one publish to the sidecar (Dapr's own publish timeout is 5 s).
pub const PUBLISH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// What a service decided about one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Handled, a duplicate, or ignored.
    Success,
    /// Transient fault; the string says what failed (for the log line).
    Retry(String),
    /// Can never succeed; kept in `rejected_events`.
    Drop {
        /// Stable reason code.
        reason: RejectReason,
        /// Which field or rule part was wrong.
        detail: String,
    },
}

/// Answers a Dapr delivery on `topic`: each event (one, or each bulk entry)
/// of `event_type` goes through `handle`; malformed ones are dropped and
/// kept without it, and events of any other type are acknowledged with a
/// log line (a topic may carry types this service does not handle).
/// Each event is handled in an `event` span (CloudEvent id, type, topic,
/// trace id) and carries the trace it continues (`dapr_pubsub::trace`).
pub async fn answer_delivery<F>(
    req: &Request,
    topic: &str,
    event_type: &str,
    mut handle: F,
) -> Response
where
    F: AsyncFnMut(&CloudEvent) -> Outcome,
{
    let mut handle = async |event: &CloudEvent| {
        if event.event_type != event_type {
            tracing::info!(
                reason = "ignored_type",
                "event type not handled here; acknowledged"
            );
            return Outcome::Success;
        }
        handle(event).await
    };
    let header = req.header("traceparent").and_then(|v| v.as_str());
    match parse_delivery(req.body()) {
        DeliveryBody::Single(entry) => {
            serve::delivery(process(entry, topic, header, &mut handle).await)
        }
        DeliveryBody::Bulk(entries) => {
            let mut statuses = Vec::with_capacity(entries.len());
            for entry in entries {
                let entry_id = entry.entry_id.clone().unwrap_or_default();
                let status = process(entry, topic, header, &mut handle).await;
                statuses.push(EntryStatus { entry_id, status });
            }
            serve::bulk_delivery(&BulkResponse { statuses })
        }
        DeliveryBody::Oversize { entry_ids, partial } => {
            let kept = reject(rejected(
                &partial,
                topic,
                RejectReason::TooLarge,
                RejectReason::TooLarge.as_str().into(),
            ));
            match entry_ids {
                None => serve::delivery(kept),
                Some(ids) => serve::bulk_delivery(&BulkResponse {
                    statuses: ids
                        .into_iter()
                        .map(|entry_id| EntryStatus {
                            entry_id,
                            status: kept,
                        })
                        .collect(),
                }),
            }
        }
    }
}

async fn process<F>(
    entry: DeliveryEntry,
    topic: &str,
    header_traceparent: Option<&str>,
    handle: &mut F,
) -> AppStatus
where
    F: AsyncFnMut(&CloudEvent) -> Outcome,
{
    let mut event = match entry.event {
        Ok(event) => event,
        Err((reason, partial)) => {
            let trace = dapr_pubsub::trace::continued(header_traceparent, None);
            let span = event_span(
                partial.id.as_deref(),
                partial.event_type.as_deref(),
                topic,
                trace,
            );
            let _entered = span.enter();
            return reject(rejected(&partial, topic, reason, reason.as_str().into()));
        }
    };
    let trace = dapr_pubsub::trace::continued(header_traceparent, event.traceparent.as_deref())
        .map(str::to_owned);
    event.traceparent = trace;
    let span = event_span(
        Some(&event.id),
        Some(&event.event_type),
        topic,
        event.traceparent.as_deref(),
    );
    let outcome = handle(&event).instrument(span.clone()).await;
    let _entered = span.enter();
    match outcome {
        Outcome::Success => AppStatus::Success,
        Outcome::Retry(why) => {
            tracing::warn!(reason = "transient", detail = %why, "event will be retried");
            AppStatus::Retry
        }
        Outcome::Drop { reason, detail } => {
            let partial = Partial {
                id: Some(event.id.clone()),
                source: Some(event.source.clone()),
                event_type: Some(event.event_type.clone()),
                topic: event.topic.clone(),
                raw: event.raw.clone(),
            };
            reject(rejected(&partial, topic, reason, detail))
        }
    }
}

/// The span every line about one delivered event is written in.
fn event_span(
    id: Option<&str>,
    event_type: Option<&str>,
    topic: &str,
    traceparent: Option<&str>,
) -> tracing::Span {
    let span = tracing::info_span!(
        "event",
        event_id = tracing::field::Empty,
        event_type = tracing::field::Empty,
        topic,
        trace_id = tracing::field::Empty,
    );
    if let Some(id) = id {
        span.record("event_id", id);
    }
    if let Some(event_type) = event_type {
        span.record("event_type", event_type);
    }
    if let Some(trace_id) = traceparent.and_then(dapr_pubsub::trace::trace_id) {
        span.record("trace_id", trace_id);
    }
    span
}

fn rejected(partial: &Partial, topic: &str, reason: RejectReason, detail: String) -> RejectedEvent {
    RejectedEvent {
        id: partial.id.clone(),
        source: partial.source.clone(),
        event_type: partial.event_type.clone(),
        // The route's topic, never the envelope's claim (which stays in the
        // kept payload): it is a metric label, from a fixed set.
        topic: topic.to_owned(),
        reason,
        detail,
        payload: truncate_utf8(&partial.raw, MAX_KEPT_PAYLOAD).to_owned(),
    }
}

/// Logs the drop and keeps the event. If it cannot be kept (database down)
/// the answer is RETRY instead, so the event is never lost.
fn reject(event: RejectedEvent) -> AppStatus {
    let event = event.storable();
    tracing::warn!(
        reason = event.reason.as_str(),
        detail = %event.detail,
        "event dropped"
    );
    let kept = db::open().and_then(|conn| {
        db::execute(
            &conn,
            KEEP_REJECTED,
            &[
                db::opt_text(event.id.clone()),
                db::opt_text(event.source.clone()),
                db::opt_text(event.event_type.clone()),
                db::text(event.topic.clone()),
                db::text(event.reason.as_str()),
                db::text(event.detail.clone()),
                db::text(event.payload.clone()),
            ],
        )
    });
    match kept {
        Ok(_) => AppStatus::Drop,
        Err(e) => {
            tracing::warn!(
                reason = "rejected_event_not_stored",
                detail = %e,
                "could not keep dropped event; asking for redelivery"
            );
            AppStatus::Retry
        }
    }
}

/// A publish the sidecar did not accept: a transient fault (answer RETRY).
/// It serialises as its description, so it can go into a log line as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// The payload could not be serialised.
    #[error("publish payload: {0}")]
    Payload(String),
    /// The sidecar settings cannot form a request (`dapr_http_port` or
    /// `dapr_api_token` has characters HTTP refuses).
    #[error("publish request to the sidecar could not be built: {0}")]
    Request(String),
    /// No answer: refused, lost or past [`PUBLISH_TIMEOUT`].
    #[error("publish to the sidecar: {0}")]
    Call(#[from] CallError),
    /// The sidecar answered something other than 204.
    #[error("sidecar answered {status} to publish on {topic}")]
    Refused {
        /// The HTTP status it answered.
        status: u16,
        /// The topic of the publish.
        topic: String,
    },
}

impl serde::Serialize for PublishError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The sidecar's publish settings (`dapr_http_port`, `pubsub_name`,
/// `dapr_api_token`), read once so that a request publishing several events
/// does not ask the host for the same variables again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sidecar {
    port: String,
    pubsub: String,
    token: String,
}

impl Sidecar {
    /// Reads the variables (with the manifest's defaults as fallback).
    pub fn from_vars() -> Self {
        Sidecar {
            port: vars::get_or("dapr_http_port", "3500"),
            pubsub: vars::get_or("pubsub_name", "kafka-pubsub"),
            token: vars::get_or("dapr_api_token", ""),
        }
    }

    /// Publishes `payload` to `topic` through the sidecar, with a
    /// deterministic CloudEvent `id` and the incoming `traceparent` (when it
    /// is a valid W3C value). Any answer but 204, and no answer within
    /// [`PUBLISH_TIMEOUT`], is a transient fault.
    pub async fn publish(
        &self,
        topic: &str,
        id: &str,
        event_type: &str,
        payload: &impl serde::Serialize,
        traceparent: Option<&str>,
    ) -> Result<(), PublishError> {
        let payload =
            serde_json::to_vec(payload).map_err(|e| PublishError::Payload(e.to_string()))?;
        let event = OutgoingEvent {
            pubsub: &self.pubsub,
            topic,
            id,
            event_type,
        };
        let request = publish_request(&self.port, event, payload, &self.token)
            .map_err(|e| PublishError::Request(e.to_string()))?;
        let response = outbound::call(request, traceparent, PUBLISH_TIMEOUT).await?;
        let status = response.status().as_u16();
        if publish_succeeded(status) {
            Ok(())
        } else {
            Err(PublishError::Refused {
                status,
                topic: topic.to_owned(),
            })
        }
    }
}
