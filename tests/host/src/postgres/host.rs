//! The per-instance state behind the `connection` resource and its linking.

use std::collections::HashMap;
use std::sync::Arc;

use wasmtime::component::{HasSelf, Linker, Resource};

use super::bindings::v4::{self, Connection, Error, ParameterValue, RowSet};
use super::client::{self, anyhow_debug};
use super::pool::PgPools;
use crate::allowed_hosts::AllowedHosts;

/// Spin's limit on open connections per instance (its resource table size).
const MAX_OPEN_CONNECTIONS: usize = 1024;

/// What one component instance (one request) sees of Postgres: the app's
/// pools, the component's `allowed_outbound_hosts`, and the connections the
/// guest currently holds (each keeps one pooled connection checked out).
pub struct PgInstance {
    pools: Arc<PgPools>,
    allowed: Arc<AllowedHosts>,
    open: HashMap<u32, deadpool_postgres::Object>,
    next_rep: u32,
}

impl PgInstance {
    /// State for a new instance of a component of the app owning `pools`.
    pub fn new(pools: Arc<PgPools>, allowed: Arc<AllowedHosts>) -> Self {
        Self {
            pools,
            allowed,
            open: HashMap::new(),
            next_rep: 0,
        }
    }

    /// Spin's `ensure_address_allowed`: every TCP host of the address, with
    /// the port at the same index (or none, which means the scheme's default
    /// 5432), must be allowed for scheme `postgres`; Unix sockets never are.
    #[allow(clippy::result_large_err)] // the WIT error itself, as in Spin
    fn ensure_address_allowed(&self, address: &str) -> Result<(), Error> {
        let config: tokio_postgres::Config = address
            .parse()
            .map_err(|e: tokio_postgres::Error| Error::ConnectionFailed(e.to_string()))?;
        let ports = config.get_ports();
        for (i, host) in config.get_hosts().iter().enumerate() {
            match host {
                tokio_postgres::config::Host::Tcp(name) => {
                    // Spin takes the port at the host's index only (its
                    // fallback for a single shared port looks at index 1,
                    // which never exists), so later hosts get no port.
                    let url = match ports.get(i) {
                        Some(p) => format!("{name}:{p}"),
                        None => name.clone(),
                    };
                    if !self.allowed.allows(&url, "postgres") {
                        return Err(Error::ConnectionFailed(format!(
                            "address postgres://{url} is not permitted"
                        )));
                    }
                }
                tokio_postgres::config::Host::Unix(_) => {
                    return Err(Error::ConnectionFailed(
                        "Unix sockets are not supported on WebAssembly".into(),
                    ));
                }
            }
        }
        Ok(())
    }

    #[allow(clippy::result_large_err)] // the WIT error itself
    fn client(
        &self,
        connection: &Resource<Connection>,
    ) -> Result<&deadpool_postgres::Object, Error> {
        self.open
            .get(&connection.rep())
            .ok_or_else(|| Error::ConnectionFailed("no connection found".into()))
    }

    /// Number of connections the guest holds open (for tests).
    #[cfg(test)]
    pub(super) fn open_count(&self) -> usize {
        self.open.len()
    }
}

impl v4::HostConnection for PgInstance {
    async fn open(
        &mut self,
        address: String,
    ) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        if let Err(e) = self.ensure_address_allowed(&address) {
            return Ok(Err(e));
        }
        let client = match self.pools.get(&address).await {
            Ok(c) => c,
            Err(e) => return Ok(Err(Error::ConnectionFailed(anyhow_debug(&e)))),
        };
        if self.open.len() >= MAX_OPEN_CONNECTIONS {
            return Ok(Err(Error::ConnectionFailed("too many connections".into())));
        }
        let mut rep = self.next_rep;
        while self.open.contains_key(&rep) {
            rep = rep.wrapping_add(1);
        }
        self.next_rep = rep.wrapping_add(1);
        self.open.insert(rep, client);
        Ok(Ok(Resource::new_own(rep)))
    }

    async fn query(
        &mut self,
        connection: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<RowSet, Error>> {
        self.pools.count_statement();
        Ok(match self.client(&connection) {
            Ok(c) => client::query(c, &statement, &params).await,
            Err(e) => Err(e),
        })
    }

    async fn execute(
        &mut self,
        connection: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<u64, Error>> {
        self.pools.count_statement();
        Ok(match self.client(&connection) {
            Ok(c) => client::execute(c, &statement, &params).await,
            Err(e) => Err(e),
        })
    }

    async fn drop(&mut self, connection: Resource<Connection>) -> wasmtime::Result<()> {
        // Returning the object to the pool; the next `open` recycles it.
        self.open.remove(&connection.rep());
        Ok(())
    }
}

impl v4::Host for PgInstance {}

/// Links `spin:postgres/postgres@4.0.0` into `linker`, with `get` finding
/// the instance's [`PgInstance`] in the store data.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut PgInstance,
) -> anyhow::Result<()> {
    // Without wasmtime's `anyhow` feature there is no `From` for `?`.
    v4::add_to_linker::<T, HasSelf<PgInstance>>(linker, get)
        .map_err(|e| anyhow::Error::from_boxed(e.into_boxed_dyn_error()))
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn links_the_interface_once() {
        let engine = wasmtime::Engine::default();
        let mut linker = Linker::<PgInstance>::new(&engine);
        add_to_linker(&mut linker, |s| s).unwrap();
        let again = add_to_linker(&mut linker, |s| s).unwrap_err();
        assert!(
            format!("{again:#}").contains("spin:postgres/postgres@4.0.0"),
            "{again:#}"
        );
    }
}
