//! Outbound HTTP calls: every request a component makes (providers, the
//! Dapr sidecar) goes through [`call`], which continues the trace, sends the
//! request in one piece and gives up at a deadline.
//!
//! **Deadline.** Spin's `send` has no timeout of its own, and Dapr gives a
//! delivery 30 s before it redelivers: a hung provider or sidecar must
//! become a transient failure (RETRY) well before that, not a handler still
//! blocked when the redelivery arrives. The deadline is a `wasi:clocks`
//! monotonic-clock pollable registered with Spin's executor
//! (`spin_executor::run` drives futures by polling WASI pollables), raced
//! against the call; dropping the losing call cancels it and releases its
//! pollables.
//!
//! **One piece.** spin-sdk 5.2's `send` hands the request head to the host
//! first and writes the body afterwards, so Spin's hyper client sometimes
//! writes the head alone and the body in a second, small write, which Nagle
//! holds until the peer's delayed ACK (~40 ms; measured on the sidecar
//! publish, bench/FINDINGS.md). Written and finished first, with
//! `content-length`, the request leaves in one write. The same reasoning as
//! [`crate::serve::send`], on the client side.

use std::future::Future;
use std::pin::{pin, Pin};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::{select, Either};
use spin_executor::CancelOnDropToken;
use spin_sdk::http::conversions::TryIntoOutgoingRequest;
use spin_sdk::http::{OutgoingBody, OutgoingRequest, Response, SendError};
use wasi::clocks::monotonic_clock;
use wasi::io::streams::OutputStream;

/// An outbound call that produced no answer. Descriptions carry no secrets
/// and no ids: the URL's `scheme://host[:port]` and Spin's error only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The host refused or lost the request.
    #[error("request to {host} failed: {detail}")]
    Failed {
        /// `scheme://host[:port]` of the URL.
        host: String,
        /// Spin's description of the failure.
        detail: String,
    },
    /// No answer within the deadline.
    #[error("request to {host} timed out after {}s", limit.as_secs())]
    TimedOut {
        /// `scheme://host[:port]` of the URL.
        host: String,
        /// The deadline that passed.
        limit: Duration,
    },
}

/// Sends `request` with the `traceparent` it continues (when valid), and
/// answers within `limit`: the response, or why there is none.
pub async fn call(
    mut request: http::Request<Vec<u8>>,
    traceparent: Option<&str>,
    limit: Duration,
) -> Result<http::Response<Vec<u8>>, CallError> {
    let uri = request.uri();
    let host = match (uri.scheme_str(), uri.authority()) {
        (Some(scheme), Some(authority)) => format!("{scheme}://{authority}"),
        _ => String::from("(no host)"),
    };
    dapr_pubsub::trace::forward(request.headers_mut(), traceparent);
    let failed = |detail: String| CallError::Failed {
        host: host.clone(),
        detail,
    };
    match within(limit, send(request)).await {
        Some(Ok(response)) => Ok(into_http(response)),
        Some(Err(e @ SendError::Io(_))) => Err(failed(format!(
            "{e} (the host closed the request body: it refused or dropped the request, \
             e.g. HttpRequestDenied when {host} is not in allowed_outbound_hosts)"
        ))),
        Some(Err(e)) => Err(failed(e.to_string())),
        None => Err(CallError::TimedOut { host, limit }),
    }
}

/// Spin's response as an `http` response (headers Spin cannot represent
/// as `http` values are left out).
fn into_http(response: Response) -> http::Response<Vec<u8>> {
    let mut out = http::Response::new(Vec::new());
    *out.status_mut() =
        http::StatusCode::from_u16(*response.status()).unwrap_or(http::StatusCode::BAD_GATEWAY);
    for (name, value) in response.headers() {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::try_from(name),
            http::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            out.headers_mut().append(name, value);
        }
    }
    *out.body_mut() = response.into_body();
    out
}

/// `call`'s output, or `None` when `limit` passed first.
async fn within<F: Future>(limit: Duration, call: F) -> Option<F::Output> {
    match select(pin!(call), Deadline::after(limit)).await {
        Either::Left((output, _)) => Some(output),
        Either::Right(_) => None,
    }
}

