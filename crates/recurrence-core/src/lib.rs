//! What the Recurring Task Service decides, without the I/O: the
//! `task.completed` payload ([`payload`]), the next occurrence of a
//! completed task and its `task.created` payload ([`next_task`]), and the
//! preview route's query ([`preview`]), over the `recurrence-rules`
//! engine. The `recurrence` component routes, runs the SQL and publishes;
//! every rule it applies is here, tested natively, the same shape as
//! `notification-core` for the Notification Service.

pub mod next_task;
pub mod payload;
pub mod preview;
