//! The Spin variables of the event path, interpreted: which channels can
//! be served, with what, and how often a delivery is attempted.
//!
//! The component reads each variable once per HTTP request (a bulk of 100
//! reminders reads them one time) and hands them over through a lookup
//! function; everything decided about them is here. A channel whose
//! variables are unusable is not an error of the event: its deliveries
//! fail with `channel_not_configured` (and say why in the log), because
//! redelivering the reminder cannot fix a deployment. Secret values never
//! appear in a [`ConfigError`].
//!
//! The secrets the settings hold ([`Secrets`]: relay API key, service
//! account key material, plus the FCM access token in use) are scrubbed
//! from everything the service logs or stores, including provider error
//! bodies that echo them: whatever leaves through a log line or
//! `last_error` passes [`Secrets::scrub_json`] last, so no new provider
//! message format can leak one.

use serde_json::Value;

use crate::config_error::ConfigError;
use crate::delivery::Ready;
use crate::email::{EmailProvider, RelayConfig};
use crate::fcm::{client_email, FcmConfig};
use crate::keys::Channel;
use crate::policy::AttemptPolicy;

/// Everything the event path takes from Spin variables.
pub struct EventSettings {
    /// The e-mail relay, or why e-mail is not configured.
    pub relay: Result<RelayConfig, ConfigError>,
    /// FCM, or why push is not configured (`fcm_project_id` empty included).
    pub fcm: Result<FcmConfig, ConfigError>,
    /// `fcm_service_account_json` as given; parsed (RSA key and all) only
    /// when a new access token must be minted.
    pub service_account_json: String,
    /// The service account's `client_email`: the key of the token cache.
    pub client_email: Option<String>,
    /// `max_delivery_attempts`, or the default when it is unusable.
    pub policy: AttemptPolicy,
    /// Why `max_delivery_attempts` was unusable, for one warning.
    pub policy_error: Option<ConfigError>,
    /// The relay API key and the service account's key material, to scrub
    /// from what is logged or stored.
    secrets: Secrets,
}

impl EventSettings {
    /// Interprets the variables; `var(name, default)` is the variable's
    /// value, or `default` when it is not set.
    pub fn from_variables(var: impl Fn(&str, &str) -> String) -> Self {
        let relay_api_key = var("email_relay_api_key", "");
        let relay =
            EmailProvider::from_variable(&var("email_provider", "resend")).and_then(|provider| {
                RelayConfig::new(
                    provider,
                    &var("email_relay_base", "https://api.resend.com"),
                    &relay_api_key,
                    &var("email_from", ""),
                )
            });
        let service_account_json = var("fcm_service_account_json", "");
        let client_email = client_email(&service_account_json);
        let fcm = FcmConfig::from_variables(
            &var("fcm_project_id", ""),
            &var("fcm_api_base", "https://fcm.googleapis.com"),
            &var("fcm_oauth_base", "https://oauth2.googleapis.com"),
        )
        .and_then(|config| config.ok_or(ConfigError::PushDisabled))
        .and_then(|config| match client_email {
            Some(_) => Ok(config),
            None => Err(ConfigError::NoClientEmail),
        });
        let (policy, policy_error) =
            match AttemptPolicy::from_variable(&var("max_delivery_attempts", "5")) {
                Ok(policy) => (policy, None),
                Err(e) => (AttemptPolicy::default(), Some(e)),
            };
        let mut secrets = Secrets::new();
        secrets.add(&relay_api_key);
        secrets.add_service_account(&service_account_json);
        EventSettings {
            relay,
            fcm,
            service_account_json,
            client_email,
            policy,
            policy_error,
            secrets,
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

/// Shorter values are not scrubbed: replacing common short strings would
/// mangle messages without protecting anything (real keys are long).
const MIN_SECRET_CHARS: usize = 8;

/// What a secret is replaced by.
pub use todo_contract::REDACTED;

/// The secret values of one request.
#[derive(Debug, Default, Clone)]
pub struct Secrets {
    values: Vec<String>,
}

impl Secrets {
    /// No secrets yet.
    pub fn new() -> Self {
        Secrets::default()
    }

    /// Adds a secret value (ignored when shorter than 8 characters).
    pub fn add(&mut self, value: &str) {
        let value = value.trim();
        if value.chars().count() >= MIN_SECRET_CHARS && !self.values.iter().any(|v| v == value) {
            self.values.push(value.to_owned());
            // Longest first, so a secret containing another goes whole.
            self.values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        }
    }

    /// Adds a PEM private key: the whole text and each base64 line of it,
    /// since a provider may quote any part.
    pub fn add_key_material(&mut self, pem: &str) {
        self.add(pem);
        for line in pem.lines().filter(|l| !l.starts_with("-----")) {
            self.add(line);
        }
    }

    /// Adds the `private_key` of a service-account key file's JSON.
    pub fn add_service_account(&mut self, json: &str) {
        if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(json) {
            if let Some(Value::String(pem)) = map.get("private_key") {
                self.add_key_material(pem);
            }
            if let Some(Value::String(id)) = map.get("private_key_id") {
                self.add(id);
            }
        }
    }

    /// `text` with every known secret replaced by [`REDACTED`].
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.values {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        out
    }

    /// Scrubs every string (and object key) inside `value`, in place.
    pub fn scrub_json(&self, value: &mut Value) {
        if self.values.is_empty() {
            return;
        }
        match value {
            Value::String(s) if self.values.iter().any(|v| s.contains(v.as_str())) => {
                *s = self.scrub(s);
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.scrub_json(v)),
            Value::Object(map) => {
                let keys: Vec<String> = map.keys().cloned().collect();
                for key in keys {
                    if let Some(mut v) = map.remove(&key) {
                        self.scrub_json(&mut v);
                        map.insert(self.scrub(&key), v);
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests;
