//! Answering the sidecar's requests (one event or a bulk): malformed and
//! unstorable entries dropped and kept, the rest handed to the service as
//! one set, one status per entry.

use dapr_pubsub::inbound::Partial;
use dapr_pubsub::{
    parse_inbound, AppStatus, BulkResponse, CloudEvent, EntryStatus, Fault, InboundBody,
    InboundEntry,
};
use spin_sdk::http::{Request, Response};
use todo_contract::{truncate_utf8, RejectReason, RejectedEvent, MAX_KEPT_PAYLOAD};

use crate::db::LazyConnection;
use crate::{db, serve};

/// Keeps every dropped event of a request in `rejected_events`, in one
/// statement whatever their number (docs/CONTRACT.md, "Dapr behaviour": a
/// DROP is never lost; a bulk's database work does not grow by a round
/// trip per entry).
const KEEP_REJECTED: &str = "\
INSERT INTO rejected_events (id, source, type, topic, reason, detail, payload)
SELECT r.id, r.source, r.type, r.topic, r.reason, r.detail, r.payload
FROM jsonb_to_recordset($1::text::jsonb)
    AS r(id text, source text, type text, topic text, reason text, detail text, payload text)";

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

/// One well-formed event of the handled type, with the span every line
/// about it is written in (CloudEvent id, type, topic, trace id); its
/// `traceparent` is already the one its handling continues
/// (`dapr_pubsub::trace`).
pub struct Incoming {
    /// The event.
    pub event: CloudEvent,
    /// Instrument the event's own work with it (`.instrument(span.clone())`).
    pub span: tracing::Span,
}

