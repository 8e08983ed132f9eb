//! Publishing through the sidecar's `/v1.0/publish`.

use dapr_pubsub::{publish_request, publish_succeeded, OutgoingEvent};

use crate::outbound::{self, CallError};
use crate::vars;

/// Deadline of one publish to the sidecar (Dapr's own publish timeout is 5 s).
pub const PUBLISH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// A publish the sidecar did not accept: a transient fault (answer RETRY).
/// It serialises as its description, so it can go into a log line as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// The payload could not be serialised.
    #[error("publish payload: {0}")]
    Payload(String),
    /// The sidecar settings cannot form a request (`dapr_http_port` or
    /// `dapr_api_token` has characters HTTP refuses).
    #[error("publish request to the sidecar could not be built: {0}")]
    Request(String),
    /// No answer: refused, lost or past [`PUBLISH_TIMEOUT`].
    #[error("publish to the sidecar: {0}")]
    Call(#[from] CallError),
    /// The sidecar answered something other than 204.
    #[error("sidecar answered {status} to publish on {topic}")]
    Refused {
        /// The HTTP status it answered.
        status: u16,
        /// The topic of the publish.
        topic: String,
    },
}

impl serde::Serialize for PublishError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The sidecar's publish settings (`dapr_http_port`, `pubsub_name`,
/// `dapr_api_token`), read once so that a request publishing several events
/// does not ask the host for the same variables again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sidecar {
    port: String,
    pubsub: String,
    token: String,
}

impl Sidecar {
    /// Reads the variables (with the manifest's defaults as fallback).
    pub fn from_vars() -> Self {
        Sidecar {
            port: vars::get_or("dapr_http_port", "3500"),
            pubsub: vars::get_or("pubsub_name", "kafka-pubsub"),
            token: vars::get_or("dapr_api_token", ""),
        }
    }

    /// Publishes `payload` to `topic` through the sidecar, with a
    /// deterministic CloudEvent `id` and the incoming `traceparent` (when it
    /// is a valid W3C value). Any answer but 204, and no answer within
    /// [`PUBLISH_TIMEOUT`], is a transient fault.
    pub async fn publish(
        &self,
        topic: &str,
        id: &str,
        event_type: &str,
        payload: &impl serde::Serialize,
        traceparent: Option<&str>,
    ) -> Result<(), PublishError> {
        let payload =
            serde_json::to_vec(payload).map_err(|e| PublishError::Payload(e.to_string()))?;
        let event = OutgoingEvent {
            pubsub: &self.pubsub,
            topic,
            id,
            event_type,
        };
        let request = publish_request(&self.port, event, payload, &self.token)
            .map_err(|e| PublishError::Request(e.to_string()))?;
        let response = outbound::call(request, traceparent, PUBLISH_TIMEOUT).await?;
        let status = response.status().as_u16();
        if publish_succeeded(status) {
            Ok(())
        } else {
            Err(PublishError::Refused {
                status,
                topic: topic.to_owned(),
            })
        }
    }
}
