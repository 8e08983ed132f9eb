//! The event path of the Notification Service: `POST /events/reminders`
//! (Dapr deliveries of `reminder.due`, single or bulk) and `POST
//! /outbox-flush` (re-publishing outcome events).
//!
//! Each channel of a reminder reaches each recipient exactly once: the
//! business key `(task_id, remind_at, channel, recipient)` is claimed with
//! a compare-and-set and a lease before any provider call (`store::claim`), and
//! the outcome is written with that lease. What every result means is
//! decided in `notification_delivery::delivery`; the files here do the I/O:
//! - [`reminder`]: `POST /events/reminders`, one event end to end (variables, provider calls through
//!   `component_kit::outbound`, publishes);
//! - [`store`]: its three SQL round trips (lookup, claim, record);
//! - [`outbox`]: `POST /outbox-flush`.
//!
//! No input may panic: a trap is an HTTP 500, which Dapr retries forever
//! (the workspace lints deny the constructs that can, outside tests).

pub mod outbox;
pub mod reminder;
mod store;
