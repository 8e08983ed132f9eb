//! The decisions of the Notification Service, without the I/O.
//!
//! The `notification` component is the imperative shell: it routes
//! requests, runs the SQL and performs the HTTP calls (providers, Dapr
//! sidecar). Everything it decides is here: which deliveries a reminder
//! consists of, what a claim means, how a provider's answer settles a
//! delivery, the rows and outcome events that follow, the log line and the
//! answer to Dapr ([`delivery`]); how provider requests look and how their
//! answers read ([`email`], [`fcm`]); and the subscriber API's input rules
//! ([`api`]). No Spin, no clocks, no sockets: the current time is always a
//! parameter, which keeps every rule unit-testable natively and identical
//! on `wasm32-wasip2`.
//!
//! Map of the crate:
//! - [`delivery`]: one `reminder.due` from lookup to answer, around the
//!   [`Delivery`] value that carries each delivery through the handler.
//! - [`events`]: `reminder.due` validation (DROP reasons) and the
//!   `notification.sent` / `notification.failed` payload.
//! - [`keys`]: business key → delivery id (UUID v5) and reminder id.
//! - [`policy`]: statuses, failure reason codes, attempt budget, settlement.
//! - [`attempt`]: what one provider call amounted to ([`Attempt`]).
//! - [`content`]: subject and bodies, due time in the subscriber's zone.
//! - [`email`]: Resend / SendGrid / Mailpit adapters behind [`EmailAdapter`].
//! - [`fcm`]: FCM HTTP v1 message, error classification, OAuth2 JWT flow.
//! - [`api`]: paths, bodies, query strings and cursors of the subscriber API.
//! - [`mask`]: recipient masking for logs.

#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod api;
pub mod attempt;
pub mod channel;
pub mod content;
pub mod delivery;
pub mod email;
pub mod events;
pub mod fcm;
pub mod http;
pub mod keys;
pub mod mask;
pub mod policy;
pub mod retry_after;
pub mod secrets;
pub mod settings;

pub use attempt::{Attempt, Failure, Transient};
pub use channel::Channel;
pub use content::{render_reminder, ReminderContent};
pub use delivery::{Delivery, Step};
pub use email::{EmailAdapter, EmailMessage, EmailProvider, RelayConfig};
pub use events::{EventError, NotificationOutcome, PayloadFault, ReminderDue};
pub use fcm::{AccessToken, FcmConfig, PushMessage, ServiceAccount};
pub use http::{ProviderRequest, ProviderResponse, RequestError};
pub use keys::{reminder_id, BusinessKey};
pub use mask::{mask_email, mask_token};
pub use policy::{AttemptPolicy, DeliveryStatus, ReasonCode, Settlement};
pub use secrets::Secrets;
pub use settings::{ConfigError, EventSettings};
