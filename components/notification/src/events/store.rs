//! The three SQL round trips of a reminder: lookup, claim, record.
//!
//! Rows come back as one `jsonb` column and are read with serde into the
//! types of `notification_delivery::delivery`, which decide what they mean.

use component_kit::db::{self, DbFault};
use jiff::Timestamp;
use notification_delivery::delivery::{claim_input, ClaimRow, Lookup, LEASE_SECS, MAX_DEVICES};
use notification_delivery::{AccessToken, Delivery, ReminderDue, Secrets};
use serde::Deserialize;
use serde_json::{json, Value};
use spin_sdk::pg4::Connection;

/// Reads the subscriber, their newest devices and the cached FCM token ([`lookup`]).
const LOOKUP: &str = "\
SELECT jsonb_build_object(
    'subscriber', (SELECT jsonb_build_object('email', s.email, 'timezone', s.timezone,
                                             'channels', to_jsonb(s.channels))
                   FROM subscribers s WHERE s.user_id = $1::text),
    'devices', COALESCE((SELECT jsonb_agg(d.token ORDER BY d.created_at, d.token)
                         FROM (SELECT token, created_at FROM devices
                               WHERE user_id = $1::text
                               ORDER BY created_at, token LIMIT $2::text::int) d),
                        '[]'::jsonb),
    'fcm_token', (SELECT jsonb_build_object('access_token', t.access_token,
                                            'expires_at', floor(extract(epoch FROM t.expires_at))::bigint)
                  FROM fcm_tokens t WHERE t.client_email = $3::text))";

/// Round trip 1: the subscriber of `user_id`, their devices (oldest first,
/// at most `MAX_DEVICES`) and the cached access token of `client_email`
/// (none when push is not configured), in one statement.
pub fn lookup(
    conn: &Connection,
    user_id: &str,
    client_email: Option<&str>,
) -> Result<Lookup, DbFault> {
    let found: Option<Lookup> = db::query_one(
        conn,
        LOOKUP,
        &[
            db::text(user_id),
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
/// snapshot, so the caller also learns which ones are final.
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

/// Round trip 2: claims every delivery of `reminder` at once, atomically.
pub fn claim(
    conn: &Connection,
    reminder: &ReminderDue,
    deliveries: &[Delivery],
) -> Result<Vec<ClaimRow>, DbFault> {
    db::query_json(
        conn,
        CLAIM,
        &[
            db::text(claim_input(deliveries).to_string()),
            db::text(reminder.user_id.as_str()),
            db::text(reminder.task_id.to_string()),
            db::text(reminder.remind_at.to_string()),
            db::text(format!("{LEASE_SECS} seconds")),
        ],
    )
}

/// Everything round trip 3 writes, besides the deliveries' own rows.
pub struct Extras<'a> {
    /// The reminder's subscriber (owner of the dead tokens).
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
/// Deletes the dead device tokens: `$u` the user, `$t` the tokens (JSON).
const GONE: &str = "\
gone AS (
    DELETE FROM devices
    WHERE user_id = $u::text AND token IN (SELECT jsonb_array_elements_text($t::text::jsonb))
    RETURNING token
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
/// settling or marking), user and tokens (deleting), e-mail, token and
/// expiry (caching). A part left out counts 0.
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
        let (u, t) = (placeholder(), placeholder());
        ctes.push(GONE.replace("$u", &u).replace("$t", &t));
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
    let dead_tokens: Vec<&str> = deliveries.iter().filter_map(Delivery::dead_token).collect();
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
        params.push(db::text(extras.user_id));
        params.push(db::text(json!(dead_tokens).to_string()));
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
mod tests {
    use super::*;

    /// Every placeholder from `$1` to the last is used, in the order
    /// `record` pushes the parameters, and nothing else is left.
    #[test]
    fn record_statements_number_their_parameters_in_order() {
        let all = Parts {
            settle: true,
            mark: true,
            delete: true,
            cache: true,
        };
        let sql = record_sql(all);
        for (n, needle) in [
            (1, "jsonb_to_recordset($1::text::jsonb)"),
            (2, "user_id = $2::text"),
            (3, "jsonb_array_elements_text($3::text::jsonb)"),
            (4, "VALUES ($4::text, $5::text, $6::text::timestamptz)"),
        ] {
            assert!(sql.contains(needle), "{n}: {sql}");
        }
        assert!(!sql.contains("$7") && !sql.contains("$u") && !sql.contains("$e"));

        let happy = record_sql(Parts {
            settle: true,
            mark: false,
            delete: false,
            cache: false,
        });
        assert!(happy.contains("settled AS") && happy.contains("$1"));
        assert!(!happy.contains("$2") && !happy.contains("marked AS"));
        assert!(happy.contains("'marked', 0, 'deleted', 0, 'cached', 0"));

        let only_cache = record_sql(Parts {
            settle: false,
            mark: false,
            delete: false,
            cache: true,
        });
        assert!(only_cache.contains("VALUES ($1::text, $2::text, $3::text::timestamptz)"));
        assert!(!only_cache.contains("input AS"));
    }
}
