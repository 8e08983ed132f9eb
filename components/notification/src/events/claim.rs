//! Round trip 2 of a reminder: claim every delivery at once, atomically.
//!
//! One `INSERT ... ON CONFLICT ... DO UPDATE ... WHERE <claimable>
//! RETURNING` is the compare-and-set: a delivery row is created (pending,
//! leased to this handler) when it does not exist, or re-leased when it is
//! `pending`/`retrying` with no live lease and no `next_attempt_at` in the
//! future. Postgres serialises concurrent claims of the same row, so of ten
//! simultaneous deliveries of a reminder exactly one gets each row back; the
//! others find it leased and answer RETRY. A handler that crashed mid-call
//! leaves a lease that simply runs out. Deliveries that cannot be served
//! (no address, channel not configured) are inserted directly as `failed`.
//!
//! Rows the claim did not return are read from the same statement's
//! snapshot, so the caller also learns, without another round trip, which
//! ones are final (skip, or re-publish an outcome whose publish failed).

use component_kit::db::{self, DbFault};
use jiff::Timestamp;
use notification_delivery::{DeliveryStatus, ReasonCode, ReminderDue};
use serde::Deserialize;
use serde_json::json;
use spin_sdk::pg4::Connection;

use super::plan::Planned;

/// How long a claim keeps a delivery to itself: longer than Dapr's delivery
/// timeout (30 s) plus the outbound deadlines, so a slow but live handler is
/// never overtaken; short enough that a crashed attempt is retried within
/// Dapr's retry window (about five minutes).
pub const LEASE_SECS: u32 = 60;

/// What the claim found for one planned delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This handler holds the lease: call the provider.
    Mine {
        /// `pending` or `retrying`.
        status: DeliveryStatus,
        /// Provider calls made so far.
        attempts: u32,
        /// The lease value, so the outcome is only written while it holds.
        lease_until: String,
    },
    /// Final, but its outcome event is not published yet: publish it (never
    /// send again). Just-recorded failures also come back like this.
    Unpublished(Stored),
    /// Final and published: nothing to do.
    Done(DeliveryStatus),
    /// In flight in another handler, or waiting for the provider's
    /// `Retry-After`: answer RETRY without calling the provider.
    Busy {
        /// The stored earliest next attempt, if that is the reason.
        next_attempt_at: Option<String>,
    },
}

/// A final delivery row, enough to rebuild its outcome event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// `sent` or `failed`.
    pub status: DeliveryStatus,
    /// Failure reason.
    pub reason: Option<ReasonCode>,
    /// Provider calls made.
    pub attempts: u32,
    /// Provider message id of a sent delivery.
    pub provider_message_id: Option<String>,
    /// When the outcome was reached (the row's `updated_at`).
    pub at: Timestamp,
}

#[derive(Debug, Deserialize)]
struct Row {
    delivery_id: String,
    claimed: bool,
    status: String,
    #[serde(default)]
    attempts: i64,
    reason: Option<String>,
    provider_message_id: Option<String>,
    updated_at: Option<String>,
    #[serde(default)]
    outcome_published: bool,
    lease_until: Option<String>,
    next_attempt_at: Option<String>,
}

const CLAIM: &str = "\
WITH input AS (
    SELECT * FROM jsonb_to_recordset($1::text::jsonb)
        AS i(delivery_id uuid, channel text, recipient text, status text, reason text)
), claimed AS (
    INSERT INTO deliveries AS d
        (delivery_id, user_id, task_id, remind_at, channel, recipient, status, reason, lease_until)
    SELECT i.delivery_id, $2::text, $3::text::uuid, $4::text::timestamptz, i.channel, i.recipient,
           i.status, i.reason,
           CASE WHEN i.status = 'pending' THEN now() + $5::text::interval END
    FROM input i
    ORDER BY i.delivery_id
    ON CONFLICT (delivery_id) DO UPDATE SET lease_until = now() + $5::text::interval
        WHERE d.status IN ('pending', 'retrying')
          AND (d.lease_until IS NULL OR d.lease_until <= now())
          AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= now())
    RETURNING d.delivery_id, d.status, d.attempts, d.reason, d.provider_message_id,
              d.updated_at, d.outcome_published, d.lease_until, d.next_attempt_at
)
SELECT to_jsonb(c) || '{\"claimed\": true}'::jsonb FROM claimed c
UNION ALL
SELECT jsonb_build_object('delivery_id', d.delivery_id, 'status', d.status,
           'attempts', d.attempts, 'reason', d.reason,
           'provider_message_id', d.provider_message_id, 'updated_at', d.updated_at,
           'outcome_published', d.outcome_published, 'lease_until', d.lease_until,
           'next_attempt_at', d.next_attempt_at, 'claimed', false)
