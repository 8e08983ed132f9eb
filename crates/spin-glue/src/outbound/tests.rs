use std::cell::Cell;

use super::bounded;

/// Pending once, asking to be polled again.
async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            return std::task::Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    })
    .await
}

/// Results come back in the order given, and never more than `limit`
/// calls are in flight at once.
#[test]
fn bounded_keeps_the_order_and_the_limit() {
    let in_flight = Cell::new(0usize);
    let most = Cell::new(0usize);
    let calls = (0..40u64).map(|n| {
        let (in_flight, most) = (&in_flight, &most);
        async move {
            in_flight.set(in_flight.get() + 1);
            most.set(most.get().max(in_flight.get()));
            // Yield a few times so other calls get polled meanwhile.
            for _ in 0..(n % 3 + 1) {
                yield_now().await;
            }
            in_flight.set(in_flight.get() - 1);
            n * 2
        }
    });
    let out = futures::executor::block_on(bounded(calls, 8));
    assert_eq!(out, (0..40u64).map(|n| n * 2).collect::<Vec<_>>());
    assert_eq!(most.get(), 8);
}
