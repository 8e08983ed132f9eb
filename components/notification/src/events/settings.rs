//! The variables of the event path, read and validated once per request.
//!
//! A component instance lives for one request, so "once" means once per
//! HTTP request: a bulk delivery of 100 reminders reads them one time, not
//! 100. A channel whose variables are unusable is not an error of the event:
//! its deliveries fail with `channel_not_configured` (and say why in the
//! log), because redelivering the reminder cannot fix a deployment.

use component_kit::dapr::Sidecar;
use component_kit::{log, vars};
use notification_delivery::{AttemptPolicy, EmailProvider, FcmConfig, RelayConfig};
use serde_json::json;

/// Everything the event path reads from Spin variables.
pub struct Settings {
    /// The e-mail relay, or why e-mail is not configured.
    pub relay: Result<RelayConfig, String>,
    /// FCM, or why push is not configured (`fcm_project_id` empty included).
    pub fcm: Result<FcmConfig, String>,
    /// `fcm_service_account_json` as given; parsed (RSA key and all) only
    /// when a new access token must be minted.
    pub service_account_json: String,
    /// The service account's `client_email`: the key of the token cache,
    /// read cheaply (no key parsing) so the cached token can be fetched in
    /// the same round trip as the subscriber.
    pub client_email: Option<String>,
    /// `max_delivery_attempts`.
    pub policy: AttemptPolicy,
    /// Where outcome events go.
    pub sidecar: Sidecar,
}

impl Settings {
    /// Reads the variables; problems are logged once and folded into the
    /// per-channel results.
    pub fn read() -> Self {
        let relay = EmailProvider::from_variable(&vars::get_or("email_provider", "resend"))
            .and_then(|provider| {
                RelayConfig::new(
                    provider,
                    &vars::get_or("email_relay_base", "https://api.resend.com"),
                    &vars::get_or("email_relay_api_key", ""),
                    &vars::get_or("email_from", ""),
                )
            })
            .map_err(|e| e.to_string());
        let fcm = match FcmConfig::from_variables(
            &vars::get_or("fcm_project_id", ""),
            &vars::get_or("fcm_api_base", "https://fcm.googleapis.com"),
            &vars::get_or("fcm_oauth_base", "https://oauth2.googleapis.com"),
        ) {
            Ok(Some(config)) => Ok(config),
            Ok(None) => Err("fcm_project_id is empty: push is disabled".to_owned()),
            Err(e) => Err(e.to_string()),
        };
        let service_account_json = vars::get_or("fcm_service_account_json", "");
        let client_email = client_email(&service_account_json);
        let fcm = fcm.and_then(|config| match client_email {
            Some(_) => Ok(config),
            None => Err("fcm_service_account_json has no usable client_email".to_owned()),
        });
        let raw_attempts = vars::get_or("max_delivery_attempts", "5");
        let policy = AttemptPolicy::from_variable(&raw_attempts).unwrap_or_else(|e| {
            log::warn(
                "max_delivery_attempts is invalid; using the default",
                json!({"reason": "invalid_configuration", "detail": e.to_string(),
                       "default": AttemptPolicy::DEFAULT_MAX_ATTEMPTS}),
            );
            AttemptPolicy::default()
        });
        Settings {
            relay,
            fcm,
            service_account_json,
            client_email,
            policy,
            sidecar: Sidecar::from_vars(),
        }
    }
}

/// `client_email` of a service-account key file, without touching the key.
fn client_email(json: &str) -> Option<String> {
    if json.trim().is_empty() {
        return None;
    }
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    let email = value.get("client_email")?.as_str()?.trim();
    (!email.is_empty()).then(|| email.to_owned())
}

#[cfg(test)]
mod tests {
    use super::client_email;

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
}
