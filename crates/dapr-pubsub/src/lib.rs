//! Dapr pub/sub over HTTP and the CloudEvents 1.0 envelope, as the app side
//! of a Dapr sidecar sees them, and nothing of the product's own rules.
//!
//! Plain Rust, no Spin: what the sidecar POSTs to a subscription route,
//! parsed ([`inbound`]) and answered ([`AppStatus`], [`BulkResponse`]);
//! publish requests ([`publish`]); the programmatic subscription
//! ([`subscription`]); and W3C trace context ([`trace`]). The test host does not
//! use it: its Dapr fake speaks the wire format on its own, so the
//! end-to-end tests check this crate against an independent reading.

pub mod inbound;
pub mod publish;
pub mod subscription;
pub mod trace;

pub use inbound::{
    parse_inbound, AppStatus, BulkResponse, CloudEvent, EntryStatus, Fault, InboundBody,
    InboundEntry,
};
pub use publish::{publish_request, publish_succeeded, OutgoingEvent};
pub use subscription::{subscriptions_for, BulkSubscribe, Subscription, UnknownService};
