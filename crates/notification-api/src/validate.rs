//! Field rules of the subscriber API, pure so they run as native unit tests.
//!
//! Each rule answers with the field's own error code (`invalid_email`,
//! `invalid_timezone`, ...) and a sentence naming the field, so a client can
//! tell which input to fix without parsing prose.

use jiff::tz::TimeZone;

use todo_contract::Channel;

use crate::ApiError;

/// Longest e-mail address (RFC 5321 path limit minus the angle brackets).
pub const MAX_EMAIL_CHARS: usize = 254;
/// Longest local part of an e-mail address (RFC 5321).
pub const MAX_EMAIL_LOCAL_CHARS: usize = 64;
/// Longest device token. FCM tokens are ~160 characters today; the cap only
/// stops abuse of the primary key, not plausible future formats.
pub const MAX_TOKEN_CHARS: usize = 4096;
/// Largest page of the delivery log.
pub const MAX_LIMIT: u32 = 200;
/// Page size when `limit` is absent.
pub const DEFAULT_LIMIT: u32 = 50;

/// `user_id`: 1..=128 characters (the contract's opaque id, as in
/// `reminder.due`), without control characters, which no real id holds and
/// which would end up in logs (and NUL cannot be stored at all).
pub fn user_id(value: &str) -> Result<(), ApiError> {
    if let Err(bad) = todo_contract::payload::check_user_id(value) {
        return Err(ApiError::bad_request("invalid_user_id", bad.to_string()));
    }
    if value.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "invalid_user_id",
            "user_id must not contain control characters",
        ));
    }
    Ok(())
}

/// `email`: a plausible address, not a full RFC 5322 parser: exactly one
/// `@`, a non-empty local part of at most 64 characters, a domain of
/// non-empty dot-separated labels, at most 254 characters overall, and none
/// of whitespace, control characters or the specials that only quoted
/// addresses and header syntax use (they would let one value name several
/// recipients at a relay).
pub fn email(value: &str) -> Result<(), ApiError> {
    let bad = |why: &str| ApiError::bad_request("invalid_email", format!("email {why}"));
    let len = value.chars().count();
    if len > MAX_EMAIL_CHARS {
        return Err(bad(&format!(
            "must have at most {MAX_EMAIL_CHARS} characters, has {len}"
        )));
    }
    if value
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || "<>()[],;:\"\\".contains(c))
    {
        return Err(bad(
            "must not contain spaces, control characters or any of <>()[],;:\"\\",
        ));
    }
    let Some((local, domain)) = value.split_once('@') else {
        return Err(bad("must contain an @"));
    };
    if domain.contains('@') {
        return Err(bad("must contain exactly one @"));
    }
    if local.is_empty() || local.chars().count() > MAX_EMAIL_LOCAL_CHARS {
        return Err(bad(&format!(
            "must have 1 to {MAX_EMAIL_LOCAL_CHARS} characters before the @"
        )));
    }
    if domain.is_empty() || domain.split('.').any(str::is_empty) {
        return Err(bad("must have a domain of non-empty labels after the @"));
    }
    Ok(())
}

/// `timezone`: a name in the IANA time zone database bundled into the
/// component (the same one the delivery path formats due times with), so a
/// stored zone always resolves. Lookup is case-insensitive; the canonical
/// spelling is returned and stored. `Etc/Unknown` is jiff's placeholder for
/// "no zone", not a zone, and is refused.
pub fn timezone(value: &str) -> Result<String, ApiError> {
    let bad = || {
        ApiError::bad_request(
            "invalid_timezone",
            format!(
                "timezone {:?} is not an IANA time zone name such as \"Europe/Berlin\"",
                truncate(value)
            ),
        )
    };
    if value.is_empty() || value.eq_ignore_ascii_case("Etc/Unknown") {
        return Err(bad());
    }
    let zone = TimeZone::get(value).map_err(|_| bad())?;
    Ok(zone.iana_name().unwrap_or(value).to_owned())
}

/// `channels`: a subset of `email`/`push` without repetitions. Empty is
/// allowed: it mutes the subscriber for reminders that name no channels.
/// Returned in canonical order (email, push) so the stored value and the
/// answer do not depend on how the client ordered them.
pub fn channels(names: &[&str]) -> Result<Vec<Channel>, ApiError> {
    let mut out: Vec<Channel> = Vec::with_capacity(names.len());
    for name in names {
        let channel: Channel = name.parse().map_err(|_| {
            ApiError::bad_request(
                "invalid_channels",
                format!(
                    "channels may only contain \"email\" and \"push\", not {:?}",
                    truncate(name)
                ),
            )
        })?;
        if out.contains(&channel) {
            return Err(ApiError::bad_request(
                "invalid_channels",
                format!("channels lists \"{channel}\" more than once"),
            ));
        }
        out.push(channel);
    }
    out.sort();
    Ok(out)
}

/// A device token: 1..=4096 characters, no whitespace or control
/// characters (FCM tokens are URL-safe base64 with `:`; anything with a
/// space is a copy-and-paste accident).
pub fn token(value: &str) -> Result<(), ApiError> {
    let len = value.chars().count();
    if len == 0 || len > MAX_TOKEN_CHARS {
        return Err(ApiError::bad_request(
            "invalid_token",
            format!("token must have 1 to {MAX_TOKEN_CHARS} characters, has {len}"),
        ));
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ApiError::bad_request(
            "invalid_token",
            "token must not contain whitespace or control characters",
        ));
    }
    Ok(())
}

/// A device platform: `android`, `ios` or `web` (the `devices.platform`
/// check constraint), exact and lower case.
pub fn platform(value: &str) -> Result<&'static str, ApiError> {
    match value {
        "android" => Ok("android"),
        "ios" => Ok("ios"),
        "web" => Ok("web"),
        other => Err(ApiError::bad_request(
            "invalid_platform",
            format!(
                "platform must be \"android\", \"ios\" or \"web\", not {:?}",
                truncate(other)
            ),
        )),
    }
}

/// `limit`: a decimal integer in 1..=200.
pub fn limit(value: &str) -> Result<u32, ApiError> {
    value
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_LIMIT).contains(n) && value.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_limit",
                format!(
                    "limit must be an integer from 1 to {MAX_LIMIT}, not {:?}",
                    truncate(value)
                ),
            )
        })
}

/// Echoes at most 64 characters of a rejected value in a message.
pub fn truncate(value: &str) -> String {
    const MAX: usize = 64;
    match value.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}...", value.get(..i).unwrap_or(value)),
        None => value.to_owned(),
    }
}

#[cfg(test)]
mod tests;
