//! Request bodies and query strings of the subscriber API, parsed and
//! validated in one step (pure; native unit tests below).
//!
//! Bodies are JSON objects; fields this API does not know are ignored (the
//! JSON norm, and it lets clients send a newer shape to an older server). A
//! field of the wrong type is a 400 with that field's own code. `null` means
//! "absent" for the optional fields, so `PUT` is a full replacement in which
//! absent fields take their documented defaults.

use serde_json::{Map, Value};

use crate::cursor::Cursor;
use crate::validate;
use crate::ApiError;
use todo_contract::Channel;

/// Largest request body read: a subscriber or device body is well under
/// 1 KiB, and the biggest legal one (a 4096-character token) under 5 KiB.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The body of `PUT /notifications/subscribers/:user_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriberInput {
    /// `null`/absent: no e-mail address (the e-mail channel then fails with
    /// `no_address`).
    pub email: Option<String>,
    /// Canonical IANA name; absent: `UTC`.
    pub timezone: String,
    /// Canonical order; absent: both channels.
    pub channels: Vec<Channel>,
}

impl SubscriberInput {
    /// Parses and validates the body.
    pub fn from_json(body: &[u8]) -> Result<Self, ApiError> {
        let map = object(body)?;
        let email = match map.get("email") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => {
                validate::email(s)?;
                Some(s.clone())
            }
            Some(_) => return Err(wrong_type("invalid_email", "email", "a string or null")),
        };
        let timezone = match map.get("timezone") {
            None | Some(Value::Null) => "UTC".to_owned(),
            Some(Value::String(s)) => validate::timezone(s)?,
            Some(_) => return Err(wrong_type("invalid_timezone", "timezone", "a string")),
        };
        let channels = match map.get("channels") {
            None | Some(Value::Null) => Channel::ALL.to_vec(),
            Some(Value::Array(items)) => {
                let names = items
                    .iter()
                    .map(Value::as_str)
                    .collect::<Option<Vec<&str>>>()
                    .ok_or_else(|| {
                        wrong_type("invalid_channels", "channels", "an array of strings")
                    })?;
                validate::channels(&names)?
            }
            Some(_) => {
                return Err(wrong_type(
                    "invalid_channels",
                    "channels",
                    "an array of strings",
                ))
            }
        };
        Ok(SubscriberInput {
            email,
            timezone,
            channels,
        })
    }

    /// `channels` as a Postgres array literal for `$n::text::text[]`; the
    /// names are fixed words, so no quoting is needed.
    pub fn channels_literal(&self) -> String {
        let names: Vec<&str> = self.channels.iter().map(|c| c.as_str()).collect();
        format!("{{{}}}", names.join(","))
    }
}

/// The body of `POST .../devices`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInput {
    /// The FCM registration token.
    pub token: String,
    /// `android`, `ios`, `web`, or `None` when not given.
    pub platform: Option<&'static str>,
}

impl DeviceInput {
    /// Parses and validates the body.
    pub fn from_json(body: &[u8]) -> Result<Self, ApiError> {
        let map = object(body)?;
        let token = match map.get("token") {
            None | Some(Value::Null) => {
                return Err(ApiError::bad_request("invalid_token", "token is required"))
            }
            Some(Value::String(s)) => {
                validate::token(s)?;
                s.clone()
            }
            Some(_) => return Err(wrong_type("invalid_token", "token", "a string")),
        };
        let platform = match map.get("platform") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(validate::platform(s)?),
            Some(_) => return Err(wrong_type("invalid_platform", "platform", "a string")),
        };
        Ok(DeviceInput { token, platform })
    }
}

/// The query of `GET .../deliveries`: `limit` (1..=200, default 50) and
/// `before` (a cursor). Other parameters are ignored; giving one of these
/// twice is an error rather than a silent pick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// Page size.
    pub limit: u32,
    /// Continue after this position; `None` for the first page.
    pub before: Option<Cursor>,
}

impl ListQuery {
    /// Parses the raw query string (without `?`).
    pub fn from_query(query: &str) -> Result<Self, ApiError> {
        let mut limit = None;
        let mut before = None;
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "limit" if limit.is_some() => return Err(twice("invalid_limit", "limit")),
                "limit" => limit = Some(validate::limit(&value)?),
                "before" if before.is_some() => return Err(twice("invalid_cursor", "before")),
                "before" => before = Some(Cursor::decode(&value)?),
                _ => {}
            }
        }
        Ok(ListQuery {
            limit: limit.unwrap_or(validate::DEFAULT_LIMIT),
            before,
        })
    }
}

fn object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError {
            status: 413,
            code: "body_too_large",
            message: format!("request body must be at most {MAX_BODY_BYTES} bytes"),
        });
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad_request(
            "invalid_body",
            "request body must be a JSON object",
        )),
        Err(e) => Err(ApiError::bad_request(
            "invalid_json",
            format!("request body is not valid JSON: {e}"),
        )),
    }
}

fn wrong_type(code: &'static str, field: &str, expected: &str) -> ApiError {
    ApiError::bad_request(code, format!("{field} must be {expected}"))
}

fn twice(code: &'static str, param: &str) -> ApiError {
    ApiError::bad_request(code, format!("{param} is given more than once"))
}

#[cfg(test)]
mod tests;
