//! OAuth2 for FCM from a Google service-account key (RFC 7523 JWT bearer).
//!
//! Flow: [`ServiceAccount::from_json`] reads `fcm_service_account_json`;
//! [`build_token_request`] signs an RS256 JWT (`iss` = client_email, `scope` =
//! firebase.messaging, `aud` = `{fcm_oauth_base}/token`, `iat`, `exp` = iat +
//! 3600) and wraps it in the form POST to the token endpoint;
//! [`parse_token_response`] turns `{access_token, expires_in, token_type}` into
//! an [`AccessToken`] that the caller caches (in Postgres) until
//! [`AccessToken::is_fresh`] says otherwise. `now` is always a parameter.
//!
//! # Crate choice and RUSTSEC-2023-0071 (Marvin)
//!
//! RS256 needs RSA PKCS#1 v1.5 signing. `ring` and `aws-lc-rs` need a C
//! toolchain (clang) for wasm targets, which this build does not have, so the
//! pure-Rust RustCrypto `rsa` crate is used. RUSTSEC-2023-0071 reports that
//! `rsa`'s private-key operation leaks timing, which a *network* attacker who
//! can submit many chosen inputs and time each private-key operation precisely
//! could use to decrypt/sign or to recover the key. The advisory lists no
//! patched version (as of the advisory-db snapshot of August 2026, even for
//! 0.10). Our assessment for this use:
//!
//! - We only *sign*, and the signed message is a JWT we compose ourselves
//!   (fixed issuer, scope and audience plus the current time). An attacker
//!   cannot choose the input of the private-key operation, which the attack
//!   needs.
//! - Signing happens at most about once an hour (the access token is cached
//!   until 5 minutes before expiry), not once per attacker request, and its
//!   duration is buried in a reminder-delivery request that also does SQL and
//!   outbound HTTP, so there is no precise, repeatable timing oracle.
//! - We use `rsa` 0.10, which moved to `crypto-bigint`'s constant-time
//!   arithmetic (the upstream remedy for this advisory), and sign with
//!   `pkcs1v15_sign_with_rng` and an explicit OS RNG (`getrandom::SysRng`,
//!   `wasi:random` on wasm32-wasip2), so every private-key operation is
//!   blinded with fresh randomness whatever the crate's features; a test
//!   proves the RNG is consulted. Blinding does not change the signature,
//!   so the output stays deterministic.
//!
//! Residual risk is therefore negligible for this server-side component;
//! keep `deny.toml` ignoring RUSTSEC-2023-0071 only with this reasoning,
//! and revisit if the key is ever used to decrypt or to sign caller data.

use std::fmt;

use base64ct::{Base64UrlUnpadded, Encoding};
use jiff::{SignedDuration, Timestamp};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::sha2::Sha256;
use rsa::PrivateKey;
use serde::Serialize;
use serde_json::Value;

use super::FcmConfig;
use crate::policy::ReasonCode;
use crate::policy::{Attempt, Transient};
use crate::provider_http::{
    describe_unparsed_body, form_urlencode, is_transient_status, is_valid_header_value, post,
    truncate_detail, ProviderRequest, ProviderResponse, RequestError,
};

/// OAuth scope that allows sending FCM messages.
pub const FCM_SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";

/// The RFC 7523 grant type for exchanging a signed JWT.
pub const JWT_BEARER_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Lifetime requested for the JWT assertion (`exp - iat`); Google's maximum.
pub const ASSERTION_LIFETIME: SignedDuration = SignedDuration::from_secs(3600);

/// A cached token is treated as expired this long before its real expiry, so
/// a request started with it cannot be refused halfway for expiry.
pub const REFRESH_MARGIN: SignedDuration = SignedDuration::from_secs(5 * 60);

/// Upper bound on `expires_in` we believe, so a broken answer cannot make us
/// cache a token for days.
const MAX_EXPIRES_IN_SECS: i64 = 24 * 60 * 60;

