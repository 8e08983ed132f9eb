//! One `reminder.due`: lookup, claim, provider calls, publish, record.
//!
//! Database round trips on the happy path: 1 lookup (subscriber, devices
//! and cached FCM token), 2 claim, 3 record (which also caches a minted
//! token and deletes dead device tokens). Outcome events are published
//! between 2 and 3 (see `store::record` for why that order is safe). What
//! each result means is decided by `notification_delivery::delivery`; this
//! file only moves the deliveries from one I/O step to the next.
//!
//! The provider calls: the e-mail and every push at the same time, each
//! delivery settled in place with its answer. Push is one FCM
//! `messages:send` per device token, with one access-token refresh when FCM
//! refuses the token (401 UNAUTHENTICATED, read as `provider_auth_failed`);
//! the token comes from the Postgres cache when it is fresh, else it is
//! minted once per request (RS256 JWT exchanged at `{oauth}/token`). A
//! minted token is not written here: it is upserted by the statement that
//! records the outcomes, so minting costs no extra database round trip.

use std::time::Duration;

use component_kit::dapr::{self, Incoming, Outcome, PublishError, Sidecar};
use component_kit::db::{DbFault, LazyConnection};
use component_kit::outbound;
use component_kit::{log, serve, vars};
use dapr_pubsub::CloudEvent;
use futures::future::join_all;
use jiff::Timestamp;
use notification_delivery::delivery::{self, Lookup, MAX_DEVICES};
use notification_delivery::fcm::{build_send_request, build_token_request, parse_token_response};
use notification_delivery::{
    render_reminder, AccessToken, Attempt, BusinessKey, Channel, Delivery, EmailMessage,
    EventSettings, FcmConfig, NotificationOutcome, ProviderRequest, ProviderResponse, PushMessage,
    ReasonCode, ReminderContent, ReminderDue, ServiceAccount, Step,
};
use spin_sdk::http::{Method, Request, Response};
use tracing::Instrument;

use super::store;

/// The topic consumed.
const TOPIC: &str = "reminders";

/// Answers a Dapr delivery of `reminders`; each event (or bulk entry) is
/// answered on its own, all sharing one set of variables and one database
/// connection.
pub async fn handle(req: Request) -> Response {
    if *req.method() != Method::Post {
        return serve::method_not_allowed("POST");
    }
    dapr::answer_delivery(
        &req,
        TOPIC,
        ReminderDue::EVENT_TYPE,
        async |conn: &mut LazyConnection, events: &[Incoming]| {
            let mut worker = ReminderWorker { config: None, conn };
            let mut outcomes = Vec::with_capacity(events.len());
            for incoming in events {
                let outcome = worker
                    .handle(&incoming.event)
                    .instrument(incoming.span.clone())
                    .await;
                outcomes.push(outcome);
            }
            outcomes
        },
    )
    .await
}

/// What one request sets up once, however many bulk entries it carries.
struct ReminderWorker<'c> {
    /// Read at the first reminder that gets as far as delivering: a bulk of
    /// ignored types or malformed events reads no variable.
    config: Option<EventConfig>,
    /// The request's one connection, lent by `answer_delivery`.
    conn: &'c mut LazyConnection,
}

/// The variables of the event path, read once per request.
struct EventConfig {
    settings: EventSettings,
    sidecar: Sidecar,
}

impl EventConfig {
    /// Reads and interprets the variables; an unusable attempt limit is
    /// logged once and replaced by the default.
    fn read() -> Self {
        let settings = EventSettings::from_variables(vars::get_or);
        if let Some(e) = &settings.policy_error {
            tracing::warn!(
                reason = "invalid_configuration",
                detail = %e,
                default = notification_delivery::AttemptPolicy::DEFAULT_MAX_ATTEMPTS,
                "max_delivery_attempts is invalid; using the default"
            );
        }
        EventConfig {
            settings,
            sidecar: Sidecar::from_vars(),
        }
    }
}

