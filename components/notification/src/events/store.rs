//! The three SQL round trips of a request's reminders, however many
//! there are: lookup, claim, record (docs/CONTRACT.md, "Dapr behaviour": a
//! bulk's database work does not grow by a round trip per entry).
//!
//! Rows come back as one `jsonb` column and are read with serde into the
//! types of `notification_core::{batch, delivery}`, which decide what
//! they mean; a set goes in as one JSON array.

use jiff::Timestamp;
use notification_core::batch::{Lookups, ReminderSet};
use notification_core::delivery::{ClaimRow, LEASE_SECS, MAX_DEVICES};
use notification_core::{AccessToken, Delivery, EventSettings, Secrets};
use serde::Deserialize;
use serde_json::{json, Value};
use spin_glue::db::{self, DbFault};
use spin_sdk::pg4::Connection;

/// Reads, for every distinct user of `$1` (a JSON array), the subscriber
/// and their newest devices, and the cached FCM token, as one row
/// ([`lookup`]).
const LOOKUP: &str = "\
WITH u AS (SELECT DISTINCT jsonb_array_elements_text($1::text::jsonb) AS user_id)
SELECT jsonb_build_object(
    'users', COALESCE((SELECT jsonb_agg(jsonb_build_object(
        'user_id', u.user_id,
        'subscriber', (SELECT jsonb_build_object('email', s.email, 'timezone', s.timezone,
                                                 'channels', to_jsonb(s.channels))
                       FROM subscribers s WHERE s.user_id = u.user_id),
        'devices', COALESCE((SELECT jsonb_agg(d.token ORDER BY d.created_at, d.token)
                             FROM (SELECT token, created_at FROM devices
                                   WHERE user_id = u.user_id
                                   ORDER BY created_at, token LIMIT $2::text::int) d),
                            '[]'::jsonb)))
        FROM u), '[]'::jsonb),
    'fcm_token', (SELECT jsonb_build_object('access_token', t.access_token,
                                            'expires_at', floor(extract(epoch FROM t.expires_at))::bigint)
                  FROM fcm_tokens t WHERE t.client_email = $3::text))";

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
/// id, so concurrent bulks lock them in the same order. A delivery that
/// cannot be served goes in `failed` with its reason and, in words, why.
const CLAIM: &str = "\
WITH input AS (
    SELECT * FROM jsonb_to_recordset($1::text::jsonb)
        AS i(delivery_id uuid, user_id text, task_id uuid, remind_at timestamptz,
             channel text, recipient text, status text, reason text, last_error text)
), claimed AS (
    INSERT INTO deliveries AS d
        (delivery_id, user_id, task_id, remind_at, channel, recipient, status, reason,
         last_error, lease_until)
    SELECT i.delivery_id, i.user_id, i.task_id, i.remind_at, i.channel, i.recipient,
           i.status, i.reason, i.last_error,
           CASE WHEN i.status = 'pending' THEN now() + $2::text::interval END
    FROM input i
    ORDER BY i.delivery_id
    ON CONFLICT (delivery_id) DO UPDATE SET lease_until = now() + $2::text::interval
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

/// - settled deliveries: status, attempts, provider id, last error,
///   `next_attempt_at` (from `Retry-After`), `outcome_published`; only while
///   this handler's lease still holds, so a handler that overran its lease
///   cannot overwrite the one that took over;
/// - re-published outcomes: `outcome_published = true`;
/// - device tokens FCM called unregistered or invalid: deleted;
/// - an access token minted in this request: cached in `fcm_tokens`.
///
/// Each part is a CTE that goes into the statement only when there is
/// something for it ([`record_sql`]; the one statement of the app joined
/// at run time, from the named fragments below): PostgreSQL plans every statement of
/// this app anew, and planning the four writes costs about twice as much as
/// planning the one the happy path needs (0.29 vs 0.16 ms, EXPLAIN over 200
/// plans; bench/FINDINGS.md, section 2). `$1` is always the rows.
const INPUT: &str = "\
input AS (
    SELECT * FROM jsonb_to_recordset($1::text::jsonb) AS i(
        delivery_id uuid, settle boolean, lease_until timestamptz, status text, reason text,
        attempts int, provider_message_id text, last_error text, retry_after_secs float8,
        at timestamptz, published boolean)
)";
/// Deletes the dead device tokens: `$t` the `{user_id, token}` pairs (JSON).
const GONE: &str = "\
gone AS (
    DELETE FROM devices d
    USING jsonb_to_recordset($t::text::jsonb) AS g(user_id text, token text)
    WHERE d.user_id = g.user_id AND d.token = g.token
    RETURNING d.token
)";
/// Caches a minted token: `$e` the service account, `$a` the token, `$x` its expiry.
const CACHED: &str = "\
cached AS (
    INSERT INTO fcm_tokens AS t (client_email, access_token, expires_at)
    VALUES ($e::text, $a::text, $x::text::timestamptz)
    ON CONFLICT (client_email) DO UPDATE
        SET access_token = EXCLUDED.access_token, expires_at = EXCLUDED.expires_at
        WHERE t.expires_at < EXCLUDED.expires_at
    RETURNING client_email
)";
/// Settles the deliveries this handler still holds the lease of.
const SETTLED: &str = "\
settled AS (
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
)";
/// Marks re-published outcomes as published.
const MARKED: &str = "\
marked AS (
    UPDATE deliveries d SET outcome_published = true
    FROM input i
    WHERE NOT i.settle AND d.delivery_id = i.delivery_id AND d.status IN ('sent', 'failed')
    RETURNING d.delivery_id
)";

