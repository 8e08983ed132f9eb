//! The provider calls of one reminder: the e-mail and every push at the
//! same time, each delivery settled in place with its answer.
//!
//! Push is one FCM `messages:send` per device token, with one access-token
//! refresh when FCM refuses the token (401 UNAUTHENTICATED, read as
//! `provider_auth_failed`); the token comes from the Postgres cache when it
//! is fresh, else it is minted once per request (RS256 JWT exchanged at
//! `{oauth}/token`). A minted token is not written here: it is upserted by
//! the statement that records the outcomes, so minting costs no extra
//! database round trip.

use std::time::Duration;

use component_kit::outbound::{self, CallError};
use futures::future::join_all;
use jiff::Timestamp;
use notification_delivery::delivery::Lookup;
use notification_delivery::fcm::{build_send_request, build_token_request, parse_token_response};
use notification_delivery::{
    render_reminder, AccessToken, Attempt, BusinessKey, Channel, Delivery, EmailMessage, Failure,
    FcmConfig, ProviderRequest, PushMessage, ReasonCode, ReminderContent, ReminderDue,
    ServiceAccount, Transient,
};

use super::settings::EventConfig;

/// Deadline of one provider call (relay, FCM send, token endpoint).
pub const PROVIDER_TIMEOUT: Duration = Duration::from_secs(8);

/// Calls the providers for every delivery that needs a call and settles
/// it; answers the access token minted on the way (to be cached), if any.
pub async fn call(
    config: &EventConfig,
    reminder: &ReminderDue,
    lookup: &Lookup,
    deliveries: &mut [Delivery],
    traceparent: Option<&str>,
) -> Option<AccessToken> {
    let (emails, pushes): (Vec<&mut Delivery>, Vec<&mut Delivery>) = deliveries
        .iter_mut()
        .filter(|d| d.needs_call())
        .partition(|d| d.key.channel() == Channel::Email);
    if emails.is_empty() && pushes.is_empty() {
        return None;
    }
    let content = render_reminder(&reminder.title, reminder.due_at, lookup.timezone());
    let content = &content;
    let email_calls = join_all(emails.into_iter().map(|d| async move {
        let attempt = match &config.relay {
            Ok(relay) => {
                let message = EmailMessage::for_reminder(&d.key, content);
                // The delivery id is the idempotency key (Resend's
                // `Idempotency-Key`), so even a re-send after a lost
                // outcome write is collapsed by the provider.
                match send(relay.build_request(&message), traceparent).await {
                    Ok(response) => relay.classify(&response, Timestamp::now()),
                    Err(failure) => failure,
                }
            }
            Err(why) => not_configured(why),
        };
        (d, attempt)
    }));
    let push_calls = async {
        if pushes.is_empty() {
            return (Vec::new(), None);
        }
        match &config.fcm {
            Ok(fcm) => {
                let cached = lookup
                    .fcm_token
                    .as_ref()
                    .and_then(|t| t.fresh(Timestamp::now()));
                let mut tokens = TokenSource {
                    fcm,
                    service_account_json: &config.service_account_json,
                    current: cached,
                    minted: None,
                    traceparent,
                };
                let push = Push {
                    fcm,
                    content,
                    due_at: reminder.due_at,
                    traceparent,
                };
                let attempts = push.send_all(&mut tokens, pushes).await;
                (attempts, tokens.minted)
            }
            Err(why) => {
                let failure = not_configured(why);
                (
                    pushes.into_iter().map(|d| (d, failure.clone())).collect(),
                    None,
                )
            }
        }
    };
    let (email_attempts, (push_attempts, minted)) = futures::join!(email_calls, push_calls);
    let now = Timestamp::now();
    for (d, attempt) in email_attempts.into_iter().chain(push_attempts) {
        d.settle(config.policy, attempt, now);
    }
    minted
}

/// What the reminder's pushes need besides the keys.
struct Push<'a> {
    fcm: &'a FcmConfig,
    content: &'a ReminderContent,
    due_at: Option<Timestamp>,
    traceparent: Option<&'a str>,
}

