//! Connection pools per address, as Spin 3.6.3 keeps them for one app.
//!
//! TLS: Spin connects with `native-tls` unless the address says
//! `sslmode=disable`. This host has no TLS (it would drag OpenSSL into every
//! test build): `sslmode=disable` and the default `prefer` connect in plain
//! text (against a server without TLS, as in our tests, Spin ends up in plain
//! text too), and `sslmode=require` fails `open` with a message saying so.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use tokio_postgres::config::SslMode;

/// Spin's maximum number of connections in one address's pool.
pub const POOL_SIZE: usize = 64;
/// Spin's maximum number of addresses with a cached pool.
pub const POOL_CACHE_CAPACITY: usize = 16;

/// The pools of one app, keyed by the exact address string the guest passed
/// to `open`; shared (via `Arc`) by all its instances so that connections
/// outlive a request, as they do in Spin.
#[derive(Default)]
pub struct PgPools {
    /// Most recently used last; the front is evicted when full.
    pools: Mutex<Vec<(String, Pool)>>,
    /// Statements (`query` + `execute`) the app's instances ran: each is one
    /// round trip to the server, which is what tests of a component's
    /// database cost count.
    statements: AtomicU64,
}

impl PgPools {
    /// An empty set of pools for one app.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Statements run so far by all instances of the app (test hook, not
    /// part of Spin's behaviour).
    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    pub(super) fn count_statement(&self) {
        self.statements.fetch_add(1, Ordering::Relaxed);
    }

    /// A connection from the address's pool, creating the pool on first use.
    /// Waits (without a timeout, as Spin does) while all 64 are in use.
    pub(super) async fn get(&self, address: &str) -> anyhow::Result<Object> {
        let pool = self
            .pool(address)
            .context("establishing PostgreSQL connection pool")?;
        Ok(pool.get().await?)
    }

    fn pool(&self, address: &str) -> anyhow::Result<Pool> {
        let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = pools.iter().position(|(a, _)| a == address) {
            let entry = pools.remove(i);
            let pool = entry.1.clone();
            pools.push(entry);
            return Ok(pool);
        }
        let pool = new_pool(address)?;
        if pools.len() >= POOL_CACHE_CAPACITY {
            pools.remove(0);
        }
        pools.push((address.to_owned(), pool.clone()));
        Ok(pool)
    }

    /// Number of addresses with a cached pool (for tests of the eviction).
    #[cfg(test)]
    pub(super) fn cached(&self) -> Vec<String> {
        let pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        pools.iter().map(|(a, _)| a.clone()).collect()
    }
}

fn new_pool(address: &str) -> anyhow::Result<Pool> {
    let config: tokio_postgres::Config = address
        .parse()
        .context("parsing Postgres connection string")?;
    if config.get_ssl_mode() == SslMode::Require {
        anyhow::bail!(
            "sslmode=require: TLS is not implemented by the component test host (Spin would connect with native-tls); \
             use sslmode=disable or prefer against the test server"
        );
    }
    let manager = Manager::from_config(
        config,
        tokio_postgres::NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Clean,
        },
    );
    Pool::builder(manager)
        .max_size(POOL_SIZE)
        .build()
        .context("building Postgres connection pool")
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn pools_are_cached_per_address_and_least_recently_used_is_evicted() {
        let pools = PgPools::new();
        let addr = |i: usize| format!("postgres://u@127.0.0.1:1/db{i}?sslmode=disable");
        for i in 0..POOL_CACHE_CAPACITY {
            pools.pool(&addr(i)).unwrap();
        }
        pools.pool(&addr(0)).unwrap(); // now most recently used
        pools.pool(&addr(99)).unwrap(); // evicts db1
        let cached = pools.cached();
        assert_eq!(cached.len(), POOL_CACHE_CAPACITY);
        assert!(cached.contains(&addr(0)));
        assert!(!cached.contains(&addr(1)));
        assert_eq!(cached.last(), Some(&addr(99)));
        assert_eq!(pools.pool(&addr(0)).unwrap().status().max_size, POOL_SIZE);
    }

    #[test]
    fn tls_required_addresses_are_refused_with_a_reason() {
        let err = new_pool("postgres://u@db.example:5432/x?sslmode=require").unwrap_err();
        assert!(
            err.to_string().contains("TLS is not implemented"),
            "{err:#}"
        );
        assert!(new_pool("postgres://u@db.example:5432/x").is_ok());
    }
}
