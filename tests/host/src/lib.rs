//! A test-only stand-in for Spin 3.6.3 (`spin up`), on the wasmtime version
//! Spin embeds: it reads the real `spin.toml`, routes HTTP requests to the
//! built `.wasm` components, and gives them Spin's Postgres, variables and
//! outbound HTTP. Beside it: a throwaway PostgreSQL cluster and HTTP fakes of
//! the services that cannot run here (Dapr sidecar, e-mail relay, FCM).

pub mod allowed_hosts;
pub mod app;
pub mod client;
pub mod derived_manifest;
pub mod fakes;
pub mod manifest;
pub mod pg_cluster;
pub mod postgres;
pub mod routes;
pub mod runtime;
pub mod spin_variables;
pub mod variables;

pub use app::TestApp;