impl Push<'_> {
    /// Sends one push per delivery (the recipient is the device token).
    /// Collapse key, Android tag and `apns-collapse-id` are the reminder
    /// id, so a duplicate replaces rather than stacks.
    async fn send_all<'d>(
        &self,
        tokens: &mut TokenSource<'_>,
        pushes: Vec<&'d mut Delivery>,
    ) -> Vec<(&'d mut Delivery, Attempt)> {
        let access = match tokens.get().await {
            Ok(access) => access,
            Err(failure) => return pushes.into_iter().map(|d| (d, failure.clone())).collect(),
        };
        let access = &access;
        let sent = join_all(pushes.into_iter().map(|d| async move {
            let attempt = self.send_one(access, &d.key).await;
            (d, attempt)
        }))
        .await;
        let (refused, mut done): (Vec<_>, Vec<_>) = sent
            .into_iter()
            .partition(|(_, a)| a.reason() == Some(ReasonCode::ProviderAuthFailed));
        if refused.is_empty() {
            return done;
        }
        // FCM refused the access token: mint a new one and send those again.
        match tokens.refresh().await {
            Ok(fresh) => {
                let fresh = &fresh;
                done.extend(
                    join_all(refused.into_iter().map(|(d, _)| async move {
                        let attempt = self.send_one(fresh, &d.key).await;
                        (d, attempt)
                    }))
                    .await,
                );
            }
            Err(failure) => done.extend(refused.into_iter().map(|(d, _)| (d, failure.clone()))),
        }
        done
    }

    async fn send_one(&self, access: &AccessToken, key: &BusinessKey) -> Attempt {
        let message = PushMessage::for_reminder(key, self.content, self.due_at);
        let request = build_send_request(self.fcm, access, &message);
        match send(request, self.traceparent).await {
            Ok(response) => {
                notification_delivery::fcm::classify_send_response(&response, Timestamp::now())
            }
            Err(failure) => failure,
        }
    }
}

/// The access token of one request: the cached one, and any minted here.
struct TokenSource<'a> {
    fcm: &'a FcmConfig,
    service_account_json: &'a str,
    current: Option<AccessToken>,
    minted: Option<AccessToken>,
    /// Minting is part of the reminder's handling, so it joins its trace.
    traceparent: Option<&'a str>,
}

impl TokenSource<'_> {
    /// A usable token: the current one, or a newly minted one.
    async fn get(&mut self) -> Result<AccessToken, Attempt> {
        match &self.current {
            Some(token) => Ok(token.clone()),
            None => self.mint().await,
        }
    }

    /// Mints a new token (after FCM refused the current one).
    async fn refresh(&mut self) -> Result<AccessToken, Attempt> {
        self.current = None;
        self.mint().await
    }

    async fn mint(&mut self) -> Result<AccessToken, Attempt> {
        // A service account that cannot sign is a deployment problem, not
        // the event's, so push deliveries fail as `channel_not_configured`.
        let account =
            ServiceAccount::from_json(self.service_account_json).map_err(|e| not_configured(&e))?;
        let request = build_token_request(self.fcm, &account, Timestamp::now());
        let response = send(request, self.traceparent).await?;
        let token = parse_token_response(&response, Timestamp::now())?;
        self.current = Some(token.clone());
        self.minted = Some(token.clone());
        Ok(token)
    }
}

/// Sends a described provider call with [`PROVIDER_TIMEOUT`]; a request
/// that could not be described fails the delivery as not configured, no
/// answer is a transient attempt.
async fn send<E: std::fmt::Display>(
    request: Result<ProviderRequest, E>,
    traceparent: Option<&str>,
) -> Result<notification_delivery::ProviderResponse, Attempt> {
    let request = request.map_err(|e| not_configured(&e))?;
    outbound::call(request, traceparent, PROVIDER_TIMEOUT)
        .await
        .map_err(|e: CallError| Attempt::Transient(Transient::transport(&e.to_string())))
}

fn not_configured(why: &dyn std::fmt::Display) -> Attempt {
    Attempt::Failed(Failure::without_response(
        ReasonCode::ChannelNotConfigured,
        &why.to_string(),
    ))
}
