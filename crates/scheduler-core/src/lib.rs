//! The reminder scheduler's decisions (docs/CONTRACT.md, "Scheduler") as plain Rust,
//! so they are tested natively and the `scheduler` component stays a thin
//! adapter over Postgres and the Dapr sidecar.
//!
//! - Instants travel as epoch microseconds (what the SQL hands over), with
//!   two text forms (through `jiff`): the fixed one the
//!   event id hashes, and RFC 3339 for payloads.
//! - [`reminder`]: one due reminder, its CloudEvent id and its payload.
//! - [`lateness`]: publish or skip (lateness), within the batch bound.
//! - [`tally`]: the tick's answer.
//! - [`settings`]: the scheduler's Spin variables, validated.
//! - [`retention`]: `POST /retention/prune`'s variables, ages and answer.

pub mod lateness;
pub mod reminder;
pub mod retention;
pub mod settings;
pub mod tally;

pub use lateness::{decide, split_page, Decision, PageSplit};
pub use reminder::{Due, REMINDER_DUE, TOPIC};
pub use settings::{InvalidSetting, Settings};
pub use tally::Tally;
