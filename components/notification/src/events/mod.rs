//! The event path of the Notification Service: `POST /events/reminders`
//! (Dapr requests of `reminder.due`, single or bulk) and `POST
//! /outbox-flush` (re-publishing outcome events).
//!
//! Each channel of a reminder reaches each recipient exactly once: the
//! business key `(task_id, remind_at, channel, recipient)` is claimed with
//! a compare-and-set and a lease before any provider call (`store::claim`), and
//! the outcome is written with that lease. What every result means is
//! decided in `notification_core::delivery`; the files here do the I/O:
//! - [`reminder`]: `POST /events/reminders`, the reminders of one
//!   Dapr request (single or bulk) end to end, as one set, in named steps;
//! - [`outcomes`]: publishing outcome events, one (outbox) or all of a
//!   set (reminders);
//! - [`providers`]: their e-mail and push calls, concurrent within bounds
//!   and deadlines (through `spin_glue::outbound`);
//! - [`store`]: the three SQL round trips of a request (lookup, claim,
//!   record), whatever the number of reminders in it;
//! - [`outbox`]: `POST /outbox-flush`.
//!
//! No input may panic: a trap is an HTTP 500, which Dapr retries forever
//! (the workspace lints deny the constructs that can, outside tests).

pub mod outbox;
mod outcomes;
mod providers;
pub mod reminder;
mod store;
