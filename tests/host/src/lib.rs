//! End-to-end test infrastructure: the built application under the real
//! Spin CLI ([`spin_up`]), a throwaway PostgreSQL cluster with one migrated
//! database per test behind a fault-injecting, statement-counting proxy
//! ([`pg_cluster`], [`pg_proxy`]), and HTTP fakes of the services that
//! cannot run here (Dapr sidecar and daprd's delivery, e-mail relays, FCM).

pub mod client;
pub mod derived_manifest;
pub mod fakes;
pub mod pg_cluster;
pub mod pg_proxy;
pub mod spin_up;

pub use spin_up::TestApp;
