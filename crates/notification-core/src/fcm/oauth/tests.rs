//! Tests of the OAuth module, with an RSA key pair generated per test run.

use std::sync::OnceLock;
use std::time::Duration;

use base64ct::{Base64UrlUnpadded, Encoding};
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use rsa::sha2::Sha256;
use rsa::{PrivateKey, PublicKey};

use super::*;

/// One 2048-bit key pair for the whole test binary: generating is the slow part.
fn key_pair() -> &'static (PrivateKey, PublicKey, String) {
    static PAIR: OnceLock<(PrivateKey, PublicKey, String)> = OnceLock::new();
    PAIR.get_or_init(|| {
        let private = PrivateKey::new(&mut getrandom::SysRng, 2048).expect("generate RSA key");
        let public = private.to_public_key();
        let pem = private
            .to_pkcs8_pem(LineEnding::LF)
            .expect("encode PEM")
            .to_string();
        (private, public, pem)
    })
}

fn service_account_json(pem: &str) -> String {
    serde_json::json!({
        "type": "service_account",
        "project_id": "todo-app",
        "private_key_id": "kid-123",
        "private_key": pem,
        "client_email": "fcm-sender@todo-app.iam.gserviceaccount.com",
        "token_uri": "https://oauth2.googleapis.com/token",
    })
    .to_string()
}

/// A service account whose key is this test binary's key pair.
pub(crate) fn service_account_json_of_test_key() -> String {
    service_account_json(&key_pair().2)
}

fn account() -> ServiceAccount {
    ServiceAccount::from_json(&service_account_json(&key_pair().2)).expect("parse service account")
}

/// The FCM variables every OAuth test uses (the token endpoint is never
/// reached: the tests only read the requests).
pub(crate) fn config() -> FcmConfig {
    FcmConfig::from_variables(
        "todo-app",
        "https://fcm.googleapis.com",
        "http://127.0.0.1:9/oauth",
    )
    .unwrap()
    .unwrap()
}

fn now() -> Timestamp {
    "2026-12-01T08:30:00Z".parse().unwrap()
}

fn decode_json(part: &str) -> Value {
    serde_json::from_slice(&Base64UrlUnpadded::decode_vec(part).expect("base64url")).expect("json")
}

/// Splits a compact JWT and checks its RS256 signature with `public`.
fn verify(jwt: &str, public: &PublicKey) -> Result<(Value, Value), String> {
    let mut parts = jwt.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("not three parts".into());
    };
    let signature = Base64UrlUnpadded::decode_vec(s).map_err(|e| e.to_string())?;
    public
        .pkcs1v15_verify::<Sha256>(format!("{h}.{c}").as_bytes(), &signature)
        .map_err(|e| e.to_string())?;
    Ok((decode_json(h), decode_json(c)))
}

#[test]
fn jwt_verifies_against_the_public_key_and_has_the_claims() {
    let endpoint = config().token_endpoint();
    let jwt = build_jwt(&account(), &endpoint, now()).unwrap();
    let (header, claims) = verify(&jwt, &key_pair().1).expect("signature must verify");
    assert_eq!(
        header,
        serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": "kid-123"})
    );
    let iat = now().as_second();
    assert_eq!(
        claims,
        serde_json::json!({
            "iss": "fcm-sender@todo-app.iam.gserviceaccount.com",
            "scope": "https://www.googleapis.com/auth/firebase.messaging",
            "aud": "http://127.0.0.1:9/oauth/token",
            "iat": iat,
            "exp": iat + 3600,
        })
    );
}

