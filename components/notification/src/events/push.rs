//! The push channel: one FCM `messages:send` per device token, all at once,
//! with one token refresh when FCM answers 401 UNAUTHENTICATED.

use futures::future::join_all;
use jiff::Timestamp;
use notification_delivery::fcm::{build_send_request, classify_send_response};
use notification_delivery::{
    AccessToken, BusinessKey, FcmConfig, PushMessage, PushOutcome, ReasonCode, ReminderContent,
    Transient,
};

use super::fcm_token::TokenSource;
use super::http;
use super::outcome::Attempt;

/// What the reminder's pushes need besides the keys.
pub struct PushJob<'a> {
    /// FCM variables.
    pub fcm: &'a FcmConfig,
    /// Rendered texts.
    pub content: &'a ReminderContent,
    /// The task's due time, for the `data` payload.
    pub due_at: Option<Timestamp>,
    /// Incoming trace context.
    pub traceparent: Option<&'a str>,
}

/// Sends one push per key (the recipient is the device token); the answer
/// is in the same order. Collapse key, Android tag and `apns-collapse-id`
/// are the reminder id, so a duplicate replaces rather than stacks.
pub async fn send_all(
    job: &PushJob<'_>,
    tokens: &mut TokenSource<'_>,
    keys: &[&BusinessKey],
) -> Vec<Attempt> {
    if keys.is_empty() {
        return Vec::new();
    }
    let access = match tokens.get().await {
        Ok(access) => access,
        Err(failure) => return vec![failure; keys.len()],
    };
    let mut outcomes = join_all(keys.iter().map(|k| send_one(job, &access, k))).await;
    let refused: Vec<usize> = outcomes
        .iter()
        .enumerate()
        .filter(|(_, o)| matches!(o, PushOutcome::Unauthenticated { .. }))
        .map(|(i, _)| i)
        .collect();
    let mut after_refresh: Vec<(usize, Attempt)> = Vec::new();
    if !refused.is_empty() {
        match tokens.refresh().await {
            Ok(fresh) => {
                let fresh = &fresh;
                let again = join_all(refused.iter().filter_map(|&i| {
                    keys.get(i)
                        .map(|k| async move { (i, send_one(job, fresh, k).await) })
                }))
                .await;
                for (i, outcome) in again {
                    if let Some(slot) = outcomes.get_mut(i) {
                        *slot = outcome;
                    }
                }
            }
            Err(failure) => after_refresh.extend(refused.iter().map(|&i| (i, failure.clone()))),
        }
    }
    let mut attempts: Vec<Attempt> = outcomes.into_iter().map(attempt).collect();
    for (i, failure) in after_refresh {
        if let Some(slot) = attempts.get_mut(i) {
            *slot = failure;
        }
    }
    attempts
}

async fn send_one(job: &PushJob<'_>, access: &AccessToken, key: &BusinessKey) -> PushOutcome {
    let message = PushMessage::for_reminder(key, job.content, job.due_at);
    let request = build_send_request(job.fcm, access, &message).with_traceparent(job.traceparent);
    match http::call(request).await {
        Ok(response) => classify_send_response(&response, Timestamp::now()),
        Err(e) => PushOutcome::Transient(Transient::transport(&e)),
    }
}

/// A send's outcome as a channel-independent attempt. `Unauthenticated`
/// here has survived the one refresh, so it is final.
fn attempt(outcome: PushOutcome) -> Attempt {
    match outcome {
        PushOutcome::Sent {
            provider_message_id,
        } => Attempt::Sent {
            provider_message_id,
        },
        PushOutcome::Transient(t) => Attempt::Transient(t),
        PushOutcome::Permanent(p) => Attempt::Failed {
            reason: ReasonCode::RejectedByProvider,
            detail: p.detail,
        },
        PushOutcome::InvalidToken(p) => Attempt::Failed {
            reason: ReasonCode::InvalidToken,
            detail: p.detail,
        },
        PushOutcome::Unauthenticated { detail } => Attempt::Failed {
            reason: ReasonCode::ProviderAuthFailed,
            detail,
        },
    }
}
