//! E-mail through an HTTP relay, one adapter per provider behind one trait.
//!
//! `email_provider` picks the adapter ([`EmailProvider`]); [`RelayConfig`]
//! holds the relay variables once validated. Each adapter only knows its
//! provider's request JSON and response shapes; status-based retry rules are
//! shared here so all providers retry alike (429, 408 and 5xx transient with
//! `Retry-After`, other 4xx permanent with the provider's message kept).

pub mod mailpit;
pub mod resend;
pub mod sendgrid;

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;

use crate::config_error::ConfigError;
use crate::content::ReminderContent;
use crate::keys::BusinessKey;
use crate::policy::ReasonCode;
use crate::policy::{Attempt, Transient};
use crate::provider_http::{
    describe_unparsed_body, is_transient_status, is_valid_header_value, normalize_base_url,
    ProviderRequest, ProviderResponse, RequestError,
};

/// The relay selected by the Spin variable `email_provider`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmailProvider {
    /// Resend (`POST /emails`), the contract's default.
    #[default]
    Resend,
    /// Twilio SendGrid v3 (`POST /v3/mail/send`).
    SendGrid,
    /// Mailpit's HTTP send API (`POST /api/v1/send`), for local development.
    Mailpit,
}

impl EmailProvider {
    /// The variable value naming this provider.
    pub fn as_str(self) -> &'static str {
        match self {
            EmailProvider::Resend => "resend",
            EmailProvider::SendGrid => "sendgrid",
            EmailProvider::Mailpit => "mailpit",
        }
    }

    /// Reads `email_provider`: empty means the default (`resend`), any other
    /// unknown name is a typed configuration error rather than a silent default.
    pub fn from_variable(raw: &str) -> Result<Self, ConfigError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(EmailProvider::default());
        }
        raw.parse()
    }

    /// The adapter implementing this provider.
    pub fn adapter(self) -> &'static dyn EmailAdapter {
        match self {
            EmailProvider::Resend => &resend::Resend,
            EmailProvider::SendGrid => &sendgrid::SendGrid,
            EmailProvider::Mailpit => &mailpit::Mailpit,
        }
    }
}

impl fmt::Display for EmailProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EmailProvider {
    type Err = ConfigError;

    /// Case-insensitive, since operators type these names by hand.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "resend" => Ok(EmailProvider::Resend),
            "sendgrid" => Ok(EmailProvider::SendGrid),
            "mailpit" => Ok(EmailProvider::Mailpit),
            _ => Err(ConfigError::UnknownEmailProvider(s.to_owned())),
        }
    }
}

/// The validated relay variables (`email_provider`, `email_relay_base`,
/// `email_relay_api_key`, `email_from`).
///
/// Validate once, then build many requests: a bad variable surfaces as one
/// clear error instead of a provider 4xx per reminder. `Debug` hides the key.
#[derive(Clone, PartialEq, Eq)]
pub struct RelayConfig {
    provider: EmailProvider,
    base_url: String,
    api_key: String,
    from: String,
}

impl fmt::Debug for RelayConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RelayConfig")
            .field("provider", &self.provider)
            .field("base_url", &self.base_url)
            .field(
                "api_key",
                &if self.api_key.is_empty() {
                    ""
                } else {
                    todo_contract::REDACTED
                },
            )
            .field("from", &self.from)
            .finish()
    }
}

impl RelayConfig {
    /// Validates the relay variables. The API key is required for Resend and
    /// SendGrid and optional for Mailpit; it must be header-safe because it is
    /// sent in `Authorization`.
    pub fn new(
        provider: EmailProvider,
        relay_base: &str,
        api_key: &str,
        from: &str,
    ) -> Result<Self, ConfigError> {
        let base_url =
            normalize_base_url(relay_base).ok_or_else(|| ConfigError::InvalidBaseUrl {
                variable: "email_relay_base",
                value: relay_base.to_owned(),
            })?;
        let api_key = api_key.trim();
        if !is_valid_header_value(api_key) {
            return Err(ConfigError::InvalidHeaderValue("email_relay_api_key"));
        }
        if api_key.is_empty() && provider != EmailProvider::Mailpit {
            return Err(ConfigError::Missing("email_relay_api_key"));
        }
        let from = from.trim();
        if from.is_empty() {
            return Err(ConfigError::Missing("email_from"));
        }
        Ok(RelayConfig {
            provider,
            base_url,
            api_key: api_key.to_owned(),
            from: from.to_owned(),
        })
    }

