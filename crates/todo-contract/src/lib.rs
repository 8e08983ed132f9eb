//! The outside of the product that more than one crate speaks
//! (docs/CONTRACT.md): the error every HTTP API route answers with
//! ([`ApiError`]), why an event was dropped and the row kept of it
//! ([`RejectReason`], [`RejectedEvent`]), the field rules every event
//! payload follows ([`payload`]), the text forms of instants ([`utc`]), and the values of the delivery log's
//! columns ([`Channel`], [`DeliveryStatus`]).
//!
//! Plain Rust, no Spin. Every wire name is spelled once, in a
//! [`wire_names!`] list, which gives the enum its text form both ways, its
//! serde form and the list metrics use for its label values.

#[doc(hidden)]
pub mod wire;

pub mod api_error;
pub mod delivery_log;
pub mod payload;
pub mod rejection;
pub mod utc;

pub use api_error::ApiError;
pub use delivery_log::{Channel, DeliveryStatus};
pub use payload::{parse_event_time, EventTimeError, FieldError, Fields};
pub use rejection::{truncate_utf8, RejectReason, RejectedEvent, MAX_KEPT_PAYLOAD};
pub use wire::UnknownName;

/// What a secret, or a recipient a provider echoes back, is replaced by in
/// every log line, API answer and `Debug` output: one marker, so a search
/// for it finds every redaction.
pub const REDACTED: &str = "[redacted]";

#[doc(hidden)]
pub use serde as __serde;
