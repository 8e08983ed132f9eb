//! Push through Firebase Cloud Messaging HTTP v1: the variables, the
//! `messages:send` request and reading its answer; [`oauth`] has the
//! service-account JWT, the token request and its answer; [`token_source`]
//! decides which token a request's pushes are sent with (cached, minted,
//! refreshed once).
//!
//! One request per device token. The reminder id is used as Android
//! `collapse_key`, Android notification `tag` and the `apns-collapse-id`
//! header, so a duplicate push replaces the notification already on the
//! device instead of stacking a second one. `data` values are strings, as
//! FCM requires.
//!
//! FCM HTTP v1 errors are Google RPC statuses:
//! `{"error": {"code", "message", "status", "details": [...]}}`. The precise
//! reason is the `errorCode` of the `google.firebase.fcm.v1.FcmError` detail
//! (UNREGISTERED, INVALID_ARGUMENT, SENDER_ID_MISMATCH, QUOTA_EXCEEDED,
//! UNAVAILABLE, INTERNAL, THIRD_PARTY_AUTH_ERROR, UNSPECIFIED_ERROR); when it
//! is missing we fall back to `error.status`, then to the HTTP status. Gateway
//! errors may come back as HTML pages: with a 5xx they are transient.
//!
//! The answer is an [`Attempt`]: a dead device token (UNREGISTERED, or
//! INVALID_ARGUMENT about the token) fails with `invalid_token` (the token is
//! deleted); 401 UNAUTHENTICATED fails with `provider_auth_failed`, which the
//! caller answers by refreshing the access token once and sending again
//! (only when it persists is it final). THIRD_PARTY_AUTH_ERROR comes with a
//! 401 too but is the APNs/Web Push credentials, not ours: `rejected_by_provider`.

pub mod oauth;
pub mod token_source;

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::config_error::ConfigError;
use crate::content::ReminderContent;
use crate::keys::BusinessKey;
use crate::policy::{Attempt, ReasonCode, Transient};
use crate::provider_http::{
    describe_unparsed_body, is_transient_status, normalize_base_url, post, ProviderRequest,
    ProviderResponse, RequestError,
};

pub use oauth::{
    build_jwt, build_token_request, parse_token_response, AccessToken, OAuthError, ServiceAccount,
};
pub use token_source::{token_refused, TokenSource, TokenStep};

/// The validated FCM variables (`fcm_project_id`, `fcm_api_base`,
/// `fcm_oauth_base`). The service-account JSON is parsed separately (and
/// only when a token must be minted) by [`ServiceAccount::from_json`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FcmConfig {
    project_id: String,
    api_base: String,
    oauth_base: String,
}

impl FcmConfig {
    /// Validates the variables. An empty `fcm_project_id` means push is
    /// disabled and yields `Ok(None)`, as the contract specifies.
    pub fn from_variables(
        project_id: &str,
        api_base: &str,
        oauth_base: &str,
    ) -> Result<Option<Self>, ConfigError> {
        let project_id = project_id.trim();
        if project_id.is_empty() {
            return Ok(None);
        }
        // Project ids are lowercase letters, digits and hyphens (plus the
        // legacy `domain:project` form); anything else would alter the URL path.
        let valid = project_id.len() <= 100
            && project_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':' | '_'));
        if !valid {
            return Err(ConfigError::InvalidProjectId(project_id.to_owned()));
        }
        let api_base = normalize_base_url(api_base).ok_or_else(|| ConfigError::InvalidBaseUrl {
            variable: "fcm_api_base",
            value: api_base.to_owned(),
        })?;
        let oauth_base =
            normalize_base_url(oauth_base).ok_or_else(|| ConfigError::InvalidBaseUrl {
                variable: "fcm_oauth_base",
                value: oauth_base.to_owned(),
            })?;
        Ok(Some(FcmConfig {
            project_id: project_id.to_owned(),
            api_base,
            oauth_base,
        }))
    }

    /// `{fcm_api_base}/v1/projects/{project}/messages:send`.
    pub fn send_url(&self) -> String {
        format!(
            "{}/v1/projects/{}/messages:send",
            self.api_base, self.project_id
        )
    }

    /// `{fcm_oauth_base}/token`: where the JWT is exchanged, and its `aud`.
    pub fn token_endpoint(&self) -> String {
        format!("{}/token", self.oauth_base)
    }
}

