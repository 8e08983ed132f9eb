//! `POST /events/task-events`: Dapr requests of the `task-events` topic
//! (single or bulk). `task.completed` with `has_recurrence: true` creates
//! the next occurrence and publishes `task.created`; everything else is
//! acknowledged and ignored (docs/CONTRACT.md, "Events" and "Dapr behaviour").
//!
//! The completions of a Dapr request are handled as one set: one statement
//! reads their tasks, one creates the next occurrences, then the
//! announcements go out concurrently ([`PUBLISH_CONCURRENCY`]). Each event
//! is still answered as if it had come alone: a bad one is dropped on its
//! own, a failed publish retries only the events it announces, and the
//! same completion twice in one bulk creates and announces one task.

use spin_glue::dapr::{self, Incoming, Outcome, Sidecar};
use spin_glue::db::{DbError, DbFault, LazyConnection};
use spin_glue::outbound::bounded;
use spin_sdk::http::{Request, Response};
use todo_contract::RejectReason;

use crate::store;
use recurrence_core::next_task::{self, NewTask, NextTask};
use recurrence_core::payload::{self, TaskCompleted, TASK_COMPLETED};

/// The topic consumed, and the one `task.created` goes to.
const TOPIC: &str = "task-events";
/// The CloudEvent type of the announcement.
const TASK_CREATED: &str = "task.created";
/// Announcements of one request in flight at once. A bulk is at most
/// Dapr's `maxMessagesCount` (100 by default), so 16 sends it in about
/// seven rounds of a sidecar call (a millisecond each on localhost) while
/// bounding what one request asks of the sidecar; with every publish at
/// its 5 s deadline a bulk of 100 still answers within 35 s.
const PUBLISH_CONCURRENCY: usize = 16;

/// Answers one Dapr request; its completions are handled together on the
/// request's one connection (lent by `answer_events`).
pub async fn handle(req: &Request) -> Response {
    dapr::answer_events(
        req,
        TOPIC,
        TASK_COMPLETED,
        async |conn: &mut LazyConnection, events: &[Incoming]| complete(conn, events).await,
    )
    .await
}

/// One outcome per event, in order.
async fn complete(conn: &mut LazyConnection, events: &[Incoming]) -> Vec<Outcome> {
    let mut outcomes: Vec<Option<Outcome>> = vec![None; events.len()];
    // The events that need their task: (event index, payload, its span).
    let mut wanted: Vec<Completion> = Vec::new();
    for (at, incoming) in events.iter().enumerate() {
        match payload::parse(&incoming.event.data) {
            Err(e) => decide(
                &mut outcomes,
                at,
                reject(RejectReason::SchemaViolation, e.to_string()),
            ),
            Ok(completed) => {
                let span = tracing::info_span!(parent: &incoming.span, "completion", task_id = %completed.task_id);
                if completed.has_recurrence {
                    wanted.push(Completion {
                        at,
                        completed,
                        span,
                    });
                } else {
                    span.in_scope(|| tracing::info!("task is not recurring; nothing to create"));
                    decide(&mut outcomes, at, Outcome::Success);
                }
            }
        }
    }
    if !wanted.is_empty() {
        if let Err(fault) = create_next(conn, events, &wanted, &mut outcomes).await {
            conn.reset();
            for c in &wanted {
                if let Some(slot @ None) = outcomes.get_mut(c.at) {
                    *slot = Some(Outcome::Retry(fault.to_string()));
                }
            }
        }
    }
    outcomes
        .into_iter()
        .map(|o| o.unwrap_or_else(|| Outcome::Retry("not handled".into())))
        .collect()
}

/// A completion to act on: its event's index, payload and log span.
struct Completion {
    at: usize,
    completed: TaskCompleted,
    span: tracing::Span,
}

/// Records the outcome of the event at `at`.
fn decide(outcomes: &mut [Option<Outcome>], at: usize, outcome: Outcome) {
    if let Some(slot) = outcomes.get_mut(at) {
        *slot = Some(outcome);
    }
}

