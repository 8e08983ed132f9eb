//! The three SQL round trips of a delivery's reminders, however many
//! there are: lookup, claim, record (docs/CONTRACT.md, "Dapr behaviour": a
//! bulk's database work does not grow by a round trip per entry).
//!
//! Rows come back as one `jsonb` column and are read with serde into the
//! types of `notification_delivery::{batch, delivery}`, which decide what
//! they mean; a set goes in as one JSON array.

use component_kit::db::{self, DbFault};
use notification_delivery::batch::{Lookups, ReminderSet};
use notification_delivery::delivery::{ClaimRow, LEASE_SECS, MAX_DEVICES};
use notification_delivery::{AccessToken, Delivery, EventSettings, Secrets};
use serde::Deserialize;
use serde_json::{json, Value};
use spin_sdk::pg4::Connection;

/// Reads, for every distinct user of `$1` (a JSON array), the subscriber
/// and their newest devices, and the cached FCM token, as one value
/// ([`lookup`]; the statement is `todo_reminder_lookup` in migration 0010,
/// planned once per connection).
const LOOKUP: &str = "SELECT todo_reminder_lookup($1::text::jsonb, $2::text::int, $3::text)";

/// Round trip 1: the subscriber of every user in `user_ids`, their devices
/// (oldest first, at most `MAX_DEVICES` each) and the cached access token
/// of `client_email` (none when push is not configured), in one statement.
pub fn lookup(
    conn: &Connection,
    user_ids: &[&str],
    client_email: Option<&str>,
) -> Result<Lookups, DbFault> {
    let found: Option<Lookups> = db::query_one(
        conn,
        LOOKUP,
        &[
            db::text(serde_json::json!(user_ids).to_string()),
            db::text(MAX_DEVICES.to_string()),
            db::opt_text(client_email),
        ],
    )?;
    Ok(found.unwrap_or_default())
}

/// One `INSERT ... ON CONFLICT ... DO UPDATE ... WHERE <claimable>
/// RETURNING` is the compare-and-set: a delivery row is created (pending,
/// leased to this handler) when it does not exist, or re-leased when it is
/// `pending`/`retrying` with no live lease and no `next_attempt_at` in the
/// future. Postgres serialises concurrent claims of the same row, so of ten
/// simultaneous deliveries of a reminder exactly one gets each row back; the
/// others find it leased and answer RETRY. A handler that crashed mid-call
/// leaves a lease that simply runs out. Deliveries that cannot be served
/// (no address, channel not configured) are inserted directly as `failed`.
/// Rows the claim did not return are read from the same statement's
/// snapshot, so the caller also learns which ones are final. Rows go in by
/// id, so concurrent bulks lock them in the same order. The statement is
/// `todo_reminder_claim` in migration 0010, planned once per connection.
const CLAIM: &str = "SELECT todo_reminder_claim($1::text::jsonb, $2::text::interval)";

/// Round trip 2: claims every delivery of the set at once, atomically.
pub fn claim(
    conn: &Connection,
    set: &ReminderSet,
    settings: &EventSettings,
) -> Result<Vec<ClaimRow>, DbFault> {
    let input = set.claim_input(&|channel| settings.not_configured(channel));
    db::query_json(
        conn,
        CLAIM,
        &[
            db::text(input.to_string()),
            db::text(format!("{LEASE_SECS} seconds")),
        ],
    )
}

/// Everything round trip 3 writes, besides the deliveries' own rows.
pub struct Extras<'a> {
    /// Device tokens FCM called dead, each with its owner: `(user, token)`.
    pub dead_tokens: Vec<(&'a str, &'a str)>,
    /// A newly minted access token and its service account.
    pub minted: Option<(&'a str, &'a AccessToken)>,
}

/// Rows actually changed, to notice a lost lease.
#[derive(Debug, Default, Deserialize)]
pub struct Written {
    /// Settled deliveries written.
    pub settled: usize,
}

/// Writes, each part only when given ([`record`]; the statements are
/// `todo_reminder_record` in migration 0010, planned once per connection):
/// - settled deliveries: status, attempts, provider id, last error,
///   `next_attempt_at` (from `Retry-After`), `outcome_published`; only while
///   this handler's lease still holds, so a handler that overran its lease
///   cannot overwrite the one that took over;
/// - re-published outcomes: `outcome_published = true`;
/// - device tokens FCM called unregistered or invalid: deleted;
/// - an access token minted in this request: cached in `fcm_tokens`.
const RECORD: &str = "SELECT todo_reminder_record($1::text::jsonb, $2::text::jsonb, $3::text, $4::text, $5::text::timestamptz)";

/// Round trip 3: everything learnt from the providers and the sidecar, in
/// one statement; nothing at all when there is nothing to write.
///
/// The outcome events are published *before* this write, so the write can
/// carry `outcome_published` and no fourth round trip is needed. Crash
/// windows stay safe: a publish without the write leaves the row leased and
/// unsettled (the redelivery after the lease sends again under the same
/// idempotency key and publishes again under the same CloudEvent id); a
/// failed publish is written as `outcome_published = false` and the event
/// is answered RETRY, so the redelivery, or the outbox flush, publishes it.
pub fn record(
    conn: &Connection,
    deliveries: &[Delivery],
    extras: &Extras<'_>,
    secrets: &Secrets,
) -> Result<Written, DbFault> {
    let rows: Vec<Value> = deliveries
        .iter()
        .filter_map(Delivery::record_row)
        .map(|mut row| {
            // `last_error` is served by the delivery-log API.
            secrets.scrub_json(&mut row);
            row
        })
        .collect();
    let dead_tokens = &extras.dead_tokens;
    if rows.is_empty() && dead_tokens.is_empty() && extras.minted.is_none() {
        return Ok(Written::default());
    }
    let rows = (!rows.is_empty()).then(|| Value::Array(rows).to_string());
    let dead = (!dead_tokens.is_empty()).then(|| {
        let pairs: Vec<Value> = dead_tokens
            .iter()
            .map(|(user_id, token)| json!({"user_id": user_id, "token": token}))
            .collect();
        Value::Array(pairs).to_string()
    });
    let minted = extras.minted;
    let params = [
        db::opt_text(rows),
        db::opt_text(dead),
        db::opt_text(minted.map(|(email, _)| email)),
        db::opt_text(minted.map(|(_, token)| token.secret())),
        db::opt_text(minted.map(|(_, token)| token.expires_at().to_string())),
    ];
    let written: Option<Written> = db::query_one(conn, RECORD, &params)?;
    Ok(written.unwrap_or_default())
}