/// `client_email` of a service-account key file, read without touching
/// the key: the key of the access-token cache, cheap enough to read on
/// every request so the cached token is fetched with the subscriber.
pub fn client_email(service_account_json: &str) -> Option<String> {
    if service_account_json.trim().is_empty() {
        return None;
    }
    let value: serde_json::Value = serde_json::from_str(service_account_json).ok()?;
    let email = value.get("client_email")?.as_str()?.trim();
    (!email.is_empty()).then(|| email.to_owned())
}

/// One push notification to one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushMessage {
    /// FCM registration token of the device (secret-ish: mask in logs).
    pub token: String,
    /// Notification title.
    pub title: String,
    /// Notification body.
    pub body: String,
    /// Collapse key / tag / `apns-collapse-id` (a UUID: 36 bytes, under APNs' 64).
    pub collapse_id: Uuid,
    /// The `data` payload delivered to the app.
    pub data: BTreeMap<String, String>,
}

impl PushMessage {
    /// The reminder push for the delivery `key` (channel push, recipient =
    /// device token). `data` carries `task_id`, `remind_at`, `due_at` (when
    /// known), `reminder_id` and `delivery_id` so the app can open the task
    /// and de-duplicate on its side too.
    pub fn for_reminder(
        key: &BusinessKey,
        content: &ReminderContent,
        due_at: Option<Timestamp>,
    ) -> Self {
        let reminder_id = key.reminder_id();
        let mut data = BTreeMap::new();
        data.insert("type".to_owned(), "reminder".to_owned());
        data.insert("task_id".to_owned(), key.task_id().to_string());
        data.insert("remind_at".to_owned(), key.remind_at().to_string());
        if let Some(due_at) = due_at {
            data.insert("due_at".to_owned(), due_at.to_string());
        }
        data.insert("reminder_id".to_owned(), reminder_id.to_string());
        data.insert("delivery_id".to_owned(), key.delivery_id().to_string());
        PushMessage {
            token: key.recipient().to_owned(),
            title: content.push_title.clone(),
            body: content.push_body.clone(),
            collapse_id: reminder_id,
            data,
        }
    }
}

/// Builds `POST {fcm_api_base}/v1/projects/{project}/messages:send` for
/// `message`, authorised with `token` (from [`oauth::parse_token_response`]).
pub fn build_send_request(
    config: &FcmConfig,
    token: &AccessToken,
    message: &PushMessage,
) -> Result<ProviderRequest, RequestError> {
    let collapse = message.collapse_id.to_string();
    let body = json!({
        "message": {
            "token": message.token,
            "notification": {"title": message.title, "body": message.body},
            "data": message.data,
            "android": {
                "collapse_key": collapse,
                "notification": {"tag": collapse},
            },
            "apns": {
                "headers": {"apns-collapse-id": collapse},
            },
        }
    });
    post(
        &config.send_url(),
        &[
            ("Authorization", &format!("Bearer {}", token.secret())),
            ("Content-Type", "application/json; charset=UTF-8"),
        ],
        body.to_string().into_bytes(),
    )
}

/// The parts of a Google RPC error we look at.
struct RpcError {
    message: String,
    status: Option<String>,
    fcm_error_code: Option<String>,
    token_field_violation: bool,
}

