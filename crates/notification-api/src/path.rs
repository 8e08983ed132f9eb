//! Which resource of `/notifications/subscribers/...` a request path names.
//!
//! Parsed here from the raw path rather than from Spin's route parameters so
//! that percent-encoded segments (a `user_id` holding `/`, a token with `%`)
//! are decoded exactly once and the same way on every host. The shape is
//! read first and the segments validated on demand, so that a wrong method
//! is a 405 before any 400 about a segment.

use percent_encoding::percent_decode_str;

use crate::validate;
use crate::ApiError;

const PREFIX: &str = "/notifications/subscribers/";

/// The four resources of the subscriber API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `/notifications/subscribers/:user_id`
    Subscriber,
    /// `/notifications/subscribers/:user_id/devices`
    Devices,
    /// `/notifications/subscribers/:user_id/devices/:token`
    Device,
    /// `/notifications/subscribers/:user_id/deliveries`
    Deliveries,
}

impl Kind {
    /// The methods this resource answers, for `405` and its `allow` header.
    pub fn allowed(self) -> &'static str {
        match self {
            Kind::Subscriber => "GET, PUT",
            Kind::Devices => "POST",
            Kind::Device => "DELETE",
            Kind::Deliveries => "GET",
        }
    }
}

/// A matched path with its still-encoded segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route<'a> {
    /// Which resource.
    pub kind: Kind,
    user: &'a str,
    token: &'a str,
}

impl Route<'_> {
    /// The decoded, validated `:user_id`.
    pub fn user_id(&self) -> Result<String, ApiError> {
        let decoded = decode(self.user).ok_or_else(|| {
            ApiError::bad_request("invalid_user_id", "user_id is not valid UTF-8 once decoded")
        })?;
        validate::user_id(&decoded)?;
        Ok(decoded)
    }

    /// The decoded, validated `:token` (only [`Kind::Device`] has one).
    pub fn token(&self) -> Result<String, ApiError> {
        let decoded = decode(self.token).ok_or_else(|| {
            ApiError::bad_request("invalid_token", "token is not valid UTF-8 once decoded")
        })?;
        validate::token(&decoded)?;
        Ok(decoded)
    }
}

/// `None` for a path that is no resource of this API (answer 404).
pub fn parse(path: &str) -> Option<Route<'_>> {
    let rest = path.strip_prefix(PREFIX)?;
    let segments: Vec<&str> = rest.split('/').collect();
    let (kind, user, token) = match segments.as_slice() {
        [user] => (Kind::Subscriber, *user, ""),
        [user, "devices"] => (Kind::Devices, *user, ""),
        [user, "devices", token] => (Kind::Device, *user, *token),
        [user, "deliveries"] => (Kind::Deliveries, *user, ""),
        _ => return None,
    };
    Some(Route { kind, user, token })
}

/// Percent-decodes one segment (`+` stays `+`: this is a path, not a form).
fn decode(segment: &str) -> Option<String> {
    percent_decode_str(segment)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

#[cfg(test)]
mod tests;
