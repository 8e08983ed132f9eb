//! Round trip 3 of a reminder: everything learnt from the providers and the
//! sidecar, written in one statement.
//!
//! - settled deliveries: status, attempts, provider id, last error,
//!   `next_attempt_at` (from `Retry-After`), `outcome_published`; only while
//!   this handler's lease still holds, so a handler that overran its lease
//!   cannot overwrite the one that took over;
//! - re-published outcomes: `outcome_published = true`;
//! - device tokens FCM called unregistered or invalid: deleted;
//! - an access token minted in this request: cached in `fcm_tokens`.
//!
//! The outcome event is published *before* this write, so the write can
//! carry `outcome_published` and no fourth round trip is needed. Crash
//! windows stay safe: a publish without the write leaves the row leased and
//! unsettled (the redelivery after the lease sends again under the same
//! idempotency key and publishes again under the same CloudEvent id); a
//! failed publish is written as `outcome_published = false` and the event
//! is answered RETRY, so the redelivery, or the outbox flush, publishes it.

use component_kit::db::{self, DbFault};
use notification_delivery::{AccessToken, DeliveryStatus, ReasonCode};
use serde::Deserialize;
use serde_json::{json, Value};
use spin_sdk::pg4::Connection;

use super::outcome::Settled;

/// One line of the write.
pub enum Write<'a> {
    /// A claimed delivery's new state.
    Settle {
        /// The delivery.
        delivery_id: &'a str,
        /// The lease the claim returned.
        lease_until: &'a str,
        /// The new state.
        settled: &'a Settled,
        /// Whether its outcome event was published just now.
        published: bool,
    },
    /// A final delivery whose outcome was re-published just now.
    MarkPublished {
        /// The delivery.
        delivery_id: &'a str,
    },
}

/// Everything to write for one reminder.
pub struct Record<'a> {
    /// The deliveries.
    pub writes: Vec<Write<'a>>,
    /// Device tokens to delete (FCM `UNREGISTERED` / invalid), of `user_id`.
    pub dead_tokens: Vec<&'a str>,
    /// The reminder's subscriber.
    pub user_id: &'a str,
    /// A newly minted access token and its service account.
    pub minted: Option<(&'a str, &'a AccessToken)>,
}

/// Rows actually changed, to notice a lost lease.
#[derive(Debug, Default, Deserialize)]
pub struct Written {
    /// Settled deliveries written.
    pub settled: usize,
}

const RECORD: &str = "\
WITH input AS (
    SELECT * FROM jsonb_to_recordset($1::text::jsonb) AS i(
        delivery_id uuid, settle boolean, lease_until timestamptz, status text, reason text,
        attempts int, provider_message_id text, last_error text, retry_after_secs float8,
        at timestamptz, published boolean)
), gone AS (
    DELETE FROM devices
    WHERE user_id = $2::text AND token IN (SELECT jsonb_array_elements_text($3::text::jsonb))
    RETURNING token
), cached AS (
    INSERT INTO fcm_tokens AS t (client_email, access_token, expires_at)
    SELECT $4::text, $5::text, $6::text::timestamptz WHERE $4::text IS NOT NULL
    ON CONFLICT (client_email) DO UPDATE
        SET access_token = EXCLUDED.access_token, expires_at = EXCLUDED.expires_at
        WHERE t.expires_at < EXCLUDED.expires_at
    RETURNING client_email
), settled AS (
    UPDATE deliveries d SET
        status = i.status,
        reason = i.reason,
        attempts = i.attempts,
        provider_message_id = COALESCE(i.provider_message_id, d.provider_message_id),
        last_error = CASE WHEN i.status = 'sent' THEN NULL
                          ELSE COALESCE(i.last_error, d.last_error) END,
        next_attempt_at = CASE WHEN i.retry_after_secs IS NULL THEN NULL
                               ELSE now() + make_interval(secs => i.retry_after_secs) END,
        lease_until = NULL,
        outcome_published = i.published,
        updated_at = i.at
    FROM input i
    WHERE i.settle AND d.delivery_id = i.delivery_id
      AND d.status IN ('pending', 'retrying') AND d.lease_until = i.lease_until
    RETURNING d.delivery_id
), marked AS (
    UPDATE deliveries d SET outcome_published = true
    FROM input i
    WHERE NOT i.settle AND d.delivery_id = i.delivery_id AND d.status IN ('sent', 'failed')
    RETURNING d.delivery_id
)
SELECT jsonb_build_object('settled', (SELECT count(*) FROM settled),
                          'marked', (SELECT count(*) FROM marked),
                          'deleted', (SELECT count(*) FROM gone),
                          'cached', (SELECT count(*) FROM cached))";

/// Writes `record`; nothing at all when there is nothing to write.
pub fn write(conn: &Connection, record: &Record<'_>) -> Result<Written, DbFault> {
    if record.writes.is_empty() && record.dead_tokens.is_empty() && record.minted.is_none() {
        return Ok(Written::default());
    }
    let input: Vec<Value> = record.writes.iter().map(row).collect();
    let written: Option<Written> = db::query_one(
        conn,
        RECORD,
        &[
            db::text(Value::Array(input).to_string()),
            db::text(record.user_id),
            db::text(json!(record.dead_tokens).to_string()),
            db::opt_text(record.minted.map(|(email, _)| email)),
            db::opt_text(record.minted.map(|(_, t)| t.secret())),
            db::opt_text(record.minted.map(|(_, t)| t.expires_at().to_string())),
        ],
    )?;
    Ok(written.unwrap_or_default())
}

fn row(write: &Write<'_>) -> Value {
    match write {
        Write::Settle {
            delivery_id,
            lease_until,
            settled,
            published,
        } => json!({
            "delivery_id": delivery_id,
            "settle": true,
            "lease_until": lease_until,
            "status": settled.status.as_str(),
            "reason": settled.reason.map(ReasonCode::as_str),
            "attempts": settled.attempts,
            "provider_message_id": settled.provider_message_id,
            "last_error": settled.last_error,
            "retry_after_secs": settled.retry_after.map(|d| d.as_secs_f64()),
            "at": settled.at.to_string(),
            "published": *published && settled.status != DeliveryStatus::Retrying,
        }),
        Write::MarkPublished { delivery_id } => json!({
            "delivery_id": delivery_id,
            "settle": false,
        }),
    }
}
