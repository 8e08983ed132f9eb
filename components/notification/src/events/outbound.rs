//! Outbound calls: provider requests described by `notification-delivery`,
//! sent with a deadline (`component_kit::deadline`), and outcome publishes
//! to the sidecar (which has its own deadline, `dapr::PUBLISH_TIMEOUT`).

use std::time::Duration;

use component_kit::dapr::{self, Sidecar};
use component_kit::deadline;
use notification_delivery::{Method, NotificationOutcome, OutboundRequest, ProviderResponse};
use spin_sdk::http::Request;

/// Deadline of one provider call (relay, FCM send, token endpoint).
pub const PROVIDER_TIMEOUT: Duration = Duration::from_secs(8);

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
pub enum OutcomePublishError {
    /// The outcome could not be serialised.
    #[error("outcome payload: {0}")]
    Payload(#[from] serde_json::Error),
    /// The sidecar refused the publish, could not be reached or did not
    /// answer in time.
    #[error(transparent)]
    Sidecar(#[from] dapr::PublishError),
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
    match deadline::within(PROVIDER_TIMEOUT, component_kit::outbound::send(outgoing)).await {
        Some(Ok(response)) => Ok(ProviderResponse {
            status: *response.status(),
            headers: response
                .headers()
                .map(|(name, value)| (name.to_owned(), value.as_str().unwrap_or("").to_owned()))
                .collect(),
            body: response.into_body(),
        }),
        Some(Err(e)) => Err(CallError::Failed {
            host,
            detail: e.to_string(),
        }),
        None => Err(CallError::TimedOut { host }),
    }
}

/// Publishes `outcome` to its topic; the delivery id is the CloudEvent id,
/// so a re-publish is recognisably the same event.
pub async fn publish(
    sidecar: &Sidecar,
    outcome: &NotificationOutcome,
    traceparent: Option<&str>,
) -> Result<(), OutcomePublishError> {
    let payload = serde_json::to_value(outcome)?;
    sidecar
        .publish(
            NotificationOutcome::TOPIC,
            &outcome.cloudevent_id(),
            outcome.event_type(),
            &payload,
            traceparent,
        )
        .await?;
    Ok(())
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
