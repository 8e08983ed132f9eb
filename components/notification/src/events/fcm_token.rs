//! The FCM OAuth2 access token: from the Postgres cache when it is fresh,
//! else minted once per request (RS256 JWT exchanged at `{oauth}/token`).
//!
//! A minted token is not written here: it travels with the delivery
//! outcomes and is upserted by the same statement that records them, so
//! minting costs no extra database round trip.

use jiff::Timestamp;
use notification_delivery::fcm::{build_token_request, parse_token_response, OAuthError};
use notification_delivery::{
    AccessToken, FcmConfig, ReasonCode, ServiceAccount, TokenError, Transient,
};

use super::http;
use super::outcome::Attempt;

/// The token of one request: the cached one, and any minted here.
pub struct TokenSource<'a> {
    fcm: &'a FcmConfig,
    service_account_json: &'a str,
    current: Option<AccessToken>,
    minted: Option<AccessToken>,
    account: Option<ServiceAccount>,
}

impl<'a> TokenSource<'a> {
    /// Starts from `cached` (already checked for freshness).
    pub fn new(
        fcm: &'a FcmConfig,
        service_account_json: &'a str,
        cached: Option<AccessToken>,
    ) -> Self {
        TokenSource {
            fcm,
            service_account_json,
            current: cached,
            minted: None,
            account: None,
        }
    }

    /// A usable token: the current one, or a newly minted one.
    pub async fn get(&mut self) -> Result<AccessToken, Attempt> {
        match &self.current {
            Some(token) => Ok(token.clone()),
            None => self.mint().await,
        }
    }

    /// Mints a new token (after FCM refused the current one).
    pub async fn refresh(&mut self) -> Result<AccessToken, Attempt> {
        self.current = None;
        self.mint().await
    }

    /// The token minted in this request, to be cached.
    pub fn minted(&self) -> Option<&AccessToken> {
        self.minted.as_ref()
    }

    async fn mint(&mut self) -> Result<AccessToken, Attempt> {
        if self.account.is_none() {
            self.account =
                Some(ServiceAccount::from_json(self.service_account_json).map_err(not_configured)?);
        }
        let Some(account) = &self.account else {
            return Err(not_configured(OAuthError::InvalidJson));
        };
        let request =
            build_token_request(self.fcm, account, Timestamp::now()).map_err(not_configured)?;
        let response = http::call(request)
            .await
            .map_err(|e| Attempt::Transient(Transient::transport(&e)))?;
        let token = parse_token_response(&response, Timestamp::now()).map_err(|e| match e {
            TokenError::Transient(t) => Attempt::Transient(t),
            TokenError::Rejected(p) => Attempt::Failed {
                reason: ReasonCode::ProviderAuthFailed,
                detail: p.detail,
            },
        })?;
        self.current = Some(token.clone());
        self.minted = Some(token.clone());
        Ok(token)
    }
}

/// A service account that cannot sign: a deployment problem, not the
/// event's, so push deliveries fail as `channel_not_configured`.
fn not_configured(e: OAuthError) -> Attempt {
    Attempt::Failed {
        reason: ReasonCode::ChannelNotConfigured,
        detail: e.to_string(),
    }
}
