//! `PUT` and `GET /notifications/subscribers/:user_id`.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use spin_glue::db::{self, DbError, DbFault};
use spin_glue::serve;
use spin_sdk::http::Response;

use super::error::Refusal;
use notification_api::input::SubscriberInput;

/// The subscriber as the API shows it (docs/CONTRACT.md, "Subscriber API").
#[derive(Debug, Deserialize, Serialize)]
pub struct Subscriber {
    user_id: String,
    email: Option<String>,
    timezone: String,
    channels: Vec<String>,
    devices: Vec<Device>,
}

/// A registered device inside [`Subscriber`] (and the body of `POST
/// .../devices`). Times serialise as RFC 3339 UTC (`...Z`).
#[derive(Debug, Deserialize, Serialize)]
pub struct Device {
    token: String,
    platform: Option<String>,
    created_at: Timestamp,
}

/// SQL building one [`Subscriber`] as jsonb from a row `s` with the
/// subscriber's columns, devices oldest first; timestamps go through jsonb
/// because Spin's Postgres API cannot read `timestamptz` columns. A macro,
/// not a `const`, so that `concat!` can splice it into [`GET`] and [`PUT`].
macro_rules! subscriber_json {
    () => {
        "jsonb_build_object(\
       'user_id', s.user_id, 'email', s.email, 'timezone', s.timezone, \
       'channels', to_jsonb(s.channels), \
       'devices', COALESCE((\
         SELECT jsonb_agg(jsonb_build_object(\
                  'token', d.token, 'platform', d.platform, 'created_at', d.created_at) \
                ORDER BY d.created_at, d.token) \
         FROM devices d WHERE d.user_id = s.user_id), '[]'::jsonb))"
    };
}

/// Reads one subscriber with its devices ([`get`]).
const GET: &str = concat!(
    "SELECT ",
    subscriber_json!(),
    " FROM subscribers s WHERE s.user_id = $1::text"
);

/// Creates or fully replaces a subscriber, keeping its devices, and reads
/// it back ([`put`]).
const PUT: &str = concat!(
    "WITH s AS (\
       INSERT INTO subscribers (user_id, email, timezone, channels) \
       VALUES ($1::text, $2::text, $3::text, $4::text::text[]) \
       ON CONFLICT (user_id) DO UPDATE SET \
         email = EXCLUDED.email, timezone = EXCLUDED.timezone, \
         channels = EXCLUDED.channels, updated_at = now() \
       RETURNING user_id, email, timezone, channels) \
     SELECT ",
    subscriber_json!(),
    " FROM s"
);

/// `GET`: the subscriber, or 404.
pub fn get(user_id: &str) -> Result<Response, Refusal> {
    // Liveness: the request's only connection; nothing here opens another
    // while it is held (`spin_glue::db::Conn`).
    let conn = db::open()?;
    let found: Option<Subscriber> = db::query_one(&conn, GET, &[db::text(user_id)])?;
    match found {
        Some(s) => Ok(serve::json(200, &s)),
        None => Err(notification_api::subscriber_not_found(user_id).into()),
    }
}

/// `PUT`: creates or fully replaces the subscriber (absent fields take
/// their defaults), keeps its devices, and answers it in one round trip.
pub fn put(user_id: &str, body: &[u8]) -> Result<Response, Refusal> {
    let input = SubscriberInput::from_json(body)?;
    // Liveness: the request's only connection; nothing here opens another
    // while it is held (`spin_glue::db::Conn`).
    let conn = db::open()?;
    let stored: Option<Subscriber> = db::query_one(
        &conn,
        PUT,
        &[
            db::text(user_id),
            db::opt_text(input.email.clone()),
            db::text(input.timezone.clone()),
            db::text(input.channels_literal()),
        ],
    )?;
    match stored {
        Some(s) => Ok(serve::json(200, &s)),
        None => Err(DbFault::from(DbError::RowShape("upsert returned no row".into())).into()),
    }
}