/// Problems with the service-account key. Messages never contain key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    /// `fcm_service_account_json` is not a JSON object.
    #[error("fcm_service_account_json is not a JSON object")]
    InvalidJson,
    /// A required field is missing, empty or not a string.
    #[error("fcm_service_account_json has no usable \"{0}\"")]
    MissingField(&'static str),
    /// A field that goes into the JWT header or claims has control characters.
    #[error("fcm_service_account_json field \"{0}\" contains control characters")]
    InvalidField(&'static str),
    /// `private_key` is not an RSA key in PKCS#8 (or PKCS#1) PEM.
    #[error("fcm_service_account_json private_key is not an RSA PEM key")]
    InvalidPrivateKey,
    /// The RSA signature could not be computed (e.g. no OS randomness for blinding).
    #[error("signing the OAuth assertion failed: {0}")]
    Signing(String),
    /// The token endpoint's URL could not go into a request.
    #[error(transparent)]
    Request(#[from] RequestError),
}

/// A parsed Google service-account key.
///
/// `Debug` shows the identity but never the private key.
#[derive(Clone)]
pub struct ServiceAccount {
    client_email: String,
    private_key_id: String,
    key: PrivateKey,
}

impl fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("client_email", &self.client_email)
            .field("private_key_id", &self.private_key_id)
            .field("key", &todo_contract::REDACTED)
            .finish()
    }
}

fn string_field<'a>(root: &'a Value, name: &'static str) -> Result<&'a str, OAuthError> {
    root.get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or(OAuthError::MissingField(name))
}

impl ServiceAccount {
    /// Parses the key file's JSON (`client_email`, `private_key`,
    /// `private_key_id`; its `token_uri` is ignored, because the token
    /// endpoint comes from `fcm_oauth_base` so tests can fake it).
    ///
    /// Accepts a PEM whose newlines arrived as literal `\n` (a common result
    /// of pasting the key into an environment variable).
    pub fn from_json(json: &str) -> Result<Self, OAuthError> {
        let root: Value = serde_json::from_str(json).map_err(|_| OAuthError::InvalidJson)?;
        if !root.is_object() {
            return Err(OAuthError::InvalidJson);
        }
        let client_email = string_field(&root, "client_email")?;
        let private_key_id = string_field(&root, "private_key_id")?;
        let pem = string_field(&root, "private_key")?;
        for (name, value) in [
            ("client_email", client_email),
            ("private_key_id", private_key_id),
        ] {
            if value.chars().any(char::is_control) {
                return Err(OAuthError::InvalidField(name));
            }
        }
        let pem = if !pem.contains('\n') && pem.contains("\\n") {
            pem.replace("\\n", "\n")
        } else {
            pem.to_owned()
        };
        let key = PrivateKey::from_pkcs8_pem(&pem)
            .or_else(|_| PrivateKey::from_pkcs1_pem(&pem))
            .map_err(|_| OAuthError::InvalidPrivateKey)?;
        Ok(ServiceAccount {
            client_email: client_email.to_owned(),
            private_key_id: private_key_id.to_owned(),
            key,
        })
    }
}

#[derive(Serialize)]
struct JwtHeader<'a> {
    alg: &'static str,
    typ: &'static str,
    kid: &'a str,
}

#[derive(Serialize)]
struct JwtClaims<'a> {
    iss: &'a str,
    scope: &'static str,
    aud: &'a str,
    iat: i64,
    exp: i64,
}

/// Signs the RS256 JWT assertion for `audience` (the token endpoint) at `now`,
/// blinding the private-key operation with the OS RNG (`wasi:random`).
pub fn build_jwt(
    account: &ServiceAccount,
    audience: &str,
    now: Timestamp,
) -> Result<String, OAuthError> {
    build_jwt_with_rng(account, audience, now, &mut getrandom::SysRng)
}

/// [`build_jwt`] with the blinding RNG given: the RNG is passed explicitly
/// so blinding never depends on a crate feature; a failing RNG fails the
/// signature rather than signing unblinded.
fn build_jwt_with_rng<R: rsa::rand_core::TryCryptoRng + ?Sized>(
    account: &ServiceAccount,
    audience: &str,
    now: Timestamp,
    rng: &mut R,
) -> Result<String, OAuthError> {
    let iat = now.as_second();
    let header = JwtHeader {
        alg: "RS256",
        typ: "JWT",
        kid: &account.private_key_id,
    };
    let claims = JwtClaims {
        iss: &account.client_email,
        scope: FCM_SCOPE,
        aud: audience,
        iat,
        exp: iat.saturating_add(ASSERTION_LIFETIME.as_secs()),
    };
    let header = serde_json::to_vec(&header).map_err(|e| OAuthError::Signing(e.to_string()))?;
    let claims = serde_json::to_vec(&claims).map_err(|e| OAuthError::Signing(e.to_string()))?;
    let signing_input = format!(
        "{}.{}",
        Base64UrlUnpadded::encode_string(&header),
        Base64UrlUnpadded::encode_string(&claims)
    );
    let signature = account
        .key
        .pkcs1v15_sign_with_rng::<Sha256, _>(rng, signing_input.as_bytes())
        .map_err(|e| OAuthError::Signing(e.to_string()))?;
    Ok(format!(
        "{signing_input}.{}",
        Base64UrlUnpadded::encode_string(&signature)
    ))
}

