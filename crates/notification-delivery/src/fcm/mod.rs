//! Push through Firebase Cloud Messaging HTTP v1.
//!
//! - [`message`]: the `messages:send` request, one per device token (FCM's
//!   batch send is gone).
//! - [`errors`]: reading FCM's answer into an [`crate::Attempt`].
//! - [`oauth`]: the service-account JWT, the token request and its answer.

pub mod errors;
pub mod message;
pub mod oauth;

pub use errors::classify_send_response;
pub use message::{build_send_request, PushMessage};
pub use oauth::{
    build_jwt, build_token_request, parse_token_response, AccessToken, OAuthError, ServiceAccount,
};

use crate::http::normalize_base_url;
use crate::settings::ConfigError;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_email_is_read_without_the_key() {
        assert_eq!(
            client_email(r#"{"client_email": " a@p.iam ", "private_key": "garbage"}"#).as_deref(),
            Some("a@p.iam")
        );
        assert_eq!(client_email(""), None);
        assert_eq!(client_email("not json"), None);
        assert_eq!(client_email(r#"{"client_email": 7}"#), None);
        assert_eq!(client_email(r#"{"client_email": ""}"#), None);
    }

    #[test]
    fn empty_project_disables_push() {
        assert_eq!(FcmConfig::from_variables(" ", "x", "y"), Ok(None));
    }

    #[test]
    fn urls() {
        let c = FcmConfig::from_variables(
            "todo-app-123",
            "https://fcm.googleapis.com/",
            "https://oauth2.googleapis.com",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            c.send_url(),
            "https://fcm.googleapis.com/v1/projects/todo-app-123/messages:send"
        );
        assert_eq!(c.token_endpoint(), "https://oauth2.googleapis.com/token");
    }

    #[test]
    fn invalid_values_are_rejected() {
        assert_eq!(
            FcmConfig::from_variables("a/../b", "https://f", "https://o"),
            Err(ConfigError::InvalidProjectId("a/../b".into()))
        );
        assert!(matches!(
            FcmConfig::from_variables("p", "fcm.googleapis.com", "https://o"),
            Err(ConfigError::InvalidBaseUrl {
                variable: "fcm_api_base",
                ..
            })
        ));
        assert!(matches!(
            FcmConfig::from_variables("p", "https://f", ""),
            Err(ConfigError::InvalidBaseUrl {
                variable: "fcm_oauth_base",
                ..
            })
        ));
    }
}
