//! The recording HTTP/1.1 server every fake is built on.
//!
//! Each fake is a real server on `127.0.0.1:0`, so the component under test
//! reaches it through Spin's outbound HTTP exactly as it would reach the real
//! service. The server records every request (method, path and query, headers,
//! body), answers through a fake-specific [`Handler`], and can be scripted to
//! answer the next requests with canned failures, to drop the connection, or
//! to answer slowly.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::{anyhow, Context as _};
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};

/// One request as the fake received it, and what the fake answered.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: Method,
    /// Path as received (still percent-encoded).
    pub path: String,
    /// Raw query string, without the `?`.
    pub query: Option<String>,
    /// Request headers.
    pub headers: HeaderMap,
    /// Request body.
    pub body: Bytes,
    /// Status the fake answered; `None` while the request is being handled, or
    /// when the connection was dropped on purpose ([`Fault::Disconnect`]).
    pub answered: Option<StatusCode>,
    /// True when a scripted fault answered instead of the fake's own logic.
    pub scripted: bool,
}

impl RecordedRequest {
    /// Path and query as they appeared on the request line.
    pub fn path_and_query(&self) -> String {
        match &self.query {
            Some(q) => format!("{}?{q}", self.path),
            None => self.path.clone(),
        }
    }

    /// First value of a header, if present and valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The body as (lossy) UTF-8 text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Decoded `application/x-www-form-urlencoded` query pairs, in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        self.query
            .as_deref()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// First decoded value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// The bearer token of the `Authorization` header, if it has that form.
    pub fn bearer_token(&self) -> Option<&str> {
        let value = self.header("authorization")?;
        let (scheme, token) = value.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim())
            .filter(|t| !t.is_empty())
    }
}

/// A complete HTTP answer: what a fake (or a scripted fault) sends back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CannedResponse {
    /// Status code.
    pub status: StatusCode,
    /// Headers, in order (names are case-insensitive on the wire).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Bytes,
}

impl CannedResponse {
    /// An answer with no body and no headers.
    pub fn empty(status: u16) -> Self {
        Self {
            status: status_code(status),
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// A JSON answer (`Content-Type: application/json`).
    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Self::empty(status)
            .with_header("content-type", "application/json")
            .with_body(value.to_string())
    }

    /// A plain-text answer.
    pub fn text(status: u16, text: &str) -> Self {
        Self::empty(status)
            .with_header("content-type", "text/plain; charset=utf-8")
            .with_body(text.to_owned())
    }

    /// An HTML answer, like the error pages of load balancers and proxies.
    pub fn html(status: u16, html: &str) -> Self {
        Self::empty(status)
            .with_header("content-type", "text/html; charset=UTF-8")
            .with_body(html.to_owned())
    }

    /// The same answer with one more header.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The same answer with another body.
    pub fn with_body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// First value of a header of this answer.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or_else(|_| panic!("invalid HTTP status {status}"))
}

/// What a scripted failure does to one request.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this response instead of the fake's normal answer.
    Respond(CannedResponse),
    /// Close the connection without answering (a transport error for the client).
    Disconnect,
}

/// Computes a fake's normal answer to a request. It runs with the request
/// already recorded, under no lock of the server's.
pub type Handler = Arc<dyn Fn(&RecordedRequest) -> CannedResponse + Send + Sync>;

#[derive(Debug)]
struct Script {
    remaining: usize,
    path_prefix: Option<String>,
    fault: Fault,
}

struct Shared {
    name: &'static str,
    handler: Handler,
    requests: Mutex<Vec<RecordedRequest>>,
    scripts: Mutex<VecDeque<Script>>,
    delay: Mutex<Option<Duration>>,
    arrived: Notify,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking test thread must not make every later assertion panic too.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running recording server. Dropping it stops the server and closes its
/// connections.
pub struct FakeServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

impl std::fmt::Debug for FakeServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeServer")
            .field("name", &self.shared.name)
            .field("addr", &self.addr)
            .finish()
    }
}

