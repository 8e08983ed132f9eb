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
mod tests {
    use super::*;

    fn code<T: std::fmt::Debug>(r: Result<T, ApiError>) -> &'static str {
        let e = r.unwrap_err();
        assert_eq!(e.status, 400);
        e.code
    }

    #[test]
    fn user_ids_are_1_to_128_characters_without_controls() {
        assert!(user_id("u-42").is_ok());
        assert!(user_id(&"é".repeat(128)).is_ok());
        assert!(user_id("a/b c+d%").is_ok());
        assert_eq!(code(user_id("")), "invalid_user_id");
        assert_eq!(code(user_id(&"x".repeat(129))), "invalid_user_id");
        assert_eq!(code(user_id("a\0b")), "invalid_user_id");
        assert_eq!(code(user_id("a\nb")), "invalid_user_id");
    }

    #[test]
    fn plausible_emails_pass() {
        for ok in [
            "ada@example.com",
            "a.b+tag@sub.example.co.uk",
            "dev@localhost",
            "ünï@exämple.de",
        ] {
            assert!(email(ok).is_ok(), "{ok}");
        }
        let local = "l".repeat(64);
        let domain = format!("{}.com", "d".repeat(254 - 64 - 1 - 4));
        assert!(email(&format!("{local}@{domain}")).is_ok());
    }

    #[test]
    fn implausible_emails_fail() {
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "a@b@c",
            "ada @example.com",
            "ada@exa mple.com",
            "ada@example.com\n",
            "ada@.com",
            "ada@example.",
            "ada@example..com",
            "Ada <ada@example.com>",
            "a@b.com,c@d.com",
            "\"a b\"@example.com",
        ] {
            assert_eq!(code(email(bad)), "invalid_email", "{bad:?}");
        }
        assert_eq!(
            code(email(&format!("{}@example.com", "l".repeat(65)))),
            "invalid_email"
        );
        assert_eq!(
            code(email(&format!("a@{}.com", "d".repeat(250)))),
            "invalid_email"
        );
    }

    #[test]
    fn timezones_are_real_iana_names_stored_canonically() {
        assert_eq!(timezone("Europe/Berlin").unwrap(), "Europe/Berlin");
        assert_eq!(timezone("america/new_york").unwrap(), "America/New_York");
        assert_eq!(timezone("UTC").unwrap(), "UTC");
        assert_eq!(timezone("Asia/Kolkata").unwrap(), "Asia/Kolkata");
        for bad in [
            "",
            "Mars/Olympus",
            "Europe/Berlin ",
            "+01:00",
            "CET-1CEST,M3.5.0,M10.5.0/3",
            "Etc/Unknown",
            "../../etc/passwd",
        ] {
            assert_eq!(code(timezone(bad)), "invalid_timezone", "{bad:?}");
        }
    }

    #[test]
    fn channels_are_a_canonical_subset_without_repeats() {
        assert_eq!(
            channels(&["push", "email"]).unwrap(),
            vec![Channel::Email, Channel::Push]
        );
        assert_eq!(channels(&["push"]).unwrap(), vec![Channel::Push]);
        assert_eq!(channels(&[]).unwrap(), vec![]);
        assert_eq!(code(channels(&["sms"])), "invalid_channels");
        assert_eq!(code(channels(&["Email"])), "invalid_channels");
        assert_eq!(code(channels(&["push", "push"])), "invalid_channels");
    }

    #[test]
    fn tokens_are_bounded_and_without_whitespace() {
        assert!(token("fcm:APA91b-_x").is_ok());
        assert!(token(&"t".repeat(4096)).is_ok());
        assert_eq!(code(token("")), "invalid_token");
        assert_eq!(code(token(&"t".repeat(4097))), "invalid_token");
        assert_eq!(code(token("a b")), "invalid_token");
        assert_eq!(code(token("a\tb")), "invalid_token");
        assert_eq!(code(token("a\u{a0}b")), "invalid_token");
    }

    #[test]
    fn platforms_are_exact() {
        assert_eq!(platform("ios").unwrap(), "ios");
        assert_eq!(platform("android").unwrap(), "android");
        assert_eq!(platform("web").unwrap(), "web");
        assert_eq!(code(platform("iOS")), "invalid_platform");
        assert_eq!(code(platform("")), "invalid_platform");
    }

    #[test]
    fn limits_are_1_to_200() {
        assert_eq!(limit("1").unwrap(), 1);
        assert_eq!(limit("200").unwrap(), 200);
        for bad in ["0", "201", "-1", "+5", "abc", "", "1.5", "99999999999"] {
            assert_eq!(code(limit(bad)), "invalid_limit", "{bad:?}");
        }
    }

    #[test]
    fn echoed_values_are_truncated() {
        assert_eq!(truncate("short"), "short");
        let long = "é".repeat(100);
        assert_eq!(truncate(&long).chars().count(), 67);
    }
}