impl RpcError {
    fn parse(body: &[u8]) -> Option<RpcError> {
        let root: Value = serde_json::from_slice(body).ok()?;
        let error = root.get("error")?.as_object()?;
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let status = error
            .get("status")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let details = error
            .get("details")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let fcm_error_code = details.iter().find_map(|d| {
            let is_fcm = d
                .get("@type")
                .and_then(Value::as_str)
                .is_none_or(|t| t.ends_with("google.firebase.fcm.v1.FcmError"));
            let code = d.get("errorCode").and_then(Value::as_str)?;
            is_fcm.then(|| code.to_owned())
        });
        let token_field_violation = details.iter().any(|d| {
            d.get("fieldViolations")
                .and_then(Value::as_array)
                .is_some_and(|violations| {
                    violations.iter().any(|v| {
                        v.get("field")
                            .and_then(Value::as_str)
                            .is_some_and(|f| f == "message.token")
                    })
                })
        });
        Some(RpcError {
            message,
            status,
            fcm_error_code,
            token_field_violation,
        })
    }

    /// The code we classify on: FcmError's `errorCode` unless unspecified,
    /// else the RPC `status`.
    fn code(&self) -> Option<&str> {
        self.fcm_error_code
            .as_deref()
            .filter(|c| *c != "UNSPECIFIED_ERROR")
            .or(self.status.as_deref())
    }

    /// INVALID_ARGUMENT covers both bad tokens and bad payloads; it is about
    /// the token when a field violation names `message.token` or the message
    /// says so (FCM's documented "The registration token is not a valid FCM
    /// registration token").
    fn is_about_token(&self) -> bool {
        self.token_field_violation
            || self
                .message
                .to_ascii_lowercase()
                .contains("registration token")
    }

    fn detail(&self) -> String {
        match self.code() {
            Some(code) if !self.message.is_empty() => format!("{code}: {}", self.message),
            Some(code) => code.to_owned(),
            None => self.message.clone(),
        }
    }
}

/// Classifies FCM's answer. `now` resolves an HTTP-date `Retry-After`.
pub fn classify_send_response(response: &ProviderResponse, now: Timestamp) -> Attempt {
    if response.status().is_success() {
        let name = serde_json::from_slice::<Value>(response.body())
            .ok()
            .and_then(|v| v.get("name").and_then(Value::as_str).map(str::to_owned))
            .filter(|n| !n.is_empty());
        return Attempt::Sent {
            provider_message_id: name,
        };
    }
    let status = response.status().as_u16();
    let Some(error) = RpcError::parse(response.body()) else {
        let detail = describe_unparsed_body(status, response.body());
        return by_status(response, now, &detail);
    };
    let detail = error.detail();
    match error.code() {
        Some("UNREGISTERED") => Attempt::failed(ReasonCode::InvalidToken, status, &detail),
        Some("INVALID_ARGUMENT") if error.is_about_token() => {
            Attempt::failed(ReasonCode::InvalidToken, status, &detail)
        }
        Some("INVALID_ARGUMENT" | "SENDER_ID_MISMATCH" | "THIRD_PARTY_AUTH_ERROR") => {
            Attempt::failed(ReasonCode::RejectedByProvider, status, &detail)
        }
        Some(
            "QUOTA_EXCEEDED" | "RESOURCE_EXHAUSTED" | "UNAVAILABLE" | "INTERNAL"
            | "DEADLINE_EXCEEDED",
        ) => Attempt::Transient(Transient::from_response(response, now, &detail)),
        Some("UNAUTHENTICATED") => Attempt::failed(ReasonCode::ProviderAuthFailed, status, &detail),
        _ => by_status(response, now, &detail),
    }
}

/// Fallback when the body names no code we know: the HTTP status decides.
fn by_status(response: &ProviderResponse, now: Timestamp, detail: &str) -> Attempt {
    let status = response.status().as_u16();
    if status == 401 {
        Attempt::failed(ReasonCode::ProviderAuthFailed, status, detail)
    } else if is_transient_status(status) {
        Attempt::Transient(Transient::from_response(response, now, detail))
    } else {
        Attempt::failed(ReasonCode::RejectedByProvider, status, detail)
    }
}

#[cfg(test)]
mod tests;
