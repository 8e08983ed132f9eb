use jiff::Timestamp;

use super::*;
use crate::fcm::oauth::tests::{config, service_account_json_of_test_key};
use crate::policy::Failure;

fn now() -> Timestamp {
    "2026-12-01T08:30:00Z".parse().unwrap()
}

fn token_answer(token: &str) -> ProviderResponse {
    let body =
        serde_json::json!({"access_token": token, "expires_in": 3599, "token_type": "Bearer"});
    http::Response::builder()
        .status(200)
        .body(body.to_string().into_bytes())
        .unwrap()
}

fn minted(source: &mut TokenSource, token: &str) -> AccessToken {
    match source.next(&config(), &service_account_json_of_test_key(), now()) {
        Ok(TokenStep::Mint(request)) => {
            assert_eq!(request.uri(), "http://127.0.0.1:9/oauth/token");
            source.read_minted(&token_answer(token), now()).unwrap()
        }
        other => panic!("expected a token request, got {other:?}"),
    }
}

#[test]
fn a_cached_token_is_used_without_minting() {
    let mut source = TokenSource::new(None);
    let cached = minted(&mut source, "ya29.cached");
    let source = TokenSource::new(Some(cached.clone()));
    match source.next(&config(), "not even JSON", now()) {
        Ok(TokenStep::Ready(token)) => assert_eq!(token, cached),
        other => panic!("expected the cached token, got {other:?}"),
    }
    assert_eq!(source.minted(), None, "nothing new to cache");
}

#[test]
fn without_a_cached_token_one_is_minted_and_kept_for_the_cache() {
    let mut source = TokenSource::new(None);
    let token = minted(&mut source, "ya29.fresh");
    assert!(matches!(
        source.next(&config(), "not even JSON", now()),
        Ok(TokenStep::Ready(t)) if t == token
    ));
    assert_eq!(source.minted(), Some(token));
}

#[test]
fn a_refused_token_is_refreshed_once() {
    let mut source = TokenSource::new(None);
    let first = minted(&mut source, "ya29.first");
    assert!(source.refused(), "the first refusal earns a refresh");
    let second = minted(&mut source, "ya29.second");
    assert_ne!(first, second);
    assert!(!source.refused(), "a refusal after the refresh is final");
    assert_eq!(source.minted(), Some(second));
}

#[test]
fn a_service_account_that_cannot_sign_is_not_configured() {
    let source = TokenSource::new(None);
    let failure = source
        .next(
            &config(),
            r#"{"private_key": "-----BEGIN nonsense"}"#,
            now(),
        )
        .unwrap_err();
    assert_eq!(failure.reason(), Some(ReasonCode::ChannelNotConfigured));
}

#[test]
fn only_a_refused_access_token_asks_for_a_refresh() {
    let auth = Attempt::Failed(Failure::without_response(
        ReasonCode::ProviderAuthFailed,
        "401 UNAUTHENTICATED",
    ));
    let device = Attempt::Failed(Failure::without_response(
        ReasonCode::InvalidToken,
        "UNREGISTERED",
    ));
    assert!(token_refused(&auth));
    assert!(!token_refused(&device));
    assert!(!token_refused(&Attempt::no_answer(&"timed out")));
}
