//! Calls the providers for every delivery that needs a call: the e-mail
//! and all pushes of a reminder at the same time.

use futures::future::join_all;
use jiff::Timestamp;
use notification_delivery::{render_reminder, AccessToken, Channel, ReasonCode, ReminderDue};

use super::email;
use super::fcm_token::TokenSource;
use super::lookup::Found;
use super::outcome::Attempt;
use super::plan::Planned;
use super::push::{self, PushJob};
use super::settings::Settings;

/// Each attempt by index into the planned deliveries, and the access token
/// minted on the way (to be cached), if any.
pub struct Calls {
    /// `(index, attempt)` per call made.
    pub attempts: Vec<(usize, Attempt)>,
    /// A newly minted FCM token.
    pub minted: Option<AccessToken>,
}

/// Calls the providers for `calls` (index into the plan, delivery).
pub async fn call(
    settings: &Settings,
    reminder: &ReminderDue,
    found: &Found,
    calls: Vec<(usize, &Planned)>,
    traceparent: Option<&str>,
) -> Calls {
    if calls.is_empty() {
        return Calls {
            attempts: Vec::new(),
            minted: None,
        };
    }
    let timezone = found
        .subscriber
        .as_ref()
        .map_or("UTC", |s| s.timezone.as_str());
    let content = render_reminder(&reminder.title, reminder.due_at, timezone);
    let (emails, pushes): (Vec<_>, Vec<_>) = calls
        .into_iter()
        .partition(|(_, p)| p.key.channel() == Channel::Email);

    let email_calls = join_all(emails.iter().map(|(i, p)| {
        let content = &content;
        async move {
            let attempt = match &settings.relay {
                Ok(relay) => email::send(relay, &p.key, content, traceparent).await,
                Err(why) => not_configured(why),
            };
            (*i, attempt)
        }
    }));
    let cached = found
        .fcm_token
        .as_ref()
        .and_then(|t| t.fresh(Timestamp::now()));
    let push_calls = async {
        let keys: Vec<_> = pushes.iter().map(|(_, p)| &p.key).collect();
        let (attempts, minted) = match &settings.fcm {
            Ok(fcm) => {
                let mut tokens = TokenSource::new(fcm, &settings.service_account_json, cached);
                let job = PushJob {
                    fcm,
                    content: &content,
                    due_at: reminder.due_at,
                    traceparent,
                };
                let attempts = push::send_all(&job, &mut tokens, &keys).await;
                (attempts, tokens.minted().cloned())
            }
            Err(why) => (vec![not_configured(why); keys.len()], None),
        };
        let indexed: Vec<(usize, Attempt)> = pushes.iter().map(|(i, _)| *i).zip(attempts).collect();
        (indexed, minted)
    };
    let (mut attempts, (push_attempts, minted)) = futures::join!(email_calls, push_calls);
    attempts.extend(push_attempts);
    Calls { attempts, minted }
}

fn not_configured(why: &str) -> Attempt {
    Attempt::Failed {
        reason: ReasonCode::ChannelNotConfigured,
        detail: why.to_owned(),
    }
}
