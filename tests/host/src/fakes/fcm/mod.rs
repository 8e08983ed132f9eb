//! Firebase Cloud Messaging HTTP v1 and Google's OAuth2 token endpoint, on
//! one server (point both `fcm_api_base` and `fcm_oauth_base` at it):
//! - `POST /token`: the JWT bearer grant for service accounts ([`oauth`]);
//! - `POST /v1/projects/{project}/messages:send`: requires a Bearer access
//!   token minted by that endpoint and still valid, validates the message
//!   and answers like FCM ([`send`]).
//!
//! Devices are registered with the fake; a token it does not know is
//! `UNREGISTERED` (404), as FCM answers for a stale token.

pub mod keys;
pub mod oauth;
pub mod send;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use rsa::PublicKey;
use serde_json::Value;

use crate::fakes::server::{CannedResponse, FakeServer, Fault, RecordedRequest};
pub use keys::{TestServiceAccount, FCM_SCOPE};

/// Scopes that allow `messages:send`.
const FCM_SEND_SCOPES: [&str; 2] = [FCM_SCOPE, "https://www.googleapis.com/auth/cloud-platform"];

/// Path prefix of the FCM API (as opposed to `/token`).
const SEND_PREFIX: &str = "/v1/";

/// One message FCM accepted.
#[derive(Debug, Clone)]
pub struct Push {
    /// `projects/{project}/messages/{id}` as answered.
    pub name: String,
    /// Device token addressed, if any.
    pub token: Option<String>,
    /// Topic addressed, if any (without `/topics/`).
    pub topic: Option<String>,
    /// Condition addressed, if any.
    pub condition: Option<String>,
    /// The `message` object as received.
    pub message: Value,
    /// Access token the request carried.
    pub access_token: String,
    /// `traceparent` header.
    pub traceparent: Option<String>,
}