/// Which parts of the record statement have something to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Parts {
    settle: bool,
    mark: bool,
    delete: bool,
    cache: bool,
}

/// The record statement with only the CTEs of `parts`, its placeholders
/// numbered in the order [`record`] passes the parameters: rows (when
/// settling or marking), dead tokens (deleting), e-mail, token and expiry
/// (caching). A part left out counts 0.
fn record_sql(parts: Parts) -> String {
    let mut ctes = Vec::new();
    let mut next = 1;
    let mut placeholder = || {
        let p = format!("${next}");
        next += 1;
        p
    };
    if parts.settle || parts.mark {
        ctes.push(INPUT.replace("$1", &placeholder()));
    }
    if parts.delete {
        let t = placeholder();
        ctes.push(GONE.replace("$t", &t));
    }
    if parts.cache {
        let (e, a, x) = (placeholder(), placeholder(), placeholder());
        ctes.push(CACHED.replace("$e", &e).replace("$a", &a).replace("$x", &x));
    }
    if parts.settle {
        ctes.push(SETTLED.to_owned());
    }
    if parts.mark {
        ctes.push(MARKED.to_owned());
    }
    let count = |on: bool, cte: &str| {
        if on {
            format!("(SELECT count(*) FROM {cte})")
        } else {
            "0".to_owned()
        }
    };
    format!(
        "WITH {}\nSELECT jsonb_build_object('settled', {}, 'marked', {}, 'deleted', {}, 'cached', {})",
        ctes.join(",\n"),
        count(parts.settle, "settled"),
        count(parts.mark, "marked"),
        count(parts.delete, "gone"),
        count(parts.cache, "cached"),
    )
}

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
    let settles = |row: &Value| row.get("settle") == Some(&Value::Bool(true));
    let parts = Parts {
        settle: rows.iter().any(settles),
        mark: rows.iter().any(|row| !settles(row)),
        delete: !dead_tokens.is_empty(),
        cache: extras.minted.is_some(),
    };
    let mut params = Vec::new();
    if parts.settle || parts.mark {
        params.push(db::text(Value::Array(rows).to_string()));
    }
    if parts.delete {
        let pairs: Vec<Value> = dead_tokens
            .iter()
            .map(|(user_id, token)| json!({"user_id": user_id, "token": token}))
            .collect();
        params.push(db::text(Value::Array(pairs).to_string()));
    }
    if let Some((email, token)) = extras.minted {
        let expires_at: Timestamp = token.expires_at();
        params.push(db::text(email));
        params.push(db::text(token.secret()));
        params.push(db::text(expires_at.to_string()));
    }
    let written: Option<Written> = db::query_one(conn, &record_sql(parts), &params)?;
    Ok(written.unwrap_or_default())
}

#[cfg(test)]
mod tests;
