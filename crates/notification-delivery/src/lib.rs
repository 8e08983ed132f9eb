//! Pure delivery policy of the Notification Service.
//!
//! Everything the `notification` component decides, without the I/O: it
//! describes provider requests ([`OutboundRequest`]) and classifies provider
//! responses ([`ProviderResponse`]), so the Spin component is a thin adapter
//! that performs the HTTP calls and the SQL. No Spin, no clocks, no sockets:
//! the current time is always a parameter, which keeps every rule unit-testable
//! natively and identical on `wasm32-wasip2`.
//!
//! Map of the crate:
//! - [`events`]: `reminder.due` validation (DROP reasons) and the
//!   `notification.sent` / `notification.failed` payload.
//! - [`keys`]: business key → delivery id (UUID v5) and reminder id.
//! - [`policy`]: statuses, failure reason codes, attempt budget.
//! - [`content`]: subject and bodies, due time in the subscriber's zone.
//! - [`email`]: Resend / SendGrid / Mailpit adapters behind [`EmailAdapter`].
//! - [`fcm`]: FCM HTTP v1 message, error classification, OAuth2 JWT flow.
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

pub mod channel;
pub mod config;
pub mod content;
pub mod email;
pub mod events;
pub mod fcm;
pub mod http;
pub mod keys;
pub mod mask;
pub mod outcome;
pub mod policy;
pub mod retry_after;

pub use channel::Channel;
pub use config::ConfigError;
pub use content::{render_reminder, ReminderContent};
pub use email::{EmailAdapter, EmailMessage, EmailOutcome, EmailProvider, RelayConfig};
pub use events::{EventError, NotificationOutcome, RejectReason, ReminderDue};
pub use fcm::{AccessToken, FcmConfig, PushMessage, PushOutcome, ServiceAccount, TokenError};
pub use http::{Method, OutboundRequest, ProviderResponse};
pub use keys::{reminder_id, BusinessKey};
pub use mask::{mask_email, mask_token};
pub use outcome::{Permanent, Transient};
pub use policy::{
    AfterTransient, AttemptPolicy, AttemptResult, DeliveryStatus, NextStep, ReasonCode, Settlement,
};