#[test]
fn tampered_or_foreign_jwts_do_not_verify() {
    let jwt = build_jwt(&account(), "aud", now()).unwrap();
    let mut parts: Vec<&str> = jwt.split('.').collect();
    let forged = Base64UrlUnpadded::encode_string(br#"{"iss":"attacker"}"#);
    parts[1] = &forged;
    assert!(verify(&parts.join("."), &key_pair().1).is_err());

    let other = PrivateKey::new(&mut getrandom::SysRng, 2048)
        .unwrap()
        .to_public_key();
    assert!(verify(&jwt, &other).is_err());
}

#[test]
fn signatures_are_deterministic_despite_blinding() {
    let a = build_jwt(&account(), "aud", now()).unwrap();
    let b = build_jwt(&account(), "aud", now()).unwrap();
    assert_eq!(a, b);
}

#[test]
fn token_request_shape() {
    let req = build_token_request(&config(), &account(), now()).unwrap();
    assert_eq!(req.method(), http::Method::POST);
    assert_eq!(req.uri(), "http://127.0.0.1:9/oauth/token");
    assert_eq!(
        crate::provider_http::header(req.headers(), "content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let body = String::from_utf8(req.body().clone()).unwrap();
    let assertion = body
        .strip_prefix("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=")
        .expect("grant_type first, then assertion");
    verify(assertion, &key_pair().1).expect("assertion verifies");
}

#[test]
fn pem_with_escaped_newlines_is_accepted() {
    let escaped = key_pair().2.replace('\n', "\\n");
    let account = ServiceAccount::from_json(&service_account_json(&escaped)).unwrap();
    let jwt = build_jwt(&account, "aud", now()).unwrap();
    let (header, _) = verify(&jwt, &key_pair().1).expect("signature must verify");
    assert_eq!(header["kid"], "kid-123");
}

#[test]
fn service_account_errors_do_not_leak_the_key() {
    assert_eq!(
        ServiceAccount::from_json("nope").unwrap_err(),
        OAuthError::InvalidJson
    );
    assert_eq!(
        ServiceAccount::from_json("[1]").unwrap_err(),
        OAuthError::InvalidJson
    );
    let mut v: Value = serde_json::from_str(&service_account_json(&key_pair().2)).unwrap();
    v["client_email"] = Value::from("");
    assert_eq!(
        ServiceAccount::from_json(&v.to_string()).unwrap_err(),
        OAuthError::MissingField("client_email")
    );
    v["client_email"] = Value::from("a\nb");
    assert_eq!(
        ServiceAccount::from_json(&v.to_string()).unwrap_err(),
        OAuthError::InvalidField("client_email")
    );
    let bad =
        service_account_json("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    let err = ServiceAccount::from_json(&bad).unwrap_err();
    assert_eq!(err, OAuthError::InvalidPrivateKey);
    assert!(!err.to_string().contains("AAAA"));
    assert!(!format!("{:?}", account()).contains("PRIVATE"));
}

use crate::provider_http::test_response as resp;

#[test]
fn token_response_gives_expiry() {
    let token = parse_token_response(
        &resp(
            200,
            &[],
            r#"{"access_token":"ya29.abc","expires_in":3599,"token_type":"Bearer"}"#,
        ),
        now(),
    )
    .unwrap();
    assert_eq!(token.secret(), "ya29.abc");
    assert_eq!(token.expires_at(), "2026-12-01T09:29:59Z".parse().unwrap());
    assert!(!format!("{token:?}").contains("ya29"));
}

#[test]
fn freshness_has_a_five_minute_margin() {
    let token = AccessToken::new("t", "2026-12-01T09:30:00Z".parse().unwrap()).unwrap();
    assert!(token.is_fresh("2026-12-01T09:24:59Z".parse().unwrap()));
    assert!(!token.is_fresh("2026-12-01T09:25:00Z".parse().unwrap()));
    assert!(!token.is_fresh("2026-12-01T10:00:00Z".parse().unwrap()));
}

#[test]
fn token_endpoint_rejection_is_permanent() {
    let err = parse_token_response(
        &resp(
            400,
            &[],
            r#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#,
        ),
        now(),
    )
    .unwrap_err();
    assert_eq!(
        err,
        Attempt::failed(
            ReasonCode::ProviderAuthFailed,
            400,
            "invalid_grant: Invalid JWT Signature."
        )
    );
    assert_eq!(err.reason(), Some(ReasonCode::ProviderAuthFailed));
}

#[test]
fn token_endpoint_outage_is_transient() {
    let err = parse_token_response(&resp(503, &[("Retry-After", "7")], "<html>x</html>"), now())
        .unwrap_err();
    let Attempt::Transient(t) = err else {
        panic!("expected transient, got {err:?}")
    };
    assert_eq!(t.retry_after, Some(Duration::from_secs(7)));
}

#[test]
fn unreadable_success_is_transient() {
    for body in [
        "not json",
        r#"{"expires_in":3600}"#,
        r#"{"access_token":"a","token_type":"MAC"}"#,
        r#"{"access_token":"a\r\nb"}"#,
        r#"{"access_token":"a","expires_in":"soon"}"#,
    ] {
        let err = parse_token_response(&resp(200, &[], body), now()).unwrap_err();
        assert!(matches!(err, Attempt::Transient(_)), "{body}: {err:?}");
    }
}

#[test]
fn expires_in_is_bounded() {
    let t = parse_token_response(
        &resp(200, &[], r#"{"access_token":"a","expires_in":99999999}"#),
        now(),
    )
    .unwrap();
    assert_eq!(t.expires_at(), "2026-12-02T08:30:00Z".parse().unwrap());
    let t = parse_token_response(&resp(200, &[], r#"{"access_token":"a"}"#), now()).unwrap();
    assert_eq!(t.expires_at(), "2026-12-01T09:30:00Z".parse().unwrap());
}

/// An RNG that always fails: signing with it must fail, which proves the
/// private-key operation consults the RNG (blinding is on).
struct FailingRng;

#[derive(Debug)]
struct NoRandomness;

impl std::fmt::Display for NoRandomness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no randomness")
    }
}

impl std::error::Error for NoRandomness {}

impl rsa::rand_core::TryRng for FailingRng {
    type Error = NoRandomness;
    fn try_next_u32(&mut self) -> Result<u32, NoRandomness> {
        Err(NoRandomness)
    }
    fn try_next_u64(&mut self) -> Result<u64, NoRandomness> {
        Err(NoRandomness)
    }
    fn try_fill_bytes(&mut self, _: &mut [u8]) -> Result<(), NoRandomness> {
        Err(NoRandomness)
    }
}

impl rsa::rand_core::TryCryptoRng for FailingRng {}

#[test]
fn signing_is_blinded_with_the_given_rng() {
    let err = build_jwt_with_rng(&account(), "aud", now(), &mut FailingRng).unwrap_err();
    assert!(matches!(err, OAuthError::Signing(_)), "{err:?}");
    // With a working RNG the signature is the same as without blinding
    // would be: blinding does not change RSA PKCS#1 v1.5 signatures.
    let a = build_jwt_with_rng(&account(), "aud", now(), &mut getrandom::SysRng).unwrap();
    assert_eq!(a, build_jwt(&account(), "aud", now()).unwrap());
}
