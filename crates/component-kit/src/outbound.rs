//! Outbound HTTP requests sent in one piece.
//!
//! spin-sdk 5.2's `send` hands the request head to the host first and
//! writes the body afterwards, so Spin's hyper client sometimes writes the
//! head alone and the body in a second, small write, which Nagle holds until
//! the peer's delayed ACK (~40 ms; measured on the sidecar publish,
//! bench/FINDINGS.md). Written and finished first, with `content-length`,
//! the request leaves in one write. The same reasoning as
//! [`crate::respond::send`], on the client side.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use spin_executor::CancelOnDropToken;
use spin_sdk::http::conversions::TryIntoOutgoingRequest;
use spin_sdk::http::{OutgoingBody, OutgoingRequest, Request, Response, SendError};
use wasi::io::streams::OutputStream;

/// Sends `request` with its whole body written and finished before the host
/// gets the request. The host (wasmtime-wasi-http 42, Spin 3.6.3's
/// defaults) buffers up to 1 MiB before anyone reads; what `check-write`
/// does not grant before the send is written while the send is under way.
pub async fn send(mut request: Request) -> Result<Response, SendError> {
    let body = std::mem::take(request.body_mut());
    request.set_header("content-length", body.len().to_string());
    let (outgoing, _) = request
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
/// executor like `deadline`'s timer.
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
