//! The provider calls of a request's reminders: every e-mail and every
//! push at the same time, at most [`CALLS_IN_FLIGHT`] of each kind in
//! flight, each delivery settled in place with its answer.
//!
//! Push is one FCM `messages:send` per device token, sent with the token
//! `notification_core::fcm::TokenSource` picks (cached, minted once,
//! refreshed once when FCM refuses it); this file only makes the calls it
//! asks for. A minted token is not written here: the record statement
//! caches it.
//!
//! **Deadlines.** Every call has [`PROVIDER_TIMEOUT`]; and no call starts
//! later than [`CALL_WINDOW`] after the claim, so that the longest chain a
//! started push can still take (send, refresh, send again) plus the
//! publishes ends well inside the claim's lease
//! (`notification_core::delivery::LEASE_SECS`, 60 s): a redelivery
//! never finds a live handler's lease expired. A call the window cut off
//! is not made; its delivery stays leased and the event answers RETRY.

use std::time::{Duration, Instant};

use jiff::Timestamp;
use notification_core::batch::ReminderSet;
use notification_core::fcm::{
    build_send_request, classify_send_response, token_refused, TokenSource, TokenStep,
};
use notification_core::{
    render_reminder, AccessToken, Attempt, BusinessKey, Channel, Delivery, EmailMessage,
    EventSettings, FcmConfig, ProviderRequest, ProviderResponse, PushMessage, ReminderContent,
};
use spin_glue::outbound::{self, bounded};

/// Deadline of one provider call (relay, FCM send, token endpoint).
pub const PROVIDER_TIMEOUT: Duration = Duration::from_secs(8);

/// Calls of one kind (e-mail, push) in flight at once. A bulk of Dapr's
/// default 100 two-channel reminders is 100 e-mails and 100 pushes: 16 of
/// each sends them in about seven rounds of a provider's latency, without
/// asking one relay for hundreds of connections at once (Resend and
/// SendGrid rate-limit per key; a 429 settles as a transient attempt).
pub const CALLS_IN_FLIGHT: usize = 16;

/// No provider call starts later than this after the claim (see the
/// module's "Deadlines"): 20 s, plus the longest push chain (3 ×
/// [`PROVIDER_TIMEOUT`]) and the publishes, stays under the 60 s lease.
pub const CALL_WINDOW: Duration = Duration::from_secs(20);

/// What a delivery's call needs besides the delivery itself.
struct Job<'a> {
    delivery: &'a mut Delivery,
    content: &'a ReminderContent,
    due_at: Option<Timestamp>,
    traceparent: Option<&'a str>,
}

/// Calls the providers for every delivery of `set` that needs a call and
/// settles it; answers the access token minted on the way (to be cached),
/// if any. `traceparents` are the reminders' (by reminder index);
/// `claimed` is when the claim answered.
pub async fn call_all(
    settings: &EventSettings,
    set: &mut ReminderSet,
    traceparents: &[Option<&str>],
    cached: Option<AccessToken>,
    claimed: Instant,
) -> Option<AccessToken> {
    let contents: Vec<ReminderContent> = set
        .reminders
        .iter()
        .zip(&set.lookups)
        .map(|(r, lookup)| render_reminder(&r.title, r.due_at, lookup.timezone()))
        .collect();
    let owners: Vec<usize> = (0..set.deliveries.len())
        .map(|at| set.owner(at).unwrap_or_default())
        .collect();
    let due: Vec<Option<Timestamp>> = set.reminders.iter().map(|r| r.due_at).collect();
    let (mut emails, mut pushes) = (Vec::new(), Vec::new());
    for (delivery, owner) in set.deliveries.iter_mut().zip(owners) {
        let (Some(content), true) = (contents.get(owner), delivery.needs_call()) else {
            continue;
        };
        let job = Job {
            content,
            due_at: due.get(owner).copied().flatten(),
            traceparent: traceparents.get(owner).copied().flatten(),
            delivery,
        };
        match job.delivery.key.channel() {
            Channel::Email => emails.push(job),
            Channel::Push => pushes.push(job),
        }
    }
    if emails.is_empty() && pushes.is_empty() {
        return None;
    }
    let email_calls = bounded(
        emails.into_iter().map(|job| async move {
            let attempt = match &settings.relay {
                Ok(relay) => {
                    within(claimed, async {
                        let message = EmailMessage::for_reminder(&job.delivery.key, job.content);
                        // The delivery id is the idempotency key (Resend's
                        // `Idempotency-Key`), so even a re-send after a lost
                        // outcome write is collapsed by the provider.
                        match send(relay.build_request(&message), job.traceparent).await {
                            Ok(response) => relay.classify(&response, Timestamp::now()),
                            Err(failure) => failure,
                        }
                    })
                    .await
                }
                Err(why) => Some(Attempt::not_configured(why)),
            };
            (job, attempt)
        }),
        CALLS_IN_FLIGHT,
    );
    let push_calls = push_all(settings, pushes, cached, claimed);
    let (email_attempts, (push_attempts, minted)) = futures::join!(email_calls, push_calls);
    let now = Timestamp::now();
    let mut cut_off = 0;
    for (job, attempt) in email_attempts.into_iter().chain(push_attempts) {
        match attempt {
            Some(attempt) => job.delivery.settle(settings.policy, attempt, now),
            None => cut_off += 1,
        }
    }
    if cut_off > 0 {
        tracing::warn!(
            deliveries = cut_off,
            reason = "call_window_passed",
            "provider calls not started within the claim's window; left for the redelivery"
        );
    }
    minted
}

