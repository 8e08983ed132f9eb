//! The two ways a component meets the Dapr sidecar: answering its requests
//! (single or bulk, [`answer_events`]) and publishing through
//! `/v1.0/publish` ([`Sidecar`]).

mod answer;
mod sidecar;

pub use answer::{answer_events, Incoming, Outcome};
pub use sidecar::{PublishError, Sidecar, PUBLISH_TIMEOUT};
