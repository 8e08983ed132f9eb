//! Round trip 1 of a reminder: the subscriber, their device tokens and the
//! cached FCM access token, in one statement.

use component_kit::db::{self, DbFault};
use jiff::Timestamp;
use notification_delivery::{AccessToken, Channel};
use serde::Deserialize;
use spin_sdk::pg4::Connection;

/// Most device tokens pushed per reminder. FCM has no batch send, so each
/// token is one request; a bound keeps one reminder inside Dapr's delivery
/// timeout. Beyond it the oldest registrations win (and a log line says so).
pub const MAX_DEVICES: usize = 100;

/// What the database knows about the reminder's recipient.
#[derive(Debug, Default, Deserialize)]
pub struct Found {
    /// `None` for an unknown subscriber.
    pub subscriber: Option<Subscriber>,
    /// Registered FCM tokens, oldest first.
    #[serde(default)]
    pub devices: Vec<String>,
    /// The cached access token of `client_email`, if any.
    pub fcm_token: Option<CachedToken>,
}

/// A subscriber row.
#[derive(Debug, Default, Deserialize)]
pub struct Subscriber {
    /// E-mail address; `None` or empty: no e-mail channel.
    pub email: Option<String>,
    /// IANA zone for rendering the due time.
    #[serde(default)]
    pub timezone: String,
    /// Enabled channel names as stored.
    #[serde(default)]
    pub channels: Vec<String>,
}

impl Subscriber {
    /// The enabled channels this service knows (unknown names are ignored:
    /// the API validates them, and a stray value must not block a reminder).
    pub fn enabled_channels(&self) -> Vec<Channel> {
        let mut out = Vec::new();
        for name in &self.channels {
            if let Ok(channel) = name.parse::<Channel>() {
                if !out.contains(&channel) {
                    out.push(channel);
                }
            }
        }
        out
    }
}

/// A row of `fcm_tokens`, expiry in Unix seconds (no time-zone formatting
/// to get wrong).
#[derive(Debug, Deserialize)]
pub struct CachedToken {
    access_token: String,
    expires_at: i64,
}

impl CachedToken {
    /// The token, if it is readable and still fresh at `now`.
    pub fn fresh(&self, now: Timestamp) -> Option<AccessToken> {
        let expires_at = Timestamp::from_second(self.expires_at).ok()?;
        AccessToken::new(&self.access_token, expires_at)
            .ok()
            .filter(|t| t.is_fresh(now))
    }
}

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

/// Reads the subscriber of `user_id`, their devices and the cached token of
/// `client_email` (none when push is not configured).
pub fn lookup(
    conn: &Connection,
    user_id: &str,
    client_email: Option<&str>,
) -> Result<Found, DbFault> {
    let found: Option<Found> = db::query_one(
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