/// The pushes: one token for all, one refresh when FCM refuses it.
async fn push_all<'a>(
    settings: &EventSettings,
    pushes: Vec<Job<'a>>,
    cached: Option<AccessToken>,
    claimed: Instant,
) -> (Vec<(Job<'a>, Option<Attempt>)>, Option<AccessToken>) {
    if pushes.is_empty() {
        return (Vec::new(), None);
    }
    let fcm = match &settings.fcm {
        Ok(fcm) => fcm,
        Err(why) => {
            let failure = Attempt::not_configured(why);
            let failed = pushes.into_iter().map(|j| (j, Some(failure.clone())));
            return (failed.collect(), None);
        }
    };
    let mut tokens = TokenSource::new(cached);
    // Minting is part of the reminders' handling, so it joins the first
    // push's trace.
    let traceparent = pushes.first().and_then(|j| j.traceparent);
    let token_json = settings.service_account_json.as_str();
    let access = match token(&mut tokens, fcm, token_json, traceparent).await {
        Ok(access) => access,
        Err(failure) => {
            let failed = pushes.into_iter().map(|j| (j, Some(failure.clone())));
            return (failed.collect(), None);
        }
    };
    let sent = send_pushes(fcm, &access, pushes, claimed).await;
    let (refused, mut done): (Vec<_>, Vec<_>) = sent
        .into_iter()
        .partition(|(_, a)| a.as_ref().is_some_and(token_refused));
    if refused.is_empty() || !tokens.refused() {
        done.extend(refused);
        return (done, tokens.minted());
    }
    // FCM refused the access token: send those again with a new one.
    let refused: Vec<Job<'a>> = refused.into_iter().map(|(job, _)| job).collect();
    match token(&mut tokens, fcm, token_json, traceparent).await {
        Ok(fresh) => done.extend(send_pushes(fcm, &fresh, refused, claimed).await),
        Err(failure) => done.extend(refused.into_iter().map(|j| (j, Some(failure.clone())))),
    }
    (done, tokens.minted())
}

/// The token to send with: [`TokenSource`] decides, this makes the token
/// request it asks for.
async fn token(
    tokens: &mut TokenSource,
    fcm: &FcmConfig,
    service_account_json: &str,
    traceparent: Option<&str>,
) -> Result<AccessToken, Attempt> {
    match tokens.next(fcm, service_account_json, Timestamp::now())? {
        TokenStep::Ready(token) => Ok(token),
        TokenStep::Mint(request) => {
            let response = call(*request, traceparent).await?;
            tokens.read_minted(&response, Timestamp::now())
        }
    }
}

/// Sends one push per job (the recipient is the device token). Collapse
/// key, Android tag and `apns-collapse-id` are the reminder id, so a
/// duplicate replaces rather than stacks.
async fn send_pushes<'a>(
    fcm: &FcmConfig,
    access: &AccessToken,
    jobs: Vec<Job<'a>>,
    claimed: Instant,
) -> Vec<(Job<'a>, Option<Attempt>)> {
    bounded(
        jobs.into_iter().map(|job| async move {
            let attempt = within(claimed, send_push(fcm, access, &job)).await;
            (job, attempt)
        }),
        CALLS_IN_FLIGHT,
    )
    .await
}

async fn send_push(fcm: &FcmConfig, access: &AccessToken, job: &Job<'_>) -> Attempt {
    let key: &BusinessKey = &job.delivery.key;
    let message = PushMessage::for_reminder(key, job.content, job.due_at);
    let request = build_send_request(fcm, access, &message);
    match send(request, job.traceparent).await {
        Ok(response) => classify_send_response(&response, Timestamp::now()),
        Err(failure) => failure,
    }
}

/// Runs `call` if it can still start inside [`CALL_WINDOW`] of `claimed`.
async fn within(
    claimed: Instant,
    call: impl std::future::Future<Output = Attempt>,
) -> Option<Attempt> {
    if claimed.elapsed() > CALL_WINDOW {
        return None;
    }
    Some(call.await)
}

/// Sends a described provider call with [`PROVIDER_TIMEOUT`]; a request
/// that could not be described fails the delivery as not configured, no
/// answer is a transient attempt.
async fn send<E: std::fmt::Display>(
    request: Result<ProviderRequest, E>,
    traceparent: Option<&str>,
) -> Result<ProviderResponse, Attempt> {
    let request = request.map_err(|e| Attempt::not_configured(&e))?;
    call(request, traceparent).await
}

/// Makes a provider call with [`PROVIDER_TIMEOUT`]; no answer is a
/// transient attempt.
async fn call(
    request: ProviderRequest,
    traceparent: Option<&str>,
) -> Result<ProviderResponse, Attempt> {
    outbound::call(request, traceparent, PROVIDER_TIMEOUT)
        .await
        .map_err(|e| Attempt::no_answer(&e))
}
