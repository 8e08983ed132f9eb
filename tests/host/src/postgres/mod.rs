//! The host side of `spin:postgres/postgres@4.0.0`, behaving like Spin 3.6.3's
//! `factor-outbound-pg` so that a component that works here works on `spin up`
//! and on SpinKube (containerd-shim-spin 0.24), and fails here where it would
//! fail there.
//!
//! What is reproduced from Spin 3.6.3:
//! - one `deadpool-postgres` pool per address string (64 connections,
//!   `RecyclingMethod::Clean`, no timeouts, at most 16 addresses cached, least
//!   recently used evicted), shared by all instances of one app ([`PgPools`]);
//! - `open` checks every TCP host of the address against the component's
//!   `allowed_outbound_hosts` first and fails with
//!   `connection-failed("address postgres://host:port is not permitted")`;
//!   an open connection holds one pooled connection until the guest drops it;
//! - the value mapping in both directions, including its sharp edges: a
//!   `timestamptz` column cannot be read (`query-failed(text(..))`, Spin reads
//!   it as a naive timestamp), `datetime` parameters bind only to `timestamp`,
//!   `timestamp` parameters (whole seconds) only to `timestamptz`, `int8`
//!   parameters only to the one-byte `"char"` type, and a result set without
//!   rows has no columns;
//! - the error variants: `query-failed(db-error{..})` with the SQLSTATE code
//!   and extras for server errors, `query-failed(text(..))` for client-side
//!   ones, `bad-parameter` (query) / `value-conversion-failed` (execute) for
//!   parameters that cannot be converted.
//!
//! Not reproduced: TLS (see [`pool`]), the 128 MiB result-size limit, and the
//! older `fermyon:spin/postgres` and `spin:postgres@3.0.0` interfaces, which
//! our components do not import.

mod client;
mod host;
mod params;
mod pool;
mod results;
mod sql_types;
#[cfg(test)]
mod tests;

pub use host::{add_to_linker, PgInstance};
pub use pool::PgPools;

/// Host bindings generated from the unmodified WIT in `wit/deps`, so the
/// signatures cannot drift from what the components were built against.
mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit/deps/spin-postgres@4.0.0",
        inline: "package host:pg; world pg { import spin:postgres/postgres@4.0.0; }",
        world: "host:pg/pg",
        imports: { default: async | trappable },
        additional_derives: [PartialEq],
    });

    pub use spin::postgres::postgres as v4;
}
