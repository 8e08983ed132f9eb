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
mod tests {
    use super::*;

    fn parts(path: &str) -> (Kind, String, Option<String>) {
        let r = parse(path).unwrap();
        let token = (r.kind == Kind::Device).then(|| r.token().unwrap());
        (r.kind, r.user_id().unwrap(), token)
    }

    #[test]
    fn names_each_resource() {
        assert_eq!(
            parts("/notifications/subscribers/u-42"),
            (Kind::Subscriber, "u-42".into(), None)
        );
        assert_eq!(
            parts("/notifications/subscribers/u-42/devices"),
            (Kind::Devices, "u-42".into(), None)
        );
        assert_eq!(
            parts("/notifications/subscribers/u-42/devices/tok:1"),
            (Kind::Device, "u-42".into(), Some("tok:1".into()))
        );
        assert_eq!(
            parts("/notifications/subscribers/u-42/deliveries"),
            (Kind::Deliveries, "u-42".into(), None)
        );
    }

    #[test]
    fn decodes_segments_once_and_keeps_plus() {
        assert_eq!(
            parts("/notifications/subscribers/a%2Fb%2525+c").1,
            "a/b%25+c"
        );
        assert_eq!(
            parts("/notifications/subscribers/%C3%A9/devices/x%3Ay"),
            (Kind::Device, "é".into(), Some("x:y".into()))
        );
    }

    #[test]
    fn other_paths_are_not_resources() {
        for path in [
            "/notifications/subscriber/u",
            "/notifications/subscribers",
            "/notifications/subscribers/u/",
            "/notifications/subscribers/u/devices/t/x",
            "/notifications/subscribers/u/other",
            "/notifications/subscribers/u/deliveries/x",
        ] {
            assert_eq!(parse(path), None, "{path}");
        }
    }

    #[test]
    fn invalid_segments_are_400s() {
        let user = |p: &str| parse(p).unwrap().user_id().unwrap_err().code;
        let token = |p: &str| parse(p).unwrap().token().unwrap_err().code;
        assert_eq!(user("/notifications/subscribers/"), "invalid_user_id");
        assert_eq!(user("/notifications/subscribers/%FF"), "invalid_user_id");
        assert_eq!(user("/notifications/subscribers/a%00b"), "invalid_user_id");
        let long = "x".repeat(129);
        assert_eq!(
            user(&format!("/notifications/subscribers/{long}")),
            "invalid_user_id"
        );
        assert_eq!(
            token("/notifications/subscribers/u/devices/a%20b"),
            "invalid_token"
        );
        assert_eq!(
            token("/notifications/subscribers/u/devices/%FE"),
            "invalid_token"
        );
        assert_eq!(
            token("/notifications/subscribers/u/devices/"),
            "invalid_token"
        );
    }

    #[test]
    fn allow_lists_match_the_routes() {
        assert_eq!(Kind::Subscriber.allowed(), "GET, PUT");
        assert_eq!(Kind::Devices.allowed(), "POST");
        assert_eq!(Kind::Device.allowed(), "DELETE");
        assert_eq!(Kind::Deliveries.allowed(), "GET");
    }
}
