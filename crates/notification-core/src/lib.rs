//! The decisions of the Notification Service, without the I/O.
//!
//! The `notification` component is the imperative shell: it routes
//! requests, runs the SQL and performs the HTTP calls (providers, Dapr
//! sidecar). Everything it decides is here: which deliveries a reminder
//! consists of, what a claim means, how a provider's answer settles a
//! delivery, the rows and outcome events that follow, the log line and the
//! answer to Dapr ([`delivery`]); how provider requests look and how their
//! answers read ([`email`], [`fcm`]). The subscriber API's rules are the
//! `notification-api` crate's. No Spin, no clocks, no sockets: the current time is always a
//! parameter, which keeps every rule unit-testable natively and identical
//! on `wasm32-wasip2`.
//!
//! Map of the crate:
//! - [`delivery`]: one `reminder.due` from lookup to answer, around the
//!   [`Delivery`] value that carries each delivery through the handler.
//! - [`batch`]: the reminders of one Dapr request (single or bulk) as one
//!   set: one lookup, claim and record for all, each key once.
//! - [`events`]: `reminder.due` validation (DROP reasons) and the
//!   `notification.sent` / `notification.failed` payload.
//! - [`keys`]: channels, business key → delivery id (UUID v5) and
//!   reminder id, recipient masking for logs.
//! - [`policy`]: what a provider call amounted to ([`Attempt`]), statuses,
//!   failure reason codes, attempt budget, settlement.
//! - [`settings`]: the Spin variables interpreted, and the secrets scrubbed
//!   from logs; [`config_error`]: why a variable cannot be used.
//! - [`content`]: subject and bodies, due time in the subscriber's zone.
//! - [`email`]: Resend / SendGrid / Mailpit adapters behind [`EmailAdapter`].
//! - [`fcm`]: FCM HTTP v1 message, error classification, OAuth2 JWT flow.
//! - [`provider_http`]: provider calls as `http` requests and responses,
//!   and the rules for reading any provider's answer.

pub mod batch;
pub mod config_error;
pub mod content;
pub mod delivery;
pub mod email;
pub mod events;
pub mod fcm;
pub mod keys;
pub mod policy;
pub mod provider_http;
pub mod settings;

pub use config_error::ConfigError;
pub use content::{render_reminder, ReminderContent};
pub use delivery::{Delivery, Step};
pub use email::{EmailAdapter, EmailMessage, EmailProvider, RelayConfig};
pub use events::{EventError, NotificationOutcome, PayloadFault, ReminderDue};
pub use fcm::{AccessToken, FcmConfig, PushMessage, ServiceAccount};
pub use keys::{mask_email, mask_token, reminder_id, BusinessKey, Channel};
pub use policy::{
    Attempt, AttemptPolicy, DeliveryStatus, Failure, ReasonCode, Settlement, Transient,
};
pub use provider_http::{ProviderRequest, ProviderResponse, RequestError};
pub use settings::{EventSettings, Secrets};