/// Round trips 1 (read), 2 (insert-if-absent), then the publishes. An
/// event this leaves undecided is answered RETRY by the caller.
async fn create_next(
    conn: &mut LazyConnection,
    events: &[Incoming],
    wanted: &[Completion],
    outcomes: &mut [Option<Outcome>],
) -> Result<(), DbFault> {
    let conn = conn.get()?;
    let ids: Vec<&str> = wanted
        .iter()
        .map(|c| c.completed.task_id.as_str())
        .collect();
    let rows = store::load_tasks(conn, &ids)?;
    // The occurrences to create, each once, and the completions each answers.
    let mut creates: Vec<(String, NewTask, Vec<&Completion>)> = Vec::new();
    for c in wanted {
        let Some(row) = rows.iter().find(|r| r.id == c.completed.task_id) else {
            let detail = format!("task_id {}", c.completed.task_id);
            decide(outcomes, c.at, reject(RejectReason::UnknownTask, detail));
            continue;
        };
        match next_task::next_task(row, c.completed.completed_at) {
            Ok(NextTask::Create(new)) => {
                match creates.iter_mut().find(|(_, n, _)| n.id == new.id) {
                    Some((_, _, answers)) => answers.push(c),
                    None => creates.push((row.id.clone(), new, vec![c])),
                }
            }
            Ok(NextTask::NotRecurring) => {
                c.span
                    .in_scope(|| tracing::info!("task has no recurrence rule; nothing to create"));
                decide(outcomes, c.at, Outcome::Success);
            }
            Ok(NextTask::SeriesOver) => {
                c.span.in_scope(|| {
                    tracing::info!("series is over (COUNT or UNTIL); nothing to create")
                });
                decide(outcomes, c.at, Outcome::Success);
            }
            Err((reason, detail)) => decide(outcomes, c.at, reject(reason, detail)),
        }
    }
    if creates.is_empty() {
        return Ok(());
    }
    let news: Vec<(&str, &NewTask)> = creates
        .iter()
        .map(|(id, new, _)| (id.as_str(), new))
        .collect();
    let stored = store::insert_next(conn, &news)?;

    let sidecar = Sidecar::from_vars();
    let sidecar = &sidecar;
    let announcements = creates
        .iter()
        .zip(stored)
        .map(|((completed_id, new, answers), stored)| {
            // The first event of the occurrence carries its trace.
            let first = answers.first().and_then(|c| events.get(c.at));
            async move {
                let Some(stored) = stored else {
                    return reject(
                        RejectReason::UnknownTask,
                        format!("task_id {completed_id} was deleted while handled"),
                    );
                };
                let inserted = stored.inserted;
                let Some((task_id, payload)) = next_task::task_created_payload(stored.task) else {
                    return Outcome::Retry(
                        DbError::RowShape("stored task has an unexpected shape".into()).to_string(),
                    );
                };
                let traceparent = first.and_then(|e| e.event.traceparent.as_deref());
                if let Err(why) = sidecar
                    .publish(TOPIC, &task_id, TASK_CREATED, &payload, traceparent)
                    .await
                {
                    return Outcome::Retry(why.to_string());
                }
                for c in answers {
                    c.span.in_scope(|| {
                        tracing::info!(
                            new_task_id = %task_id,
                            occurrence = new.occurrence,
                            due_at = %new.due_at,
                            inserted,
                            "next occurrence created"
                        )
                    });
                }
                Outcome::Success
            }
        });
    let results = bounded(announcements, PUBLISH_CONCURRENCY).await;
    for ((_, _, answers), outcome) in creates.iter().zip(results) {
        for c in answers {
            decide(outcomes, c.at, outcome.clone());
        }
    }
    Ok(())
}

fn reject(reason: RejectReason, detail: String) -> Outcome {
    Outcome::Drop { reason, detail }
}
