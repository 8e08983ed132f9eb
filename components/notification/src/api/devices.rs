//! `POST .../devices` and `DELETE .../devices/:token`.
//!
//! A token identifies one app instance, so it belongs to at most one
//! subscriber (`devices.token` is the primary key): registering it for
//! another user moves it there (the app was signed into another account),
//! rather than failing or pushing one user's reminders to another's phone.

use notification_core::mask_token;
use serde::Deserialize;
use spin_glue::{db, serve};
use spin_sdk::http::Response;

use super::error::Refusal;
use super::subscribers::Device;
use notification_api::input::DeviceInput;

/// Registers a device token to a subscriber that exists, moving it from
/// another owner, and reads the result back ([`register`]).
const REGISTER: &str = "WITH prev AS (SELECT user_id FROM devices WHERE token = $2::text), \
         up AS (\
           INSERT INTO devices (token, user_id, platform) \
           SELECT $2::text, s.user_id, $3::text FROM subscribers s WHERE s.user_id = $1::text \
           ON CONFLICT (token) DO UPDATE SET \
             platform = COALESCE(EXCLUDED.platform, devices.platform), \
             created_at = CASE WHEN devices.user_id = EXCLUDED.user_id \
                               THEN devices.created_at ELSE now() END, \
             user_id = EXCLUDED.user_id \
           RETURNING token, platform, created_at, (xmax = 0) AS inserted) \
         SELECT jsonb_build_object(\
           'device', (SELECT jsonb_build_object('token', token, 'platform', platform, \
                                                'created_at', created_at) FROM up), \
           'inserted', (SELECT inserted FROM up), \
           'previous_owner', (SELECT user_id FROM prev))";

/// Unregisters a token from this subscriber only ([`unregister`]).
const UNREGISTER: &str = "DELETE FROM devices WHERE token = $1::text AND user_id = $2::text";

#[derive(Deserialize)]
struct Registered {
    /// `None` when the subscriber does not exist (nothing was written).
    device: Option<Device>,
    /// The row was inserted, not updated.
    inserted: Option<bool>,
    /// Owner of the token before this statement, if it was registered.
    previous_owner: Option<String>,
}

/// `POST`: 201 when the token is new to this subscriber (new, or moved from
/// another one), 200 when it was already theirs; 404 when the subscriber
/// does not exist (register it with `PUT` first). A missing `platform`
/// keeps the one already stored.
pub fn register(user_id: &str, body: &[u8]) -> Result<Response, Refusal> {
    let input = DeviceInput::from_json(body)?;
    // Liveness: the request's only connection; nothing here opens another
    // while it is held (`spin_glue::db::Conn`).
    let conn = db::open()?;
    // One round trip: the previous owner (statement snapshot), the upsert
    // gated on the subscriber existing, and `xmax = 0` telling an insert
    // from an update. `created_at` restarts when the token changes owner.
    let row: Option<Registered> = db::query_one(
        &conn,
        REGISTER,
        &[
            db::text(user_id),
            db::text(input.token.clone()),
            db::opt_text(input.platform),
        ],
    )?;
    let Some(Registered {
        device: Some(device),
        inserted,
        previous_owner,
    }) = row
    else {
        return Err(notification_api::subscriber_not_found(user_id).into());
    };
    let moved = previous_owner.as_deref().is_some_and(|p| p != user_id);
    if moved {
        tracing::info!(
            token = %mask_token(&input.token),
            user_id,
            "device token moved to another subscriber"
        );
    }
    // An update with no previous owner in our snapshot means a concurrent
    // request registered it first: already registered, so 200.
    let status = if inserted == Some(true) || moved {
        201
    } else {
        200
    };
    Ok(serve::json(status, &device))
}

/// `DELETE`: 204 whether or not the token was registered to this
/// subscriber (or the subscriber exists); a token registered to another
/// subscriber is left alone.
pub fn unregister(user_id: &str, token: &str) -> Result<Response, Refusal> {
    // Liveness: the request's only connection; nothing here opens another
    // while it is held (`spin_glue::db::Conn`).
    let conn = db::open()?;
    db::execute(&conn, UNREGISTER, &[db::text(token), db::text(user_id)])?;
    Ok(serve::no_content())
}