impl ReminderWorker<'_> {
    /// Handles one CloudEvent of the `reminders` topic.
    async fn handle(&mut self, event: &CloudEvent) -> Outcome {
        let reminder = match ReminderDue::from_value(&event.data) {
            Ok(reminder) => reminder,
            Err(e) => {
                return Outcome::Drop {
                    reason: e.drop_reason(),
                    detail: e.drop_detail(),
                }
            }
        };
        let span = tracing::info_span!("reminder", task_id = %reminder.task_id);
        let traceparent = event.traceparent.as_deref();
        match self
            .deliver(event, &reminder, traceparent)
            .instrument(span)
            .await
        {
            Ok(outcome) => outcome,
            Err(fault) => {
                self.conn.reset();
                Outcome::Retry(format!("database: {fault}"))
            }
        }
    }

    async fn deliver(
        &mut self,
        event: &CloudEvent,
        reminder: &ReminderDue,
        traceparent: Option<&str>,
    ) -> Result<Outcome, DbFault> {
        let conn = self.conn.get()?;
        let EventConfig { settings, sidecar } = self.config.get_or_insert_with(EventConfig::read);
        let (settings, sidecar) = (&*settings, &*sidecar);
        let user_id = reminder.user_id.as_str();

        // Round trip 1: subscriber, devices, cached token.
        let lookup = store::lookup(conn, user_id, settings.token_cache_key())?;
        if lookup.devices.len() >= MAX_DEVICES {
            tracing::warn!(
                user_id,
                limit = MAX_DEVICES,
                "subscriber has more devices than one reminder pushes to"
            );
        }
        let mut deliveries = delivery::plan(reminder, &lookup, settings.ready());
        if deliveries.is_empty() {
            tracing::info!("reminder has no channel to deliver");
            return Ok(Outcome::Success);
        }

        // Round trip 2: the claim.
        let rows = store::claim(conn, reminder, &deliveries)?;
        delivery::apply_claims(
            &mut deliveries,
            &rows,
            settings.policy,
            user_id,
            Timestamp::now(),
        );

        // The providers, for what this handler holds.
        let minted =
            call_providers(settings, reminder, &lookup, &mut deliveries, traceparent).await;
        // Provider error bodies may echo a secret: scrub before logging or storing.
        let mut secrets = settings.secrets();
        if let Some(token) = &minted {
            secrets.add(token.secret());
        }
        if let Some(token) = lookup
            .fcm_token
            .as_ref()
            .and_then(|t| t.fresh(Timestamp::now()))
        {
            secrets.add(token.secret());
        }

        // Every final outcome is published before the write (see store::record).
        join_all(deliveries.iter_mut().map(|d| async move {
            if let Some(outcome) = d.outcome_event(user_id) {
                let published = publish(sidecar, &outcome, traceparent).await;
                d.publish_error = published.err().map(|e| e.to_string());
            }
        }))
        .await;

        // Round trip 3: the write.
        let extras = store::Extras {
            user_id,
            minted: minted
                .as_ref()
                .and_then(|token| Some((settings.client_email.as_deref()?, token))),
        };
        let expected = deliveries
            .iter()
            .filter(|d| matches!(d.step, Step::Settle { .. }))
            .count();
        let written = store::record(conn, &deliveries, &extras, &secrets)?;
        if written.settled < expected {
            tracing::warn!(
                expected,
                written = written.settled,
                reason = "lease_lost",
                "a delivery's lease ran out before its outcome was written; the handler that took it over records it"
            );
        }

        for d in &deliveries {
            let why = settings.not_configured(d.key.channel());
            if let Some((level, mut fields)) = d.log_line(&event.id, why.as_deref()) {
                secrets.scrub_json(&mut fields);
                log::json(level, "delivery", &fields);
            }
        }
        Ok(match delivery::retry_reason(&deliveries) {
            None => Outcome::Success,
            Some(why) => Outcome::Retry(why),
        })
    }
}

/// Deadline of one provider call (relay, FCM send, token endpoint).
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(8);

/// Calls the providers for every delivery that needs a call and settles
/// it; answers the access token minted on the way (to be cached), if any.
async fn call_providers(
    settings: &EventSettings,
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
        let attempt = match &settings.relay {
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
            Err(why) => Attempt::not_configured(why),
        };
        (d, attempt)
    }));
    let push_calls = async {
        if pushes.is_empty() {
            return (Vec::new(), None);
        }
        match &settings.fcm {
            Ok(fcm) => {
                let cached = lookup
                    .fcm_token
                    .as_ref()
                    .and_then(|t| t.fresh(Timestamp::now()));
                let mut tokens = TokenSource {
                    fcm,
                    service_account_json: &settings.service_account_json,
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
                let failure = Attempt::not_configured(why);
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
        d.settle(settings.policy, attempt, now);
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
        let account = ServiceAccount::from_json(self.service_account_json)
            .map_err(|e| Attempt::not_configured(&e))?;
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
) -> Result<ProviderResponse, Attempt> {
    let request = request.map_err(|e| Attempt::not_configured(&e))?;
    outbound::call(request, traceparent, PROVIDER_TIMEOUT)
        .await
        .map_err(|e| Attempt::no_answer(&e))
}

/// Publishes `outcome` to its topic; the delivery id is the CloudEvent id,
/// so a re-publish is recognisably the same event.
pub(super) async fn publish(
    sidecar: &Sidecar,
    outcome: &NotificationOutcome,
    traceparent: Option<&str>,
) -> Result<(), PublishError> {
    let id = outcome.cloudevent_id();
    let topic = NotificationOutcome::TOPIC;
    sidecar
        .publish(topic, &id, outcome.event_type(), outcome, traceparent)
        .await
}
