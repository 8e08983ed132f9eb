//! A TCP forwarder on 127.0.0.1 in front of one test database: it can cut
//! all its connections at once (a PostgreSQL outage as the app sees it), and
//! it counts what the app sends by reading the PostgreSQL frontend protocol.
//!
//! Counting on the wire is the only honest measure under real Spin: each
//! `Execute` ('E') is one statement the component ran through Spin's
//! `query`/`execute` (extended protocol), each `Sync` ('S') ends one round
//! trip, and each simple `Query` ('Q') is Spin's own pool housekeeping
//! (deadpool's `RecyclingMethod::Clean` resets a connection at every
//! checkout with one simple query).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// Frontend messages counted so far (all connections of one proxy).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WireCounts {
    /// `Execute` messages: statements the components ran.
    pub executes: u64,
    /// `Sync` messages: round trips of the extended protocol.
    pub syncs: u64,
    /// Simple `Query` messages: Spin's pool recycling, not the components.
    pub simple_queries: u64,
}

impl std::ops::Sub for WireCounts {
    type Output = WireCounts;
    fn sub(self, before: WireCounts) -> WireCounts {
        WireCounts {
            executes: self.executes - before.executes,
            syncs: self.syncs - before.syncs,
            simple_queries: self.simple_queries - before.simple_queries,
        }
    }
}

/// The running proxy.
pub(crate) struct Proxy {
    pub(crate) addr: SocketAddr,
    state: Arc<ProxyState>,
    accept: tokio::task::JoinHandle<()>,
}

#[derive(Default)]
struct ProxyState {
    down: AtomicBool,
    next_id: AtomicU64,
    counts: Mutex<WireCounts>,
    /// Duplicates of both sockets of each live connection, to shut them
    /// down from `set_down` without going through the forwarding task.
    live: Mutex<HashMap<u64, [std::net::TcpStream; 2]>>,
}

impl Proxy {
    /// Listens on `127.0.0.1:0` and forwards each connection to `target`.
    pub(crate) async fn start(target: (&str, u16)) -> anyhow::Result<Self> {
        let target = tokio::net::lookup_host(target)
            .await?
            .next()
            .context("server address did not resolve")?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(ProxyState::default());
        let accept = tokio::spawn(accept_loop(listener, target, state.clone()));
        Ok(Self {
            addr,
            state,
            accept,
        })
    }

    /// `true` closes every live connection and refuses new ones.
    pub(crate) fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
        if down {
            for sockets in lock(&self.state.live).values() {
                for s in sockets {
                    let _ = s.shutdown(std::net::Shutdown::Both);
                }
            }
        }
    }

    pub(crate) fn counts(&self) -> WireCounts {
        *lock(&self.state.counts)
    }

    /// Cuts everything and stops listening.
    pub(crate) fn stop(&self) {
        self.set_down(true);
        self.accept.abort();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

async fn accept_loop(listener: TcpListener, target: SocketAddr, state: Arc<ProxyState>) {
    while let Ok((client, _)) = listener.accept().await {
        if state.down.load(Ordering::SeqCst) {
            drop(client);
            continue;
        }
        tokio::spawn(forward(client, target, state.clone()));
    }
}

async fn forward(client: TcpStream, target: SocketAddr, state: Arc<ProxyState>) {
    let Ok(upstream) = TcpStream::connect(target).await else {
        return;
    };
    let (Ok((client, c)), Ok((upstream, u))) = (duplicate(client), duplicate(upstream)) else {
        return;
    };
    let id = state.next_id.fetch_add(1, Ordering::Relaxed);
    lock(&state.live).insert(id, [c, u]);
    // Registered before this check, so a concurrent `set_down(true)` either
    // shut these sockets down already or is seen here.
    if !state.down.load(Ordering::SeqCst) {
        pump(client, upstream, &state).await;
    }
    if let Some(sockets) = lock(&state.live).remove(&id) {
        for s in sockets {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }
}

/// Copies both ways until either side closes, counting frontend messages.
async fn pump(client: TcpStream, upstream: TcpStream, state: &ProxyState) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut upstream_read, mut upstream_write) = upstream.into_split();
    let to_server = async {
        let mut parser = FrontendParser::default();
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match client_read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let chunk = buf.get(..n).unwrap_or_default();
            parser.feed(chunk, &state.counts);
            if upstream_write.write_all(chunk).await.is_err() {
                break;
            }
        }
    };
    let to_client = async {
        let _ = tokio::io::copy(&mut upstream_read, &mut client_write).await;
    };
    tokio::select! {
        _ = to_server => {}
        _ = to_client => {}
    }
}

/// The stream back, plus a std handle to the same socket.
fn duplicate(stream: TcpStream) -> std::io::Result<(TcpStream, std::net::TcpStream)> {
    let std_stream = stream.into_std()?;
    let dup = std_stream.try_clone()?;
    Ok((TcpStream::from_std(std_stream)?, dup))
}

/// Frontend message framing: untyped start-up messages (`len`, `code`),
/// then `type`, `len` (which counts itself, not the type byte).
#[derive(Default)]
struct FrontendParser {
    pending: Vec<u8>,
    started: bool,
}

/// `SSLRequest` and `GSSENCRequest` codes: another untyped message follows.
const ENCRYPTION_REQUESTS: [u32; 2] = [80_877_103, 80_877_104];

impl FrontendParser {
    fn feed(&mut self, bytes: &[u8], counts: &Mutex<WireCounts>) {
        self.pending.extend_from_slice(bytes);
        loop {
            let consumed = if self.started {
                self.typed(counts)
            } else {
                self.startup()
            };
            match consumed {
                Some(n) => {
                    self.pending.drain(..n);
                }
                None => return,
            }
        }
    }

    fn be32(&self, at: usize) -> Option<u32> {
        let b = self.pending.get(at..at + 4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn startup(&mut self) -> Option<usize> {
        let len = self.be32(0)? as usize;
        let code = self.be32(4)?;
        if self.pending.len() < len {
            return None;
        }
        if !ENCRYPTION_REQUESTS.contains(&code) {
            self.started = true;
        }
        Some(len)
    }

    fn typed(&mut self, counts: &Mutex<WireCounts>) -> Option<usize> {
        let kind = *self.pending.first()?;
        let len = self.be32(1)? as usize;
        if self.pending.len() < 1 + len {
            return None;
        }
        let mut c = lock(counts);
        match kind {
            b'E' => c.executes += 1,
            b'S' => c.syncs += 1,
            b'Q' => c.simple_queries += 1,
            _ => {}
        }
        Some(1 + len)
    }
}