/// Answers a Dapr request on `topic` (one event or a bulk).
///
/// Malformed entries are dropped without reaching `handle`; events of any
/// other type are acknowledged with a log line (a topic may carry types
/// this service does not handle), whatever their attributes hold; an event
/// of `event_type` whose id, source or data holds U+0000 is dropped
/// (`unstorable_text`, kept escaped), junk in the attributes no handler
/// uses is not looked at ([`CloudEvent::unstorable`]); the other events
/// of `event_type` go to
/// `handle` together, as one set, and it answers one [`Outcome`] per event,
/// in order. Every dropped entry is then kept in one statement.
///
/// Liveness: the request's one connection is created here and lent to
/// `handle`, then used again to keep the dropped entries; nothing opens a
/// second one while it is held ([`db::Conn`]).
pub async fn answer_events<F>(req: &Request, topic: &str, event_type: &str, handle: F) -> Response
where
    F: AsyncFnOnce(&mut LazyConnection, &[Incoming]) -> Vec<Outcome>,
{
    let header = req.header("traceparent").and_then(|v| v.as_str());
    let mut conn = LazyConnection::default();
    match parse_inbound(req.body()) {
        InboundBody::Single(entry) => {
            let statuses =
                answer_entries(vec![entry], topic, event_type, header, &mut conn, handle).await;
            serve::dapr_status(statuses.into_iter().next().unwrap_or(AppStatus::Retry))
        }
        InboundBody::Bulk(entries) => {
            let ids: Vec<String> = entries
                .iter()
                .map(|e| e.entry_id.clone().unwrap_or_default())
                .collect();
            let statuses =
                answer_entries(entries, topic, event_type, header, &mut conn, handle).await;
            serve::dapr_bulk_status(&BulkResponse {
                statuses: ids
                    .into_iter()
                    .zip(statuses)
                    .map(|(entry_id, status)| EntryStatus { entry_id, status })
                    .collect(),
            })
        }
        InboundBody::Oversize { entry_ids, partial } => {
            let span = event_span(
                partial.id.as_deref(),
                partial.event_type.as_deref(),
                topic,
                None,
            );
            let dropped = Dropped {
                row: rejected(
                    &partial,
                    topic,
                    RejectReason::TooLarge,
                    RejectReason::TooLarge.as_str().into(),
                ),
                span,
            };
            let kept = keep(&mut conn, std::slice::from_ref(&dropped));
            match entry_ids {
                None => serve::dapr_status(kept),
                Some(ids) => serve::dapr_bulk_status(&BulkResponse {
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

/// A dropped entry waiting to be kept, and the span to log it in.
struct Dropped {
    row: RejectedEvent,
    span: tracing::Span,
}

/// The status of every entry, in order.
async fn answer_entries<F>(
    entries: Vec<InboundEntry>,
    topic: &str,
    event_type: &str,
    header_traceparent: Option<&str>,
    conn: &mut LazyConnection,
    handle: F,
) -> Vec<AppStatus>
where
    F: AsyncFnOnce(&mut LazyConnection, &[Incoming]) -> Vec<Outcome>,
{
    let mut statuses = vec![AppStatus::Success; entries.len()];
    // (entry index, dropped entry)
    let mut dropped: Vec<(usize, Dropped)> = Vec::new();
    let mut handled: Vec<(usize, Incoming)> = Vec::new();
    for (index, entry) in entries.into_iter().enumerate() {
        let mut event = match entry.event {
            Ok(event) => event,
            Err((fault, partial)) => {
                let reason = reason_of(fault);
                let trace = dapr_pubsub::trace::continued(header_traceparent, None);
                let span = event_span(
                    partial.id.as_deref(),
                    partial.event_type.as_deref(),
                    topic,
                    trace,
                );
                let detail = partial
                    .detail
                    .clone()
                    .unwrap_or_else(|| reason.as_str().into());
                let row = rejected(&partial, topic, reason, detail);
                dropped.push((index, Dropped { row, span }));
                continue;
            }
        };
        event.traceparent =
            dapr_pubsub::trace::continued(header_traceparent, event.traceparent.as_deref())
                .map(str::to_owned);
        let span = event_span(
            Some(&event.id),
            Some(&event.event_type),
            topic,
            event.traceparent.as_deref(),
        );
        if event.event_type != event_type {
            span.in_scope(|| {
                tracing::info!(
                    reason = "ignored_type",
                    "event type not handled here; acknowledged"
                )
            });
            continue;
        }
        // Only now, for the handled type: what the handler would store.
        if let Some(part) = event.unstorable() {
            let reason = RejectReason::UnstorableText;
            let row = rejected(
                &partial_of(event),
                topic,
                reason,
                format!("{part} holds U+0000, which PostgreSQL text cannot store"),
            );
            dropped.push((index, Dropped { row, span }));
            continue;
        }
        handled.push((index, Incoming { event, span }));
    }
    if !handled.is_empty() {
        let (indices, incoming): (Vec<usize>, Vec<Incoming>) = handled.into_iter().unzip();
        let mut outcomes = handle(conn, &incoming).await.into_iter();
        for (index, incoming) in indices.into_iter().zip(incoming) {
            // A handler answers every event; one it left out is retried.
            let outcome = outcomes
                .next()
                .unwrap_or_else(|| Outcome::Retry("the handler gave no answer".into()));
            match outcome {
                Outcome::Success => {}
                Outcome::Retry(why) => {
                    incoming.span.in_scope(|| {
                        tracing::warn!(reason = "transient", detail = %why, "event will be retried")
                    });
                    set(&mut statuses, index, AppStatus::Retry);
                }
                Outcome::Drop { reason, detail } => {
                    let row = rejected(&partial_of(incoming.event), topic, reason, detail);
                    dropped.push((
                        index,
                        Dropped {
                            row,
                            span: incoming.span,
                        },
                    ));
                }
            }
        }
    }
    if !dropped.is_empty() {
        // Kept in the order the entries came.
        dropped.sort_by_key(|(index, _)| *index);
        let (indices, rows): (Vec<usize>, Vec<Dropped>) = dropped.into_iter().unzip();
        let status = keep(conn, &rows);
        for index in indices {
            set(&mut statuses, index, status);
        }
    }
    statuses
}

/// What a dropped well-formed event is kept as.
fn partial_of(event: CloudEvent) -> Partial {
    Partial {
        id: Some(event.id),
        source: Some(event.source),
        event_type: Some(event.event_type),
        topic: event.topic,
        raw: event.raw,
        detail: None,
    }
}

fn set(statuses: &mut [AppStatus], index: usize, status: AppStatus) {
    if let Some(slot) = statuses.get_mut(index) {
        *slot = status;
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
    // A NUL is written escaped, like in the kept row.
    let escaped = |s: &str| s.replace('\0', "\\u0000");
    if let Some(id) = id {
        span.record("event_id", escaped(id));
    }
    if let Some(event_type) = event_type {
        span.record("event_type", escaped(event_type));
    }
    if let Some(trace_id) = traceparent.and_then(dapr_pubsub::trace::trace_id) {
        span.record("trace_id", trace_id);
    }
    span
}

/// The row of a dropped event. Its `topic` is the route's, never what the
/// envelope claims (docs/CONTRACT.md, "Metrics": a label from a bounded
/// set); the claim stays in the kept payload.
// What the parser keeps of an unreadable envelope is exactly what
// `rejected_events` keeps, so a kept payload is never cut twice.
const _: () = assert!(dapr_pubsub::inbound::MAX_KEPT_RAW == MAX_KEPT_PAYLOAD);

/// The product's reason code for a protocol fault.
fn reason_of(fault: Fault) -> RejectReason {
    match fault {
        Fault::MalformedJson => RejectReason::MalformedJson,
        Fault::NotACloudEvent => RejectReason::NotACloudEvent,
    }
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

/// Logs each drop in its event's span and keeps them all in one statement
/// on the request's connection. If they cannot be kept (database down) the
/// answer is RETRY instead, so no event is ever lost.
fn keep(conn: &mut LazyConnection, dropped: &[Dropped]) -> AppStatus {
    let rows: Vec<serde_json::Value> = dropped
        .iter()
        .map(|d| {
            let row = d.row.clone().storable();
            d.span.in_scope(|| {
                tracing::warn!(reason = row.reason.as_str(), detail = %row.detail, "event dropped")
            });
            serde_json::json!({
                "id": row.id, "source": row.source, "type": row.event_type, "topic": row.topic,
                "reason": row.reason.as_str(), "detail": row.detail, "payload": row.payload,
            })
        })
        .collect();
    let kept = conn.get().and_then(|conn| {
        db::execute(
            conn,
            KEEP_REJECTED,
            &[db::text(serde_json::Value::Array(rows).to_string())],
        )
    });
    match kept {
        Ok(_) => AppStatus::Drop,
        Err(e) => {
            conn.reset();
            for d in dropped {
                d.span.in_scope(|| {
                    tracing::warn!(
                        reason = "rejected_event_not_stored",
                        detail = %e,
                        "could not keep dropped event; asking for redelivery"
                    )
                });
            }
            AppStatus::Retry
        }
    }
}
