//! `GET .../deliveries`: the delivery log of one user, newest first, paged
//! by an opaque cursor (`notification_api::cursor`).
//!
//! "Newest" is `created_at` then `delivery_id`, both descending: the order
//! of the index `deliveries_user_newest (user_id, created_at DESC,
//! delivery_id DESC)`, which serves both the first page and the row
//! comparison after a cursor. `recipient` (an address or a device token)
//! is never selected.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use spin_glue::db::{self, DbError, DbFault};
use spin_glue::serve;
use spin_sdk::http::Response;
use uuid::Uuid;

use super::error::Refusal;
use notification_api::cursor::Cursor;
use notification_api::input::ListQuery;

/// One entry of the listing (docs/CONTRACT.md, "Subscriber API").
#[derive(Debug, Deserialize, Serialize)]
struct LogEntry {
    delivery_id: String,
    task_id: String,
    remind_at: Timestamp,
    channel: String,
    status: String,
    attempts: i64,
    provider_message_id: Option<String>,
    last_error: Option<String>,
    updated_at: Timestamp,
    /// Sort key for the cursor; not part of the answer.
    #[serde(skip_serializing)]
    created_at: Timestamp,
}

#[derive(Serialize)]
struct Page {
    deliveries: Vec<LogEntry>,
    next: Option<String>,
}

/// One [`LogEntry`] as jsonb from a `deliveries` row (timestamps through
/// jsonb: Spin's Postgres API cannot read `timestamptz`). A macro, not a
/// `const`, so that `concat!` can splice it into [`FIRST_PAGE`] and
/// [`PAGE_AFTER`].
macro_rules! row {
    () => {
        "jsonb_build_object(\
    'delivery_id', delivery_id, 'task_id', task_id, 'remind_at', remind_at, \
    'channel', channel, 'status', status, 'attempts', attempts, \
    'provider_message_id', provider_message_id, 'last_error', last_error, \
    'updated_at', updated_at, 'created_at', created_at)"
    };
}

/// The newest `$2` entries of user `$1`.
const FIRST_PAGE: &str = concat!(
    "SELECT ",
    row!(),
    " FROM deliveries WHERE user_id = $1::text \
     ORDER BY created_at DESC, delivery_id DESC LIMIT $2::text::int"
);

/// The next `$2` entries of user `$1` after the cursor `($3, $4)`.
const PAGE_AFTER: &str = concat!(
    "SELECT ",
    row!(),
    " FROM deliveries WHERE user_id = $1::text \
     AND (created_at, delivery_id) < ($3::text::timestamptz, $4::text::uuid) \
     ORDER BY created_at DESC, delivery_id DESC LIMIT $2::text::int"
);

/// Lists a page. An unknown user has an empty log rather than a 404: the
/// log is keyed by `user_id`, and the delivery path records `no_address`
/// failures for users who never registered as subscribers.
pub fn list(user_id: &str, query: &str) -> Result<Response, Refusal> {
    let query = ListQuery::from_query(query)?;
    // Liveness: the request's only connection; nothing here opens another
    // while it is held (`spin_glue::db::Conn`).
    let conn = db::open()?;
    // One row more than the page tells whether another page follows.
    let fetch = (query.limit + 1).to_string();
    let mut rows: Vec<LogEntry> = match query.before {
        None => db::query_json(&conn, FIRST_PAGE, &[db::text(user_id), db::text(fetch)])?,
        Some(c) => db::query_json(
            &conn,
            PAGE_AFTER,
            &[
                db::text(user_id),
                db::text(fetch),
                db::text(c.created_at_param()),
                db::text(c.delivery_id.to_string()),
            ],
        )?,
    };
    let more = rows.len() > query.limit as usize;
    rows.truncate(query.limit as usize);
    let next = match rows.last() {
        Some(last) if more => Some(cursor_after(last)?),
        _ => None,
    };
    Ok(serve::json(
        200,
        &Page {
            deliveries: rows,
            next,
        },
    ))
}

fn cursor_after(row: &LogEntry) -> Result<String, Refusal> {
    let delivery_id = Uuid::try_parse(&row.delivery_id).map_err(|_| {
        DbFault::from(DbError::RowShape(format!(
            "delivery_id {:?} is not a UUID",
            row.delivery_id
        )))
    })?;
    Ok(Cursor {
        created_at: row.created_at,
        delivery_id,
    }
    .encode())
}