/// Builds `POST {fcm_oauth_base}/token` with the signed assertion, as
/// `application/x-www-form-urlencoded`.
pub fn build_token_request(
    config: &FcmConfig,
    account: &ServiceAccount,
    now: Timestamp,
) -> Result<ProviderRequest, OAuthError> {
    let endpoint = config.token_endpoint();
    let assertion = build_jwt(account, &endpoint, now)?;
    let body = form_urlencode(&[
        ("grant_type", JWT_BEARER_GRANT_TYPE),
        ("assertion", &assertion),
    ]);
    Ok(post(
        &endpoint,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        body.into_bytes(),
    )?)
}

/// An OAuth2 access token and when it stops working.
///
/// `Debug` hides the token itself.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken {
    token: String,
    expires_at: Timestamp,
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &todo_contract::REDACTED)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl AccessToken {
    /// Rebuilds a token, e.g. from the Postgres cache. Refuses values that
    /// cannot go into an `Authorization` header.
    pub fn new(token: &str, expires_at: Timestamp) -> Result<Self, Transient> {
        let token = token.trim();
        if token.is_empty() || !is_valid_header_value(token) {
            return Err(Transient::transport(
                "access token is empty or not header-safe",
            ));
        }
        Ok(AccessToken {
            token: token.to_owned(),
            expires_at,
        })
    }

    /// The bearer token (secret: keep out of logs).
    pub fn secret(&self) -> &str {
        &self.token
    }

    /// When Google stops accepting it.
    pub fn expires_at(&self) -> Timestamp {
        self.expires_at
    }

    /// `true` while the token is valid for at least [`REFRESH_MARGIN`] more:
    /// the caller reuses a fresh token and mints a new one otherwise.
    pub fn is_fresh(&self, now: Timestamp) -> bool {
        match now.checked_add(REFRESH_MARGIN) {
            Ok(threshold) => threshold < self.expires_at,
            Err(_) => false,
        }
    }
}

/// Reads the token endpoint's answer received at `now`. No token is a
/// transient attempt (429/5xx, HTML pages, a 2xx we could not read: retry on
/// the next delivery) or a `provider_auth_failed` failure (the endpoint
/// refused our assertion: the service account is wrong, retrying will not
/// help).
pub fn parse_token_response(
    response: &ProviderResponse,
    now: Timestamp,
) -> Result<AccessToken, Attempt> {
    let parsed: Option<Value> = serde_json::from_slice(response.body()).ok();
    let status = response.status().as_u16();
    if !response.status().is_success() {
        // RFC 6749 §5.2: {"error": "invalid_grant", "error_description": "..."}.
        let detail = parsed
            .as_ref()
            .and_then(|v| {
                let error = v.get("error").and_then(Value::as_str)?;
                Some(match v.get("error_description").and_then(Value::as_str) {
                    Some(desc) => format!("{error}: {desc}"),
                    None => error.to_owned(),
                })
            })
            .unwrap_or_else(|| describe_unparsed_body(status, response.body()));
        return Err(if is_transient_status(status) {
            Attempt::Transient(Transient::from_response(response, now, &detail))
        } else {
            Attempt::failed(ReasonCode::ProviderAuthFailed, status, &detail)
        });
    }
    let unreadable = |what: &str| {
        Attempt::Transient(Transient::from_response(
            response,
            now,
            &truncate_detail(&format!("token response {what}")),
        ))
    };
    let body = parsed.ok_or_else(|| unreadable("is not JSON"))?;
    let token = body
        .get("access_token")
        .and_then(Value::as_str)
        .ok_or_else(|| unreadable("has no access_token"))?;
    if let Some(kind) = body.get("token_type").and_then(Value::as_str) {
        if !kind.eq_ignore_ascii_case("bearer") {
            return Err(unreadable("has a token_type other than Bearer"));
        }
    }
    let expires_in = match body.get("expires_in") {
        None => ASSERTION_LIFETIME.as_secs(),
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .ok_or_else(|| unreadable("has an unreadable expires_in"))?,
    };
    let expires_in = expires_in.clamp(0, MAX_EXPIRES_IN_SECS);
    let expires_at = now
        .checked_add(SignedDuration::from_secs(expires_in))
        .map_err(|_| unreadable("expires out of range"))?;
    AccessToken::new(token, expires_at).map_err(Attempt::Transient)
}

#[cfg(test)]
pub(crate) mod tests;
