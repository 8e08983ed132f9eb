//! The access token one request's pushes are sent with, without the I/O:
//! the cached token when there is one, one mint when there is none, and
//! one refresh when FCM refuses the token (401 UNAUTHENTICATED, read as
//! `provider_auth_failed`); a refusal after the refresh is final. The
//! component makes the calls [`TokenSource::next`] asks for and hands the
//! answers back; the token minted on the way is cached by the record
//! statement ([`TokenSource::minted`]).

use jiff::Timestamp;

use super::oauth::{build_token_request, parse_token_response, AccessToken, ServiceAccount};
use super::FcmConfig;
use crate::policy::{Attempt, ReasonCode};
use crate::provider_http::{ProviderRequest, ProviderResponse};

/// What the pushes need next.
#[derive(Debug)]
pub enum TokenStep {
    /// Send with this token.
    Ready(AccessToken),
    /// Make this token request first, then hand its answer to
    /// [`TokenSource::read_minted`].
    Mint(Box<ProviderRequest>),
}

/// The token state of one request's pushes.
#[derive(Debug, Default)]
pub struct TokenSource {
    current: Option<AccessToken>,
    minted: Option<AccessToken>,
    refreshed: bool,
}

impl TokenSource {
    /// Starts from the token cached in Postgres, if a fresh one was found.
    pub fn new(cached: Option<AccessToken>) -> Self {
        TokenSource {
            current: cached,
            ..TokenSource::default()
        }
    }

    /// The token to send with, or the token request to make first. A
    /// service account that cannot sign is a deployment problem, not the
    /// event's, so the pushes fail as `channel_not_configured`.
    pub fn next(
        &self,
        fcm: &FcmConfig,
        service_account_json: &str,
        now: Timestamp,
    ) -> Result<TokenStep, Attempt> {
        if let Some(token) = &self.current {
            return Ok(TokenStep::Ready(token.clone()));
        }
        let account = ServiceAccount::from_json(service_account_json)
            .map_err(|e| Attempt::not_configured(&e))?;
        build_token_request(fcm, &account, now)
            .map(|request| TokenStep::Mint(Box::new(request)))
            .map_err(|e| Attempt::not_configured(&e))
    }

    /// Reads the token endpoint's answer; a token minted becomes the one
    /// sent with and the one to cache.
    pub fn read_minted(
        &mut self,
        response: &ProviderResponse,
        now: Timestamp,
    ) -> Result<AccessToken, Attempt> {
        let token = parse_token_response(response, now)?;
        self.current = Some(token.clone());
        self.minted = Some(token.clone());
        Ok(token)
    }

    /// FCM refused the current token: drops it and answers whether the
    /// pushes it refused may be sent again with a new one (once per request).
    pub fn refused(&mut self) -> bool {
        if self.refreshed {
            return false;
        }
        self.refreshed = true;
        self.current = None;
        true
    }

    /// The token minted in this request, if any, for the cache.
    pub fn minted(self) -> Option<AccessToken> {
        self.minted
    }
}

/// Whether a push's attempt means FCM refused the access token (not the
/// device token, not APNs credentials): the one answer a refresh can fix.
pub fn token_refused(attempt: &Attempt) -> bool {
    attempt.reason() == Some(ReasonCode::ProviderAuthFailed)
}

#[cfg(test)]
mod tests;
