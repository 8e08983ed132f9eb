//! One fake e-mail relay serving the three provider APIs the notification
//! service can be configured for (`email_provider`), each validating its
//! request like the provider and answering in the provider's shapes:
//! - Resend `POST /emails` (resend.com/docs/api-reference/emails/send-email,
//!   /errors, /dashboard/emails/idempotency-keys);
//! - SendGrid v3 `POST /v3/mail/send` (twilio.com/docs/sendgrid/api-reference/
//!   mail-send, …/mail-send/errors);
//! - Mailpit `POST /api/v1/send` (mailpit.axllent.org API v1; the handler in
//!   axllent/mailpit `server/apiv1/send.go`).
//!
//! Accepted messages are recorded as [`Email`]s. Scripted failures
//! ([`RelayFailure`]) answer in the shape of the provider that was called.

mod mailpit;
mod resend;
mod sendgrid;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use serde_json::{json, Value};

use crate::fakes::server::{CannedResponse, FakeServer, RecordedRequest};

/// Which provider API a message came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    /// Resend, `POST /emails`.
    Resend,
    /// SendGrid v3, `POST /v3/mail/send`.
    SendGrid,
    /// Mailpit, `POST /api/v1/send`.
    Mailpit,
}

impl Provider {
    /// The send path of this provider's API.
    pub fn path(self) -> &'static str {
        match self {
            Provider::Resend => "/emails",
            Provider::SendGrid => "/v3/mail/send",
            Provider::Mailpit => "/api/v1/send",
        }
    }
}

/// One accepted message.
#[derive(Debug, Clone)]
pub struct Email {
    /// API it came through.
    pub provider: Provider,
    /// The id the fake answered (`id`, `X-Message-Id` or `ID`).
    pub message_id: String,
    /// Sender address (without display name).
    pub from: String,
    /// Sender display name, if one was given.
    pub from_name: Option<String>,
    /// Recipient addresses (without display names).
    pub to: Vec<String>,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub text: Option<String>,
    /// HTML body.
    pub html: Option<String>,
    /// `Idempotency-Key` header (Resend).
    pub idempotency_key: Option<String>,
    /// `traceparent` header.
    pub traceparent: Option<String>,
    /// The request body as received.
    pub request: Value,
}

/// A scripted provider failure, answered in the called provider's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelayFailure {
    /// 503 from the provider's edge (plain text).
    Unavailable,
    /// 429 with `Retry-After: secs` and the provider's rate-limit body.
    RateLimited {
        /// Seconds in `Retry-After`.
        retry_after_secs: u64,
    },
    /// 500 with an HTML error page (a proxy, not the API, answered).
    ServerErrorHtml,
    /// A permanent validation rejection: Resend 422 `validation_error`,
    /// SendGrid 400 `errors[]`, Mailpit 400 `{"Error"}`.
    Rejected {
        /// The provider's message.
        message: String,
    },
}

#[derive(Debug, Default)]
struct State {
    emails: Vec<Email>,
    failures: VecDeque<RelayFailure>,
    /// Resend idempotency keys: key -> (request body, answered id, when).
    idempotency: HashMap<String, (Value, String, Instant)>,
}

struct Config {
    api_key: String,
}

/// The fake relay.
#[derive(Debug)]
pub struct FakeEmailRelay {
    server: FakeServer,
    state: Arc<Mutex<State>>,
    api_key: String,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// API key the relay accepts when started with [`FakeEmailRelay::start`].
pub const DEFAULT_API_KEY: &str = "re_test_relay_key";

impl FakeEmailRelay {
    /// Starts a relay accepting [`DEFAULT_API_KEY`].
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with_api_key(DEFAULT_API_KEY).await
    }

    /// Starts a relay accepting this API key as `Authorization: Bearer <key>`
    /// (Resend, SendGrid; Mailpit needs none).
    pub async fn start_with_api_key(api_key: &str) -> anyhow::Result<Self> {
        let state = Arc::new(Mutex::new(State::default()));
        let config = Arc::new(Config {
            api_key: api_key.to_owned(),
        });
        let handler_state = state.clone();
        let server = FakeServer::start(
            "e-mail relay",
            Arc::new(move |req| answer(&config, &handler_state, req)),
        )
        .await?;
        Ok(Self {
            server,
            state,
            api_key: api_key.to_owned(),
        })
    }

    /// `http://127.0.0.1:PORT`, the value for `email_relay_base`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The API key this relay accepts.
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// Spin variables (docs/CONTRACT.md, "Configuration") that point the app at this relay
    /// through `provider`'s API: `email_provider`, `email_relay_base`,
    /// `email_relay_api_key`.
    pub fn spin_variables(&self, provider: Provider) -> Vec<(&'static str, String)> {
        let name = match provider {
            Provider::Resend => "resend",
            Provider::SendGrid => "sendgrid",
            Provider::Mailpit => "mailpit",
        };
        vec![
            ("email_provider", name.to_owned()),
            ("email_relay_base", self.base_url()),
            ("email_relay_api_key", self.api_key.clone()),
        ]
    }

    /// The underlying recording server (every request, generic faults, delay).
    pub fn server(&self) -> &FakeServer {
        &self.server
    }

    /// Accepted messages, in order (idempotent replays are not counted).
    pub fn emails(&self) -> Vec<Email> {
        lock(&self.state).emails.clone()
    }