FROM deliveries d JOIN input i ON i.delivery_id = d.delivery_id
WHERE NOT EXISTS (SELECT 1 FROM claimed c WHERE c.delivery_id = d.delivery_id)";

/// Claims `planned` (all deliveries of one reminder); the answer is in the
/// same order.
pub fn claim(
    conn: &Connection,
    reminder: &ReminderDue,
    planned: &[Planned],
) -> Result<Vec<Claim>, DbFault> {
    let input: Vec<_> = planned
        .iter()
        .map(|p| {
            json!({
                "delivery_id": p.id,
                "channel": p.key.channel().as_str(),
                "recipient": p.key.recipient(),
                "status": if p.failure.is_some() { "failed" } else { "pending" },
                "reason": p.failure.map(ReasonCode::as_str),
            })
        })
        .collect();
    let rows: Vec<Row> = db::query_json(
        conn,
        CLAIM,
        &[
            db::text(serde_json::Value::Array(input).to_string()),
            db::text(reminder.user_id.as_str()),
            db::text(reminder.task_id.to_string()),
            db::text(reminder.remind_at.to_string()),
            db::text(format!("{LEASE_SECS} seconds")),
        ],
    )?;
    Ok(planned
        .iter()
        .map(|p| match rows.iter().find(|r| r.delivery_id == p.id) {
            Some(row) => classify(row),
            // Inserted by a concurrent claim after this statement's
            // snapshot was taken: it is in flight there.
            None => Claim::Busy {
                next_attempt_at: None,
            },
        })
        .collect())
}

fn classify(row: &Row) -> Claim {
    let Ok(status) = row.status.parse::<DeliveryStatus>() else {
        return Claim::Busy {
            next_attempt_at: None,
        };
    };
    let attempts = u32::try_from(row.attempts).unwrap_or(0);
    if status.is_final() {
        if row.outcome_published {
            return Claim::Done(status);
        }
        return Claim::Unpublished(Stored {
            status,
            reason: row.reason.as_deref().and_then(reason_code),
            attempts,
            provider_message_id: row.provider_message_id.clone(),
            at: row
                .updated_at
                .as_deref()
                .and_then(|t| t.parse().ok())
                .unwrap_or_else(Timestamp::now),
        });
    }
    match (&row.lease_until, row.claimed) {
        (Some(lease_until), true) => Claim::Mine {
            status,
            attempts,
            lease_until: lease_until.clone(),
        },
        _ => Claim::Busy {
            next_attempt_at: row.next_attempt_at.clone(),
        },
    }
}

/// Reads a stored reason code (the wire names of [`ReasonCode`]).
pub fn reason_code(text: &str) -> Option<ReasonCode> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(status: &str, claimed: bool, published: bool) -> Row {
        Row {
            delivery_id: "d".into(),
            claimed,
            status: status.into(),
            attempts: 2,
            reason: Some("no_address".into()),
            provider_message_id: None,
            updated_at: Some("2026-12-01T08:30:00.123+00:00".into()),
            outcome_published: published,
            lease_until: claimed.then(|| "2026-12-01T08:31:00+00:00".into()),
            next_attempt_at: Some("2026-12-01T08:35:00+00:00".into()),
        }
    }

    #[test]
    fn rows_are_classified() {
        assert_eq!(
            classify(&row("retrying", true, false)),
            Claim::Mine {
                status: DeliveryStatus::Retrying,
                attempts: 2,
                lease_until: "2026-12-01T08:31:00+00:00".into()
            }
        );
        assert_eq!(
            classify(&row("pending", false, false)),
            Claim::Busy {
                next_attempt_at: Some("2026-12-01T08:35:00+00:00".into())
            }
        );
        assert_eq!(
            classify(&row("sent", false, true)),
            Claim::Done(DeliveryStatus::Sent)
        );
        let Claim::Unpublished(stored) = classify(&row("failed", true, false)) else {
            panic!("unpublished expected");
        };
        assert_eq!(stored.reason, Some(ReasonCode::NoAddress));
        assert_eq!(stored.at.to_string(), "2026-12-01T08:30:00.123Z");
        assert!(matches!(
            classify(&row("bogus", true, false)),
            Claim::Busy { .. }
        ));
    }

    #[test]
    fn reason_codes_read_back() {
        assert_eq!(
            reason_code("attempts_exhausted"),
            Some(ReasonCode::AttemptsExhausted)
        );
        assert_eq!(reason_code("nope"), None);
    }
}