/// Sends `request` with its whole body written and finished before the host
/// gets the request. The host (wasmtime-wasi-http 42, Spin 3.6.3's
/// defaults) buffers up to 1 MiB before anyone reads; what `check-write`
/// does not grant before the send is written while the send is under way.
/// The head goes to the host through spin-sdk's own conversion of an
/// `http` request; the answer comes back as Spin's `Response` (spin-sdk's
/// conversion into an `http` response panics on a header it cannot hold,
/// [`into_http`] leaves such a header out).
async fn send(request: http::Request<Vec<u8>>) -> Result<Response, SendError> {
    let (mut head, body) = request.into_parts();
    head.headers.insert(
        http::header::CONTENT_LENGTH,
        http::HeaderValue::from(body.len()),
    );
    let (outgoing, _) = http::Request::from_parts(head, Vec::new())
        .try_into_outgoing_request()
        .map_err(|e| SendError::RequestConversion(e.into()))?;
    let (stream, handle) = writer(&outgoing)?;
    let mut rest: &[u8] = &body;
    while !rest.is_empty() {
        let granted = match stream.check_write() {
            Ok(0) => break,
            Ok(n) => usize::try_from(n).unwrap_or(usize::MAX).min(rest.len()),
            Err(e) => return Err(SendError::Io(e)),
        };
        let (now, later) = rest.split_at(granted);
        stream.write(now).map_err(SendError::Io)?;
        rest = later;
    }
    if rest.is_empty() {
        drop(stream);
        OutgoingBody::finish(handle, None).map_err(SendError::Http)?;
        return spin_sdk::http::send(outgoing).await;
    }
    // `join` polls the send first, so the host has the request (and reads
    // the body) before the rest is waited for.
    let (response, written) = futures::join!(
        spin_sdk::http::send::<_, Response>(outgoing),
        write_rest(stream, handle, rest)
    );
    let response = response?;
    written.map(|()| response)
}

/// The request's body resource and its stream.
fn writer(outgoing: &OutgoingRequest) -> Result<(OutputStream, OutgoingBody), SendError> {
    let conversion = |what: &str| SendError::RequestConversion(what.to_owned().into());
    let handle = outgoing
        .body()
        .map_err(|()| conversion("request body already taken"))?;
    let stream = handle
        .write()
        .map_err(|()| conversion("request body stream already taken"))?;
    Ok((stream, handle))
}

/// Writes `rest` as the host grants room, then finishes the body.
async fn write_rest(
    stream: OutputStream,
    handle: OutgoingBody,
    mut rest: &[u8],
) -> Result<(), SendError> {
    while !rest.is_empty() {
        match stream.check_write().map_err(SendError::Io)? {
            0 => writable(&stream).await,
            n => {
                let granted = usize::try_from(n).unwrap_or(usize::MAX).min(rest.len());
                let (now, later) = rest.split_at(granted);
                stream.write(now).map_err(SendError::Io)?;
                rest = later;
            }
        }
    }
    drop(stream);
    OutgoingBody::finish(handle, None).map_err(SendError::Http)
}

/// Ready when `stream` accepts a write (or is closed), through Spin's
/// executor like the deadline's timer.
fn writable(stream: &OutputStream) -> Writable<'_> {
    Writable {
        stream,
        registration: None,
    }
}

/// See [`writable`]; dropping it unregisters its pollable.
struct Writable<'a> {
    stream: &'a OutputStream,
    registration: Option<CancelOnDropToken>,
}

impl Future for Writable<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let pollable = self.stream.subscribe();
        if pollable.ready() {
            self.registration = None;
            return Poll::Ready(());
        }
        let token = spin_executor::push_waker_and_get_token(pollable, cx.waker().clone());
        self.registration = Some(token.into());
        Poll::Pending
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

/// Runs `calls` with at most `limit` in flight at once and answers their
/// results in the order given: how a bulk request makes its provider
/// calls and publishes concurrently without asking one host for an
/// unbounded number of connections.
pub async fn bounded<F: Future>(
    calls: impl IntoIterator<Item = F>,
    limit: usize,
) -> Vec<F::Output> {
    use futures::stream::StreamExt;
    futures::stream::iter(calls)
        .buffered(limit.max(1))
        .collect()
        .await
}

#[cfg(test)]
mod tests;
