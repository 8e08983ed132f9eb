//! Google's OAuth 2.0 token endpoint for service accounts, `POST /token` with
//! `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>`
//! (developers.google.com/identity/protocols/oauth2/service-account).
//!
//! The assertion must be RS256-signed by the account's key; `iss` is the
//! account's `client_email`, `aud` the token endpoint URL, `scope` a
//! space-separated list of scopes, `exp` at most one hour after `iat` and not
//! past. Failures answer 400 `{"error", "error_description"}` as Google does
//! (`invalid_grant` "Invalid JWT Signature.", "Invalid JWT: Token must be a
//! short-lived token (60 minutes) and in a reasonable timeframe…",
//! `invalid_scope`, `unsupported_grant_type`, `invalid_request`). Success is
//! 200 `{"access_token", "expires_in": 3599, "token_type": "Bearer"}`.

use std::time::{Duration, Instant};

use base64ct::{Base64UrlUnpadded, Encoding as _};
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::sha2::Sha256;
use rsa::signature::Verifier as _;
use rsa::PublicKey;
use serde_json::{json, Value};

use super::keys::FCM_SCOPE;
use super::{AccessToken, State};
use crate::fakes::server::{CannedResponse, RecordedRequest};

/// The grant type of the JWT bearer flow.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Seconds an access token lives, as Google answers.
pub const EXPIRES_IN: u64 = 3599;

/// Clock skew tolerated on `iat` (Google allows a few minutes).
const SKEW_SECS: i64 = 300;

const TIMEFRAME: &str = "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.";

/// Scopes this fake knows; an unknown one is `invalid_scope` like Google.
const KNOWN_SCOPES: [&str; 5] = [
    FCM_SCOPE,
    "https://www.googleapis.com/auth/cloud-platform",
    "https://www.googleapis.com/auth/cloud-platform.read-only",
    "https://www.googleapis.com/auth/userinfo.email",
    "https://www.googleapis.com/auth/datastore",
];

/// What the token endpoint expects of an assertion.
#[derive(Debug, Clone)]
pub struct Expectations<'a> {
    /// The account's `client_email`.
    pub client_email: &'a str,
    /// The account's `private_key_id`.
    pub private_key_id: &'a str,
    /// Its public key.
    pub public_key: &'a PublicKey,
    /// This endpoint's URL.
    pub token_url: &'a str,
}

/// A rejection, as Google's `{"error", "error_description"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenError {
    /// `error`.
    pub error: &'static str,
    /// `error_description`.
    pub description: String,
}

fn reject(error: &'static str, description: impl Into<String>) -> TokenError {
    TokenError {
        error,
        description: description.into(),
    }
}