    /// `email_relay_base` without trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `email_relay_api_key` (secret: keep out of logs).
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// `email_from`, either `addr@host` or `Display Name <addr@host>`.
    pub fn from(&self) -> &str {
        &self.from
    }

    /// Builds the provider request for `message`.
    pub fn build_request(&self, message: &EmailMessage) -> Result<ProviderRequest, RequestError> {
        self.provider.adapter().build_request(self, message)
    }

    /// Classifies the provider's answer to that request.
    pub fn classify(&self, response: &ProviderResponse, now: Timestamp) -> Attempt {
        self.provider.adapter().classify(response, now)
    }
}

/// One e-mail to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailMessage {
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
    /// Sent as the provider's idempotency key where it has one (Resend) and
    /// as a tracking value elsewhere: the delivery id, i.e. the business key
    /// in canonical, header-safe form.
    pub idempotency_key: String,
}

impl EmailMessage {
    /// The reminder e-mail for the delivery identified by `key`.
    pub fn for_reminder(key: &BusinessKey, content: &ReminderContent) -> Self {
        EmailMessage {
            to: key.recipient().to_owned(),
            subject: content.subject.clone(),
            text: content.text.clone(),
            html: content.html.clone(),
            idempotency_key: key.delivery_id().to_string(),
        }
    }
}

/// One e-mail provider: request shape and response reading.
///
/// Implementations are stateless unit structs; configuration comes in through
/// [`RelayConfig`] so one adapter instance serves every request.
pub trait EmailAdapter: Sync {
    /// Builds the provider's send request.
    fn build_request(
        &self,
        relay: &RelayConfig,
        message: &EmailMessage,
    ) -> Result<ProviderRequest, RequestError>;

    /// Reads the provider's answer.
    fn classify(&self, response: &ProviderResponse, now: Timestamp) -> Attempt;
}

/// The status rules shared by all relays. `message` extracts the provider's
/// error text from a body; `is_transient_conflict` lets a provider flag a
/// specific 4xx as retryable (Resend's concurrent idempotent request).
pub(crate) fn classify_failure(
    response: &ProviderResponse,
    now: Timestamp,
    message: Option<String>,
    is_transient_conflict: bool,
) -> Attempt {
    let status = response.status().as_u16();
    let detail = message.unwrap_or_else(|| describe_unparsed_body(status, response.body()));
    if is_transient_status(status) || is_transient_conflict {
        Attempt::Transient(Transient::from_response(response, now, &detail))
    } else {
        Attempt::failed(ReasonCode::RejectedByProvider, status, &detail)
    }
}

/// Splits `Display Name <addr@host>` into name and address; a bare address
/// has no name. Providers that want structured senders (SendGrid, Mailpit)
/// use this; Resend takes the string as is.
pub(crate) fn split_mailbox(mailbox: &str) -> (Option<&str>, &str) {
    let mailbox = mailbox.trim();
    if let Some(open) = mailbox.rfind('<') {
        if let Some(inner) = mailbox
            .get(open + 1..)
            .and_then(|rest| rest.strip_suffix('>'))
        {
            let name = mailbox
                .get(..open)
                .unwrap_or("")
                .trim()
                .trim_matches('"')
                .trim();
            let name = if name.is_empty() { None } else { Some(name) };
            return (name, inner.trim());
        }
    }
    (None, mailbox)
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    pub fn message() -> EmailMessage {
        EmailMessage {
            to: "ada@example.com".into(),
            subject: "Reminder: Pay rent".into(),
            text: "Reminder: your task \"Pay rent\" is due soon.\n".into(),
            html: "<p>Reminder: <strong>Pay rent</strong></p>".into(),
            idempotency_key: "a532a81a-289a-5697-ace2-8b0b4e7cdb26".into(),
        }
    }

    pub fn now() -> Timestamp {
        "2026-12-01T08:30:00Z".parse().unwrap()
    }

    pub(crate) use crate::provider_http::test_response as response;

    pub fn json(req: &ProviderRequest) -> serde_json::Value {
        serde_json::from_slice(req.body()).unwrap()
    }

    /// A header of `req` as text.
    pub fn header<'a>(req: &'a ProviderRequest, name: &str) -> Option<&'a str> {
        crate::provider_http::header(req.headers(), name)
    }
}

#[cfg(test)]
mod tests;
