//! A timer future for Spin's executor: ready once a monotonic-clock instant
//! has passed.
//!
//! Spin's executor (`spin_executor::run`) drives futures by polling WASI
//! pollables; a `wasi:clocks/monotonic-clock` subscription is one, so racing
//! it against an outbound call (`futures::future::select`) bounds the call.
//! Dropping the losing call cancels it (its pollables are released).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use spin_executor::CancelOnDropToken;
use wasi::clocks::monotonic_clock;

/// Ready at a fixed monotonic instant.
pub struct Deadline {
    at: u64,
    /// The pollable registered by the last pending poll; dropping it
    /// unregisters it, so a finished deadline leaves nothing behind.
    registration: Option<CancelOnDropToken>,
}

impl Deadline {
    /// A deadline `after` from now.
    pub fn after(after: Duration) -> Self {
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
