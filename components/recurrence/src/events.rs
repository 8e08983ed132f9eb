//! `POST /events/task-events`: Dapr deliveries of the `task-events` topic
//! (single or bulk). `task.completed` with `has_recurrence: true` creates
//! the next occurrence and publishes `task.created`; everything else is
//! acknowledged and ignored (docs/CONTRACT.md, "Events" and "Dapr behaviour").

use component_kit::dapr::{self, Outcome, Sidecar};
use component_kit::db::{DbError, DbFault, LazyConnection};
use dapr_pubsub::{CloudEvent, RejectReason};
use spin_sdk::http::{Request, Response};
use tracing::Instrument;

use crate::store;
use recurrence_planning::payload::{self, TASK_COMPLETED};
use recurrence_planning::plan::{self, Plan};

/// The topic consumed, and the one `task.created` goes to.
const TOPIC: &str = "task-events";
/// The CloudEvent type of the announcement.
const TASK_CREATED: &str = "task.created";

/// Answers one delivery; each event (or bulk entry) is handled on its own.
pub async fn handle(req: &Request) -> Response {
    let mut worker = Worker::default();
    dapr::answer_delivery(req, TOPIC, TASK_COMPLETED, async |event: &CloudEvent| {
        worker.handle(event).await
    })
    .await
}

/// What one request sets up at most once, however many entries a bulk
/// delivery has: the Postgres connection and the sidecar settings.
#[derive(Default)]
struct Worker {
    conn: LazyConnection,
    sidecar: Option<Sidecar>,
}

impl Worker {
    async fn handle(&mut self, event: &CloudEvent) -> Outcome {
        let completed = match payload::parse(&event.data) {
            Ok(completed) => completed,
            Err(e) => return reject(RejectReason::SchemaViolation, e.to_string()),
        };
        let span = tracing::info_span!("completion", task_id = %completed.task_id);
        if !completed.has_recurrence {
            span.in_scope(|| tracing::info!("task is not recurring; nothing to create"));
            return Outcome::Success;
        }
        match self.create_next(event, &completed).instrument(span).await {
            Ok(outcome) => outcome,
            Err(fault) => {
                self.conn.reset();
                Outcome::Retry(fault.to_string())
            }
        }
    }

    /// Round trips 1 (read), 2 (insert-if-absent) and 3 (publish).
    async fn create_next(
        &mut self,
        event: &CloudEvent,
        completed: &payload::TaskCompleted,
    ) -> Result<Outcome, DbFault> {
        let conn = self.conn.get()?;
        let Some(row) = store::load_task(conn, &completed.task_id)? else {
            return Ok(reject(
                RejectReason::UnknownTask,
                format!("task_id {}", completed.task_id),
            ));
        };
        let new = match plan::next_task(&row, completed.completed_at) {
            Ok(Plan::Create(new)) => new,
            Ok(Plan::NotRecurring) => {
                tracing::info!("task has no recurrence rule; nothing to create");
                return Ok(Outcome::Success);
            }
            Ok(Plan::SeriesOver) => {
                tracing::info!("series is over (COUNT or UNTIL); nothing to create");
                return Ok(Outcome::Success);
            }
            Err((reason, detail)) => return Ok(reject(reason, detail)),
        };
        let Some(stored) = store::insert_next(conn, &row.id, &new)? else {
            return Ok(reject(
                RejectReason::UnknownTask,
                format!("task_id {} was deleted while handled", row.id),
            ));
        };
        let Some((task_id, payload)) = plan::task_created_payload(stored.task) else {
            return Err(DbError::RowShape("stored task has an unexpected shape".into()).into());
        };
        let sidecar = self.sidecar.get_or_insert_with(Sidecar::from_vars);
        let published = sidecar
            .publish(
                TOPIC,
                &task_id,
                TASK_CREATED,
                &payload,
                event.traceparent.as_deref(),
            )
            .await;
        if let Err(why) = published {
            return Ok(Outcome::Retry(why.to_string()));
        }
        tracing::info!(
            new_task_id = %task_id,
            occurrence = new.occurrence,
            due_at = %new.due_at,
            inserted = stored.inserted,
            "next occurrence created"
        );
        Ok(Outcome::Success)
    }
}

fn reject(reason: RejectReason, detail: String) -> Outcome {
    Outcome::Drop { reason, detail }
}