impl FakeServer {
    /// Starts a server on `127.0.0.1:0` on the current tokio runtime;
    /// `handler` computes the normal answers. `name` appears in error messages.
    pub async fn start(name: &'static str, handler: Handler) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .with_context(|| format!("{name}: binding 127.0.0.1:0"))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            name,
            handler,
            requests: Mutex::new(Vec::new()),
            scripts: Mutex::new(VecDeque::new()),
            delay: Mutex::new(None),
            arrived: Notify::new(),
        });
        let accept = tokio::spawn(accept_loop(listener, shared.clone()));
        Ok(Self {
            addr,
            shared,
            accept,
        })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash: what goes into a
    /// variable such as `email_relay_base` or `fcm_api_base`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port the server listens on (for `dapr_http_port`).
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// The requests whose path starts with `prefix`.
    pub fn requests_to(&self, prefix: &str) -> Vec<RecordedRequest> {
        lock(&self.shared.requests)
            .iter()
            .filter(|r| r.path.starts_with(prefix))
            .cloned()
            .collect()
    }

    /// How many requests arrived so far.
    pub fn request_count(&self) -> usize {
        lock(&self.shared.requests).len()
    }

    /// Forgets the recorded requests (scripted faults stay).
    pub fn clear_requests(&self) {
        lock(&self.shared.requests).clear();
    }

    /// Answers the next `n` requests with `status`, `headers` and `body`
    /// instead of the normal answer.
    pub fn fail_next(
        &self,
        n: usize,
        status: u16,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) {
        let mut response = CannedResponse::empty(status).with_body(body);
        for (k, v) in headers {
            response = response.with_header(k, v);
        }
        self.fail_next_with(n, Fault::Respond(response));
    }

    /// Applies `fault` to the next `n` requests, whatever their path.
    pub fn fail_next_with(&self, n: usize, fault: Fault) {
        self.push_script(None, n, fault);
    }

    /// Applies `fault` to the next `n` requests whose path starts with
    /// `path_prefix`; other requests are answered normally meanwhile.
    pub fn fail_next_on(&self, path_prefix: &str, n: usize, fault: Fault) {
        self.push_script(Some(path_prefix.to_owned()), n, fault);
    }

    fn push_script(&self, path_prefix: Option<String>, n: usize, fault: Fault) {
        if n > 0 {
            lock(&self.shared.scripts).push_back(Script {
                remaining: n,
                path_prefix,
                fault,
            });
        }
    }

    /// How many scripted faults are still waiting for a request.
    pub fn pending_faults(&self) -> usize {
        lock(&self.shared.scripts).iter().map(|s| s.remaining).sum()
    }

    /// Drops every scripted fault not yet used.
    pub fn clear_faults(&self) {
        lock(&self.shared.scripts).clear();
    }

    /// Waits this long before answering each request (`None`: answer at once).
    /// Used to provoke the client's timeouts.
    pub fn set_delay(&self, delay: Option<Duration>) {
        *lock(&self.shared.delay) = delay;
    }

    /// Waits until at least `n` requests have arrived (answered or not), and
    /// returns them; fails after `timeout`.
    pub async fn wait_for_requests(
        &self,
        n: usize,
        timeout: Duration,
    ) -> anyhow::Result<Vec<RecordedRequest>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.arrived.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let requests = lock(&self.shared.requests);
                if requests.len() >= n {
                    return Ok(requests.clone());
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Err(anyhow!(
                    "{}: expected {n} requests within {timeout:?}, got {}",
                    self.shared.name,
                    self.request_count()
                ));
            }
        }
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        // Aborting the accept task drops its JoinSet, which aborts every
        // connection task.
        self.accept.abort();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let shared = shared.clone();
                connections.spawn(async move {
                    let service = service_fn(move |req| handle(shared.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// Error that makes hyper close the connection without an answer.
#[derive(Debug)]
struct Disconnect;

impl std::fmt::Display for Disconnect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("scripted disconnect")
    }
}

impl std::error::Error for Disconnect {}

async fn handle(
    shared: Arc<Shared>,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Disconnect> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let mut recorded = RecordedRequest {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
        answered: None,
        scripted: false,
    };
    let fault = take_fault(&shared, &recorded.path);
    let index = {
        let mut requests = lock(&shared.requests);
        requests.push(recorded.clone());
        requests.len() - 1
    };
    shared.arrived.notify_waiters();

    let delay = *lock(&shared.delay);
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let answer = match fault {
        Some(Fault::Disconnect) => {
            lock(&shared.requests)[index].scripted = true;
            return Err(Disconnect);
        }
        Some(Fault::Respond(canned)) => {
            recorded.scripted = true;
            canned
        }
        None => (shared.handler)(&recorded),
    };
    {
        let mut requests = lock(&shared.requests);
        requests[index].answered = Some(answer.status);
        requests[index].scripted = recorded.scripted;
    }
    Ok(to_response(answer))
}

fn take_fault(shared: &Shared, path: &str) -> Option<Fault> {
    let mut scripts = lock(&shared.scripts);
    let pos = scripts.iter().position(|s| {
        s.path_prefix
            .as_deref()
            .is_none_or(|prefix| path.starts_with(prefix))
    })?;
    let script = &mut scripts[pos];
    script.remaining -= 1;
    let fault = script.fault.clone();
    if script.remaining == 0 {
        scripts.remove(pos);
    }
    Some(fault)
}

fn to_response(canned: CannedResponse) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::new(Full::new(canned.body));
    *response.status_mut() = canned.status;
    for (name, value) in canned.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

/// Decodes `%XX` escapes of a URL path segment (no `+` handling: that is a
/// form-encoding rule, not a path rule).
pub fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
