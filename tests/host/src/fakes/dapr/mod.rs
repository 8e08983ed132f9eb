//! Dapr, both directions: [`FakeSidecar`] is the sidecar's publish API the app
//! calls, [`DaprDriver`] plays daprd delivering topic events to the app.
//!
//! Behaviour mirrors the Dapr pub/sub API reference
//! (docs.dapr.io/reference/api/pubsub_api) and daprd's own sources where the
//! docs are silent (error codes and bodies, API-token middleware).

mod bulk;
mod driver;
mod sidecar;
mod subscription;

pub use bulk::{interpret_bulk_response, BulkEntry, BulkOptions, BulkPost};
pub use driver::{
    interpret_app_response, trace_id, AppStatus, DaprDriver, DeadLetter, DeadLetterReason,
    DeliverOptions, PostAttempt, SettledOutcome, Settlement, DEFAULT_EVENT_TYPE,
};
pub use sidecar::{FakeSidecar, Publish, SidecarConfig};
pub use subscription::{RouteRule, Routes, Subscription};
