//! A TCP proxy in front of a test database that counts what the component
//! sends, by reading the PostgreSQL frontend protocol: each `Execute` ('E')
//! is one statement run through the extended protocol (what Spin's
//! `query`/`execute` do), each `Sync` ('S') ends one network round trip,
//! each simple `Query` ('Q') is the connection pool's own housekeeping.
//! This is how the tests measure round trips per event (issue 3: at most
//! three on the happy path).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// Messages counted so far (all connections).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// `Execute` messages: statements the guest ran.
    pub executes: u64,
    /// `Sync` messages: network round trips of the extended protocol.
    pub syncs: u64,
    /// Simple `Query` messages (pool recycling, not the guest).
    pub simple_queries: u64,
}

impl std::ops::Sub for Counts {
    type Output = Counts;
    fn sub(self, before: Counts) -> Counts {
        Counts {
            executes: self.executes - before.executes,
            syncs: self.syncs - before.syncs,
            simple_queries: self.simple_queries - before.simple_queries,
        }
    }
}

/// The running proxy.
pub struct PgCounter {
    addr: SocketAddr,
    counts: Arc<Mutex<Counts>>,
    accept: tokio::task::JoinHandle<()>,
}

impl PgCounter {
    /// Listens on 127.0.0.1 and forwards every connection to `target`
    /// (`host:port`).
    pub async fn start(target: &str) -> PgCounter {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let counts = Arc::new(Mutex::new(Counts::default()));
        let target = target.to_owned();
        let shared = counts.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(forward(client, target.clone(), shared.clone()));
            }
        });
        PgCounter {
            addr,
            counts,
            accept,
        }
    }

    /// `127.0.0.1:<port>`, for `database_host`.
    pub fn host_port(&self) -> String {
        self.addr.to_string()
    }

    /// `url` with its host and port replaced by this proxy's.
    pub fn url_through(&self, url: &str) -> String {
        let mut u = url::Url::parse(url).expect("database url");
        u.set_host(Some("127.0.0.1")).expect("host");
        u.set_port(Some(self.addr.port())).expect("port");
        u.to_string()
    }

    /// What was counted so far.
    pub fn counts(&self) -> Counts {
        *self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for PgCounter {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn forward(client: TcpStream, target: String, counts: Arc<Mutex<Counts>>) {
    let Ok(upstream) = TcpStream::connect(&target).await else {
        return;
    };
    let (mut client_read, mut client_write) = client.into_split();
    let (mut upstream_read, mut upstream_write) = upstream.into_split();
    let to_server = async {
        let mut parser = Parser::default();
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match client_read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let chunk = buf.get(..n).unwrap_or_default();
            parser.feed(chunk, &counts);
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

/// Frontend message framing: untyped start-up messages (`len`, `code`),
/// then `type`, `len` (which counts itself, not the type byte).
#[derive(Default)]
struct Parser {
    pending: Vec<u8>,
    started: bool,
}

/// `SSLRequest` and `GSSENCRequest` codes: another untyped message follows.
const ENCRYPTION_REQUESTS: [u32; 2] = [80_877_103, 80_877_104];

impl Parser {
    fn feed(&mut self, bytes: &[u8], counts: &Mutex<Counts>) {
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

    fn typed(&mut self, counts: &Mutex<Counts>) -> Option<usize> {
        let kind = *self.pending.first()?;
        let len = self.be32(1)? as usize;
        if self.pending.len() < 1 + len {
            return None;
        }
        let mut c = counts.lock().unwrap_or_else(|e| e.into_inner());
        match kind {
            b'E' => c.executes += 1,
            b'S' => c.syncs += 1,
            b'Q' => c.simple_queries += 1,
            _ => {}
        }
        Some(1 + len)
    }
}