/// Verifies a JWT bearer assertion at Unix time `now`; returns its scopes.
pub fn verify_assertion(
    jwt: &str,
    expected: &Expectations<'_>,
    now: i64,
) -> Result<Vec<String>, TokenError> {
    let malformed = || reject("invalid_grant", "Invalid JWT: Malformed.");
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header_b64, claims_b64, signature_b64] = parts[..] else {
        return Err(malformed());
    };
    let decode_json = |part: &str| -> Option<Value> {
        let bytes = Base64UrlUnpadded::decode_vec(part).ok()?;
        serde_json::from_slice(&bytes).ok()
    };
    let header = decode_json(header_b64).ok_or_else(malformed)?;
    let claims = decode_json(claims_b64).ok_or_else(malformed)?;
    let signature = Base64UrlUnpadded::decode_vec(signature_b64).map_err(|_| malformed())?;

    // Google finds the account by `iss`, then its key by `kid`.
    if claims["iss"].as_str() != Some(expected.client_email) {
        return Err(reject("invalid_grant", "Invalid grant: account not found"));
    }
    let bad_signature = || reject("invalid_grant", "Invalid JWT Signature.");
    if header["alg"].as_str() != Some("RS256") {
        return Err(bad_signature());
    }
    if let Some(kid) = header.get("kid") {
        if kid.as_str() != Some(expected.private_key_id) {
            return Err(bad_signature());
        }
    }
    let signature = Signature::try_from(signature.as_slice()).map_err(|_| bad_signature())?;
    let signing_input = format!("{header_b64}.{claims_b64}");
    VerifyingKey::<Sha256>::new(expected.public_key.clone())
        .verify(signing_input.as_bytes(), &signature)
        .map_err(|_| bad_signature())?;

    if claims["aud"].as_str() != Some(expected.token_url) {
        return Err(reject(
            "invalid_grant",
            format!(
                "Invalid JWT: Failed audience check. The right audience is {}",
                expected.token_url
            ),
        ));
    }
    let (Some(iat), Some(exp)) = (claims["iat"].as_i64(), claims["exp"].as_i64()) else {
        return Err(reject("invalid_grant", TIMEFRAME));
    };
    if exp <= iat || exp - iat > 3600 || exp <= now || iat > now + SKEW_SECS {
        return Err(reject("invalid_grant", TIMEFRAME));
    }
    let scopes: Vec<String> = claims["scope"]
        .as_str()
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if scopes.is_empty() || scopes.iter().any(|s| !KNOWN_SCOPES.contains(&s.as_str())) {
        return Err(reject(
            "invalid_scope",
            "Invalid OAuth scope or ID token audience provided.",
        ));
    }
    Ok(scopes)
}

fn token_error(e: &TokenError) -> CannedResponse {
    CannedResponse::json(
        400,
        &json!({"error": e.error, "error_description": e.description}),
    )
    .with_header(
        "cache-control",
        "no-cache, no-store, max-age=0, must-revalidate",
    )
}

/// Form (or JSON) parameters of a token request.
fn params(req: &RecordedRequest) -> Vec<(String, String)> {
    let content_type = req.header("content-type").unwrap_or_default();
    if content_type.starts_with("application/json") {
        let Some(Value::Object(map)) = req.json() else {
            return Vec::new();
        };
        return map
            .into_iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned())))
            .collect();
    }
    url::form_urlencoded::parse(&req.body)
        .into_owned()
        .collect()
}

pub(super) fn handle(state: &mut State, req: &RecordedRequest) -> CannedResponse {
    if req.method != http::Method::POST {
        return CannedResponse::text(405, "Method Not Allowed");
    }
    let params = params(req);
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let Some(grant_type) = param("grant_type") else {
        return token_error(&reject(
            "invalid_request",
            "Missing required parameter: grant_type",
        ));
    };
    if grant_type != JWT_BEARER {
        return token_error(&reject(
            "unsupported_grant_type",
            format!("Invalid grant_type: {grant_type}"),
        ));
    }
    let Some(assertion) = param("assertion") else {
        return token_error(&reject(
            "invalid_request",
            "Missing required parameter: assertion",
        ));
    };
    let expected = Expectations {
        client_email: &state.client_email,
        private_key_id: &state.private_key_id,
        public_key: &state.public_key,
        token_url: &state.token_url,
    };
    let scopes = match verify_assertion(assertion, &expected, chrono::Utc::now().timestamp()) {
        Ok(scopes) => scopes,
        Err(e) => return token_error(&e),
    };
    let token = format!("ya29.c.{}", uuid::Uuid::new_v4().simple());
    state.access_tokens.insert(
        token.clone(),
        AccessToken {
            scopes,
            expires_at: Instant::now() + Duration::from_secs(EXPIRES_IN),
        },
    );
    state.tokens_issued += 1;
    CannedResponse::json(
        200,
        &json!({"access_token": token, "expires_in": EXPIRES_IN, "token_type": "Bearer"}),
    )
    .with_header(
        "cache-control",
        "no-cache, no-store, max-age=0, must-revalidate",
    )
}
