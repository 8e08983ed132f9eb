//! Outbound calls with a deadline: provider requests described by
//! `notification-delivery`, and outcome publishes to the sidecar.
//!
//! Spin's `send` has no timeout of its own, and Dapr gives a delivery 30 s
//! before it redelivers: a hung relay or sidecar must become a transient
//! failure (RETRY) well before that, not a handler still blocked when the
//! redelivery arrives. The deadline is a `wasi:clocks` monotonic-clock
//! pollable registered with Spin's executor, raced against the call;
//! dropping the losing call cancels it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use component_kit::dapr::{self, Sidecar};
use futures::future::{select, Either};
use notification_delivery::{Method, NotificationOutcome, OutboundRequest, ProviderResponse};
use spin_executor::CancelOnDropToken;
use spin_sdk::http::{Request, Response};
use wasi::clocks::monotonic_clock;

/// Deadline of one provider call (relay, FCM send, token endpoint).
pub const PROVIDER_TIMEOUT: Duration = Duration::from_secs(8);

/// Deadline of one publish to the sidecar (Dapr's own publish timeout is 5 s).
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(5);

/// An outbound call that did not produce an answer. Descriptions carry no
/// secrets: provider URLs (scheme and host) and error codes only.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The host refused or lost the request.
    #[error("request to {host} failed: {detail}")]
    Failed {
        /// `scheme://host[:port]` of the URL.
        host: String,
        /// Spin's description of the failure.
        detail: String,
    },
    /// No answer within the deadline.
    #[error("request to {host} timed out after {}s", PROVIDER_TIMEOUT.as_secs())]
    TimedOut {
        /// `scheme://host[:port]` of the URL.
        host: String,
    },
}

/// A publish to the sidecar that failed.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The outcome could not be serialised.
    #[error("outcome payload: {0}")]
    Payload(#[from] serde_json::Error),
    /// The sidecar refused the publish or could not be reached.
    #[error(transparent)]
    Sidecar(#[from] dapr::PublishError),
    /// No answer within the deadline.
    #[error("publish to the sidecar timed out after {}s", PUBLISH_TIMEOUT.as_secs())]
    TimedOut,
}

/// Sends `request` with [`PROVIDER_TIMEOUT`].
pub async fn call(request: OutboundRequest) -> Result<ProviderResponse, CallError> {
    let host = host_of(&request.url).to_owned();
    let mut builder = Request::builder();
    builder.method(match request.method {
        Method::Post => spin_sdk::http::Method::Post,
    });
    builder.uri(request.url);
    for (name, value) in request.headers {
        builder.header(name, value);
    }
    let outgoing = builder.body(request.body).build();
    let send = Box::pin(spin_sdk::http::send::<_, Response>(outgoing));
    match select(send, Deadline::after(PROVIDER_TIMEOUT)).await {
        Either::Left((Ok(response), _)) => Ok(ProviderResponse {
            status: *response.status(),
            headers: response
                .headers()
                .map(|(name, value)| (name.to_owned(), value.as_str().unwrap_or("").to_owned()))
                .collect(),
            body: response.into_body(),
        }),
        Either::Left((Err(e), _)) => Err(CallError::Failed {
            host,
            detail: e.to_string(),
        }),
        Either::Right(_) => Err(CallError::TimedOut { host }),
    }
}

/// Publishes `outcome` to its topic with [`PUBLISH_TIMEOUT`]; the delivery
/// id is the CloudEvent id, so a re-publish is recognisably the same event.
pub async fn publish(
    sidecar: &Sidecar,
    outcome: &NotificationOutcome,
    traceparent: Option<&str>,
) -> Result<(), PublishError> {
    let payload = serde_json::to_value(outcome)?;
    let id = outcome.cloudevent_id();
    let call = Box::pin(sidecar.publish(
        NotificationOutcome::TOPIC,
        &id,
        outcome.event_type(),
        &payload,
        traceparent,
    ));
    let raced = select(call, Deadline::after(PUBLISH_TIMEOUT)).await;
    match raced {
        Either::Left((result, _)) => Ok(result?),
        Either::Right(_) => Err(PublishError::TimedOut),
    }
}

/// `scheme://host[:port]` of a URL, for error messages (paths carry ids).
fn host_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url
        .get(after_scheme..)
        .and_then(|rest| rest.find('/'))
        .map_or(url.len(), |i| after_scheme + i);
    url.get(..end).unwrap_or(url)
}

/// A timer future for Spin's executor: ready once a monotonic-clock
/// instant has passed.
struct Deadline {
    at: u64,
    /// The pollable registered by the last pending poll; dropping it
    /// unregisters it, so a finished deadline leaves nothing behind.
    registration: Option<CancelOnDropToken>,
}

impl Deadline {
    /// A deadline `after` from now.
    fn after(after: Duration) -> Self {
        let nanos = u64::try_from(after.as_nanos()).unwrap_or(u64::MAX);
        Deadline {
            at: monotonic_clock::now().saturating_add(nanos),
            registration: None,
        }
    }
}

impl Future for Deadline {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if monotonic_clock::now() >= self.at {
            self.registration = None;
            return Poll::Ready(());
        }
        let pollable = monotonic_clock::subscribe_instant(self.at);
        let token = spin_executor::push_waker_and_get_token(pollable, cx.waker().clone());
        self.registration = Some(token.into());
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::host_of;

    #[test]
    fn host_of_urls() {
        assert_eq!(
            host_of("https://api.resend.com/emails"),
            "https://api.resend.com"
        );
        assert_eq!(
            host_of("http://127.0.0.1:80/v1/projects/p/messages:send"),
            "http://127.0.0.1:80"
        );
        assert_eq!(host_of("weird"), "weird");
    }
}