    /// Accepted messages addressed to `address`.
    pub fn emails_to(&self, address: &str) -> Vec<Email> {
        lock(&self.state)
            .emails
            .iter()
            .filter(|e| e.to.iter().any(|t| t.eq_ignore_ascii_case(address)))
            .cloned()
            .collect()
    }

    /// Number of accepted messages.
    pub fn email_count(&self) -> usize {
        lock(&self.state).emails.len()
    }

    /// Every send request received (accepted, replayed, rejected or failed).
    pub fn send_attempts(&self) -> Vec<RecordedRequest> {
        self.server
            .requests()
            .into_iter()
            .filter(|r| provider_of(&r.path).is_some())
            .collect()
    }

    /// Queues `failure` for the next `n` send requests.
    pub fn fail_next(&self, n: usize, failure: RelayFailure) {
        lock(&self.state)
            .failures
            .extend(std::iter::repeat_n(failure, n));
    }

    /// Next `n` sends: 503.
    pub fn fail_next_unavailable(&self, n: usize) {
        self.fail_next(n, RelayFailure::Unavailable);
    }

    /// Next `n` sends: 429 with `Retry-After: retry_after_secs`.
    pub fn fail_next_rate_limited(&self, n: usize, retry_after_secs: u64) {
        self.fail_next(n, RelayFailure::RateLimited { retry_after_secs });
    }

    /// Next `n` sends: 500 HTML page.
    pub fn fail_next_server_error_html(&self, n: usize) {
        self.fail_next(n, RelayFailure::ServerErrorHtml);
    }

    /// Next `n` sends: permanent validation rejection with `message`.
    pub fn reject_next(&self, n: usize, message: &str) {
        self.fail_next(
            n,
            RelayFailure::Rejected {
                message: message.to_owned(),
            },
        );
    }

    /// Forgets Resend idempotency keys, as if their 24-hour window had passed.
    pub fn expire_idempotency_keys(&self) {
        lock(&self.state).idempotency.clear();
    }
}

fn provider_of(path: &str) -> Option<Provider> {
    [Provider::Resend, Provider::SendGrid, Provider::Mailpit]
        .into_iter()
        .find(|p| p.path() == path)
}

fn answer(config: &Config, state: &Mutex<State>, req: &RecordedRequest) -> CannedResponse {
    let Some(provider) = provider_of(&req.path) else {
        return CannedResponse::json(
            404,
            &json!({"statusCode": 404, "name": "not_found", "message": "The requested endpoint does not exist."}),
        );
    };
    if req.method != http::Method::POST {
        return CannedResponse::json(
            405,
            &json!({"statusCode": 405, "name": "method_not_allowed", "message": "Method is not allowed for the requested path."}),
        );
    }
    let mut state = lock(state);
    if let Some(failure) = state.failures.pop_front() {
        return failure_response(provider, &failure);
    }
    match provider {
        Provider::Resend => resend::handle(&config.api_key, &mut state, req),
        Provider::SendGrid => sendgrid::handle(&config.api_key, &mut state, req),
        Provider::Mailpit => mailpit::handle(&mut state, req),
    }
}

fn failure_response(provider: Provider, failure: &RelayFailure) -> CannedResponse {
    match failure {
        RelayFailure::Unavailable => CannedResponse::text(503, "Service Unavailable"),
        RelayFailure::ServerErrorHtml => CannedResponse::html(
            500,
            "<html><head><title>500 Internal Server Error</title></head><body>\
             <center><h1>500 Internal Server Error</h1></center><hr><center>nginx</center>\
             </body></html>",
        ),
        RelayFailure::RateLimited { retry_after_secs } => {
            let secs = retry_after_secs.to_string();
            let response = match provider {
                Provider::Resend => CannedResponse::json(
                    429,
                    &json!({
                        "statusCode": 429,
                        "name": "rate_limit_exceeded",
                        "message": "Too many requests. You can only make 2 requests per second. See rate limit response headers for more information. Or contact support to increase rate limit.",
                    }),
                )
                .with_header("ratelimit-limit", "2")
                .with_header("ratelimit-remaining", "0")
                .with_header("ratelimit-reset", &secs),
                Provider::SendGrid => CannedResponse::json(
                    429,
                    &json!({"errors": [{"field": null, "message": "too many requests", "help": null}]}),
                )
                .with_header("x-ratelimit-limit", "600")
                .with_header("x-ratelimit-remaining", "0"),
                Provider::Mailpit => CannedResponse::text(429, "Too Many Requests"),
            };
            response.with_header("retry-after", &secs)
        }
        RelayFailure::Rejected { message } => match provider {
            Provider::Resend => CannedResponse::json(
                422,
                &json!({"statusCode": 422, "name": "validation_error", "message": message}),
            ),
            Provider::SendGrid => sendgrid::errors(400, &[sendgrid::error(message, None, None)]),
            Provider::Mailpit => mailpit::error(message),
        },
    }
}

/// `local@domain` with a dotted domain, nothing else (no display name).
fn is_plain_address(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !address
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '<' | '>' | ',' | ';'))
}

/// Splits `Name <addr>` or `addr` into (address, name); `None` if malformed.
fn parse_mailbox(value: &str) -> Option<(String, Option<String>)> {
    let value = value.trim();
    if let Some(open) = value.rfind('<') {
        let addr = value[open + 1..].strip_suffix('>')?.trim();
        let name = value[..open].trim().trim_matches('"').trim();
        is_plain_address(addr)
            .then(|| (addr.to_owned(), (!name.is_empty()).then(|| name.to_owned())))
    } else {
        is_plain_address(value).then(|| (value.to_owned(), None))
    }
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
