//! Dapr pub/sub over HTTP, as the app side of a Dapr sidecar sees it.
//!
//! Plain Rust, no Spin: the components parse deliveries, answer them,
//! build publish requests, check `traceparent` values and apply the
//! event rules both services share (event times, user ids, the payload
//! field reader) through this crate (docs/CONTRACT.md, "Events" and "Dapr
//! behaviour"). The test host does not use it: its Dapr fake speaks the
//! wire format on its own, so the end-to-end tests check this crate against
//! an independent reading.

pub mod api_error;
pub mod delivery;
pub mod epoch_micros;
pub mod payload;
pub mod publish;
pub mod rejection;
pub mod subscription;
pub mod trace;

pub use api_error::ApiError;
pub use delivery::{
    parse_delivery, AppStatus, BulkResponse, CloudEvent, DeliveryBody, DeliveryEntry, EntryStatus,
};
pub use payload::{parse_event_time, EventTimeError, FieldError, Fields};
pub use publish::{publish_request, publish_succeeded, OutgoingEvent};
pub use rejection::{RejectReason, RejectedEvent};
pub use subscription::{subscriptions_for, BulkSubscribe, Subscription, UnknownService};