impl Push {
    /// A value of `message.data`.
    pub fn data(&self, key: &str) -> Option<&str> {
        self.message["data"][key].as_str()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeviceOwner {
    ThisSender,
    OtherSender,
}

#[derive(Debug, Clone)]
struct AccessToken {
    scopes: Vec<String>,
    expires_at: Instant,
}

#[derive(Debug)]
struct State {
    project_id: String,
    client_email: String,
    private_key_id: String,
    public_key: PublicKey,
    token_url: String,
    devices: HashMap<String, DeviceOwner>,
    access_tokens: HashMap<String, AccessToken>,
    tokens_issued: usize,
    next_message: u64,
    pushes: Vec<Push>,
}

/// The fake FCM + token endpoint.
#[derive(Debug)]
pub struct FakeFcm {
    server: FakeServer,
    state: Arc<Mutex<State>>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

impl FakeFcm {
    /// Starts a fake serving the project and account of `account`; its token
    /// endpoint verifies assertions with the account's public key.
    pub async fn start(account: &TestServiceAccount) -> anyhow::Result<Self> {
        let state = Arc::new(Mutex::new(State {
            project_id: account.project_id.clone(),
            client_email: account.client_email.clone(),
            private_key_id: account.private_key_id.clone(),
            public_key: account.public_key(),
            token_url: String::new(),
            devices: HashMap::new(),
            access_tokens: HashMap::new(),
            tokens_issued: 0,
            next_message: 0,
            pushes: Vec::new(),
        }));
        let handler_state = state.clone();
        let server =
            FakeServer::start("fcm", Arc::new(move |req| answer(&handler_state, req))).await?;
        lock(&state).token_url = format!("{}/token", server.base_url());
        Ok(Self { server, state })
    }

    /// `http://127.0.0.1:PORT`: the value for both `fcm_api_base` and
    /// `fcm_oauth_base`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// `{base}/token`: the service account's `token_uri` and the JWT `aud`.
    pub fn token_url(&self) -> String {
        format!("{}/token", self.base_url())
    }

    /// Spin variables (docs/CONTRACT.md, "Configuration") that point the app at this fake
    /// as `account`: `fcm_project_id`, `fcm_service_account_json` (with
    /// `token_uri` = [`Self::token_url`]), `fcm_api_base`, `fcm_oauth_base`.
    pub fn spin_variables(&self, account: &TestServiceAccount) -> Vec<(&'static str, String)> {
        vec![
            ("fcm_project_id", account.project_id.clone()),
            ("fcm_service_account_json", account.json(&self.token_url())),
            ("fcm_api_base", self.base_url()),
            ("fcm_oauth_base", self.base_url()),
        ]
    }

    /// The underlying recording server.
    pub fn server(&self) -> &FakeServer {
        &self.server
    }

    /// Registers a device token of this project's app.
    pub fn register_device(&self, token: &str) {
        lock(&self.state)
            .devices
            .insert(token.to_owned(), DeviceOwner::ThisSender);
    }

    /// Registers a token that belongs to another sender (`SENDER_ID_MISMATCH`).
    pub fn register_foreign_device(&self, token: &str) {
        lock(&self.state)
            .devices
            .insert(token.to_owned(), DeviceOwner::OtherSender);
    }

    /// Forgets a token: the app was uninstalled, sends get `UNREGISTERED`.
    pub fn unregister_device(&self, token: &str) {
        lock(&self.state).devices.remove(token);
    }

    /// Messages accepted, in order.
    pub fn pushes(&self) -> Vec<Push> {
        lock(&self.state).pushes.clone()
    }

    /// Messages accepted for one device token.
    pub fn pushes_to(&self, token: &str) -> Vec<Push> {
        lock(&self.state)
            .pushes
            .iter()
            .filter(|p| p.token.as_deref() == Some(token))
            .cloned()
            .collect()
    }

    /// Every send request received (accepted or not).
    pub fn send_attempts(&self) -> Vec<RecordedRequest> {
        self.server.requests_to(SEND_PREFIX)
    }

    /// Requests to `/token` so far (including rejected and failed ones).
    pub fn token_requests(&self) -> usize {
        self.server.requests_to("/token").len()
    }

    /// Every request to `/token` received, with its headers.
    pub fn token_attempts(&self) -> Vec<RecordedRequest> {
        self.server.requests_to("/token")
    }

    /// Access tokens minted so far.
    pub fn tokens_issued(&self) -> usize {
        lock(&self.state).tokens_issued
    }

    /// Expires every access token minted so far: the next send with one of
    /// them gets 401 `UNAUTHENTICATED`, which must make the app mint a new one.
    pub fn expire_all_tokens(&self) {
        let now = Instant::now();
        for token in lock(&self.state).access_tokens.values_mut() {
            token.expires_at = now;
        }
    }

    fn fail_sends(&self, n: usize, response: CannedResponse) {
        self.server
            .fail_next_on(SEND_PREFIX, n, Fault::Respond(response));
    }

    /// Next `n` sends: 503 `UNAVAILABLE`.
    pub fn fail_next_unavailable(&self, n: usize) {
        self.fail_sends(
            n,
            send::google_error(
                503,
                "UNAVAILABLE",
                "The service is currently unavailable.",
                vec![send::fcm_detail("UNAVAILABLE")],
            ),
        );
    }

    /// Next `n` sends: 429 `RESOURCE_EXHAUSTED` / `QUOTA_EXCEEDED` with
    /// `Retry-After: retry_after_secs`.
    pub fn fail_next_quota_exceeded(&self, n: usize, retry_after_secs: u64) {
        self.fail_sends(
            n,
            send::google_error(
                429,
                "RESOURCE_EXHAUSTED",
                "Quota exceeded for quota metric 'Send requests' and limit 'Send requests per minute' of service 'fcm.googleapis.com'.",
                vec![send::fcm_detail("QUOTA_EXCEEDED")],
            )
            .with_header("retry-after", &retry_after_secs.to_string()),
        );
    }

    /// Next `n` sends: 500 `INTERNAL`.
    pub fn fail_next_internal(&self, n: usize) {
        self.fail_sends(
            n,
            send::google_error(
                500,
                "INTERNAL",
                "Internal error encountered.",
                vec![send::fcm_detail("INTERNAL")],
            ),
        );
    }

    /// Next `n` sends: 502 with Google's HTML error page.
    pub fn fail_next_bad_gateway_html(&self, n: usize) {
        self.fail_sends(
            n,
            CannedResponse::html(
                502,
                "<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n  <title>Error 502 (Server Error)!!1</title>\n  \
                 <p><b>502.</b> <ins>That’s an error.</ins>\n  <p>The server encountered a temporary error and could not complete your request.<p>Please try again in 30 seconds.  <ins>That’s all we know.</ins>\n",
            ),
        );
    }

    /// Next `n` sends: 403 `PERMISSION_DENIED` / `SENDER_ID_MISMATCH`.
    pub fn fail_next_sender_id_mismatch(&self, n: usize) {
        self.fail_sends(
            n,
            send::google_error(
                403,
                "PERMISSION_DENIED",
                "SenderId mismatch",
                vec![send::fcm_detail("SENDER_ID_MISMATCH")],
            ),
        );
    }

    /// Next `n` sends: 400 `INVALID_ARGUMENT` with `message` (FCM's
    /// documented error shape), e.g. one quoting the request's token.
    pub fn fail_next_invalid_argument(&self, n: usize, message: &str) {
        self.fail_sends(
            n,
            send::google_error(
                400,
                "INVALID_ARGUMENT",
                message,
                vec![send::fcm_detail("INVALID_ARGUMENT")],
            ),
        );
    }

    /// Next `n` sends: 401 `UNAUTHENTICATED`, whatever the token.
    pub fn fail_next_unauthenticated(&self, n: usize) {
        self.fail_sends(n, send::unauthenticated(Some("ACCESS_TOKEN_EXPIRED")));
    }

    /// Applies `fault` to the next `n` token requests.
    pub fn fail_next_token_requests(&self, n: usize, fault: Fault) {
        self.server.fail_next_on("/token", n, fault);
    }
}

fn answer(state: &Mutex<State>, req: &RecordedRequest) -> CannedResponse {
    let mut state = lock(state);
    if req.path == "/token" {
        return oauth::handle(&mut state, req);
    }
    let project = req
        .path
        .strip_prefix("/v1/projects/")
        .and_then(|rest| rest.strip_suffix("/messages:send"))
        .filter(|p| !p.is_empty() && !p.contains('/'));
    match project {
        Some(project) => {
            let project = project.to_owned();
            send::handle(&mut state, &project, req)
        }
        None => send::google_error(
            404,
            "NOT_FOUND",
            &format!(
                "The requested URL {} was not found on this server.",
                req.path
            ),
            Vec::new(),
        ),
    }
}
