//! What every component of this app does the same way on Spin: check the
//! caller, answer in JSON, read variables, talk to Postgres and the Dapr
//! sidecar, and log one structured line per outcome.
//!
//! Each module is one capability, used by every component that needs it.

pub mod dapr;
pub mod db;
pub mod log;
pub mod outbound;
pub mod pg_url;
pub mod readiness;
pub mod serve;
pub mod vars;
