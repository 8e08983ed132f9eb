//! Faithful fakes of the services the components call but that cannot run
//! here: the Dapr sidecar (and daprd's delivery to the app), an e-mail relay
//! (Resend, SendGrid, Mailpit APIs) and Firebase Cloud Messaging with
//! Google's OAuth2 token endpoint.
//!
//! Each fake is a real HTTP/1.1 server on `127.0.0.1:0` ([`server`]), records
//! what it received, answers like the real service's documented contract, and
//! can be told to fail.

pub mod dapr;
pub mod email;
pub mod fcm;
pub mod server;

pub use dapr::{AppStatus, DaprDriver, DeliverOptions, FakeSidecar};
pub use email::{Email, FakeEmailRelay, Provider, RelayFailure};
pub use fcm::{FakeFcm, Push, TestServiceAccount};
pub use server::{CannedResponse, FakeServer, Fault, RecordedRequest};
