//! Dapr pub/sub over HTTP, as the app side of a Dapr sidecar sees it.
//!
//! Plain Rust, no Spin: the components parse deliveries, answer them and
//! build publish requests through this crate, and the test host's Dapr fake
//! uses the same wire types, so both sides of the contract (CONTRACT.md,
//! sections 4 and 5) live in one place.

pub mod delivery;
pub mod publish;
pub mod rejection;
pub mod status;
pub mod subscription;
pub mod trace;

pub use delivery::{parse_delivery, CloudEvent, Delivery, DeliveryEntry};
pub use publish::{OutgoingEvent, PublishRequest};
pub use rejection::{RejectReason, RejectedEvent};
pub use status::{BulkResponse, DeliveryStatus, EntryStatus};
pub use subscription::{subscriptions_for, Subscription, UnknownService};
