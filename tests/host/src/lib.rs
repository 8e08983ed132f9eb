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

use std::collections::HashMap;
use std::path::Path;

/// Starts the app of `manifest` with `vars` and a daprd-like driver that
/// has read its subscriptions (with the app token, when `vars` sets one):
/// what every event suite begins with.
pub async fn start_subscribed(
    manifest: &Path,
    vars: &HashMap<String, String>,
) -> (TestApp, fakes::dapr::DaprDriver) {
    let app = TestApp::start(manifest, vars).await.expect("app starts");
    let mut driver = fakes::dapr::DaprDriver::new(app.base_url());
    if let Some(token) = vars.get("app_api_token").filter(|t| !t.is_empty()) {
        driver = driver.with_app_api_token(token.clone());
    }
    driver.subscribe().await.expect("GET /dapr/subscribe");
    (app, driver)
}
