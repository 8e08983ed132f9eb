//! The variables of the event path, read and validated once per request.
//!
//! A component instance lives for one request, so "once" means once per
//! HTTP request: a bulk delivery of 100 reminders reads them one time, not
//! 100. A channel whose variables are unusable is not an error of the event:
//! its deliveries fail with `channel_not_configured` (and say why in the
//! log), because redelivering the reminder cannot fix a deployment.

use component_kit::dapr::Sidecar;
use component_kit::vars;
use notification_delivery::delivery::Ready;
use notification_delivery::fcm::client_email;
use notification_delivery::{
    AttemptPolicy, Channel, ConfigError, EmailProvider, FcmConfig, RelayConfig, Secrets,
};

/// Everything the event path reads from Spin variables.
pub struct EventConfig {
    /// The e-mail relay, or why e-mail is not configured.
    pub relay: Result<RelayConfig, ConfigError>,
    /// FCM, or why push is not configured (`fcm_project_id` empty included).
    pub fcm: Result<FcmConfig, ConfigError>,
    /// `fcm_service_account_json` as given; parsed (RSA key and all) only
    /// when a new access token must be minted.
    pub service_account_json: String,
    /// The service account's `client_email`: the key of the token cache.
    pub client_email: Option<String>,
    /// The relay API key and the service account's key material, to scrub
    /// from what is logged: built once per request, not once per event.
    secrets: Secrets,
    /// `max_delivery_attempts`.
    pub policy: AttemptPolicy,
    /// Where outcome events go.
    pub sidecar: Sidecar,
}

impl EventConfig {
    /// Reads the variables; problems are logged once and folded into the
    /// per-channel results.
    pub fn read() -> Self {
        let relay_api_key = vars::get_or("email_relay_api_key", "");
        let relay = EmailProvider::from_variable(&vars::get_or("email_provider", "resend"))
            .and_then(|provider| {
                RelayConfig::new(
                    provider,
                    &vars::get_or("email_relay_base", "https://api.resend.com"),
                    &relay_api_key,
                    &vars::get_or("email_from", ""),
                )
            });
        let service_account_json = vars::get_or("fcm_service_account_json", "");
        let client_email = client_email(&service_account_json);
        let fcm = FcmConfig::from_variables(
            &vars::get_or("fcm_project_id", ""),
            &vars::get_or("fcm_api_base", "https://fcm.googleapis.com"),
            &vars::get_or("fcm_oauth_base", "https://oauth2.googleapis.com"),
        )
        .and_then(|config| config.ok_or(ConfigError::PushDisabled))
        .and_then(|config| match client_email {
            Some(_) => Ok(config),
            None => Err(ConfigError::NoClientEmail),
        });
        let raw_attempts = vars::get_or("max_delivery_attempts", "5");
        let policy = AttemptPolicy::from_variable(&raw_attempts).unwrap_or_else(|e| {
            tracing::warn!(
                reason = "invalid_configuration",
                detail = %e,
                default = AttemptPolicy::DEFAULT_MAX_ATTEMPTS,
                "max_delivery_attempts is invalid; using the default"
            );
            AttemptPolicy::default()
        });
        let mut secrets = Secrets::new();
        secrets.add(&relay_api_key);
        secrets.add_service_account(&service_account_json);
        EventConfig {
            relay,
            fcm,
            service_account_json,
            client_email,
            secrets,
            policy,
            sidecar: Sidecar::from_vars(),
        }
    }

    /// The configured secrets (relay API key, service-account key
    /// material), to scrub from log lines and stored errors.
    pub fn secrets(&self) -> Secrets {
        self.secrets.clone()
    }

    /// Which channels can be served.
    pub fn ready(&self) -> Ready {
        Ready {
            email: self.relay.is_ok(),
            push: self.fcm.is_ok(),
        }
    }

    /// Why `channel` is not configured, if it is not.
    pub fn not_configured(&self, channel: Channel) -> Option<String> {
        match channel {
            Channel::Email => self.relay.as_ref().err().map(ToString::to_string),
            Channel::Push => self.fcm.as_ref().err().map(ToString::to_string),
        }
    }

    /// The token-cache key to look up: only when push is configured.
    pub fn token_cache_key(&self) -> Option<&str> {
        self.fcm.as_ref().ok().and(self.client_email.as_deref())
    }
}
