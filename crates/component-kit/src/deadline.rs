//! A deadline for outbound calls, shared by every component.
//!
//! Spin's `send` has no timeout of its own, and Dapr gives a delivery 30 s
//! before it redelivers: a hung provider or sidecar must become a transient
//! failure (RETRY) well before that, not a handler still blocked when the
//! redelivery arrives. The deadline is a `wasi:clocks` monotonic-clock
//! pollable registered with Spin's executor (`spin_executor::run` drives
//! futures by polling WASI pollables), raced against the call; dropping the
//! losing call cancels it and releases its pollables.

use std::future::Future;
use std::pin::{pin, Pin};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::{select, Either};
use spin_executor::CancelOnDropToken;
use wasi::clocks::monotonic_clock;

/// `call`'s output, or `None` when `limit` passed first.
pub async fn within<F: Future>(limit: Duration, call: F) -> Option<F::Output> {
    match select(pin!(call), Deadline::after(limit)).await {
        Either::Left((output, _)) => Some(output),
        Either::Right(_) => None,
    }
}

/// Ready at a fixed monotonic instant.
struct Deadline {
    at: u64,
    /// The pollable registered by the last pending poll; dropping it
    /// unregisters it, so a finished deadline leaves nothing behind.
    registration: Option<CancelOnDropToken>,
}

impl Deadline {
    fn after(after: Duration) -> Self {
        let nanos = u64::try_from(after.as_nanos()).unwrap_or(u64::MAX);
        Deadline {
            at: monotonic_clock::now().saturating_add(nanos),
            registration: None,
        }
    }
}

impl Future for Deadline {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if monotonic_clock::now() >= self.at {
            self.registration = None;
            return Poll::Ready(());
        }
        let pollable = monotonic_clock::subscribe_instant(self.at);
        let token = spin_executor::push_waker_and_get_token(pollable, cx.waker().clone());
        self.registration = Some(token.into());
        Poll::Pending
    }
}
