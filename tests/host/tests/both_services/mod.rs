//! The app with both event services (notification, recurrence, and
//! subscriptions for the driver's `GET /dapr/subscribe`) under `spin up`,
//! wired to a fresh database, the fake sidecar, a Resend relay and,
//! optionally, FCM: what the hostile-input and fault-soak suites share.

use std::collections::HashMap;

use component_host::derived_manifest::Derive;
use component_host::fakes::dapr::DaprDriver;
use component_host::fakes::email::Provider;
use component_host::fakes::{FakeEmailRelay, FakeFcm, FakeSidecar, TestServiceAccount};
use component_host::pg_cluster::TestDatabase;
use component_host::TestApp;

/// The sender both suites configure.
pub const FROM: &str = "Todo <todo@example.com>";

/// Starts the app (manifest `name`, derived from `spin.toml`) and a
/// subscribed daprd-like driver; push is configured when `fcm` is given.
pub async fn start(
    name: &str,
    db: &TestDatabase,
    sidecar: &FakeSidecar,
    relay: &FakeEmailRelay,
    fcm: Option<(&FakeFcm, &TestServiceAccount)>,
) -> (TestApp, DaprDriver) {
    let mut vars: HashMap<String, String> = HashMap::from([
        ("database_url".to_owned(), db.url()),
        ("database_host".to_owned(), db.host_port()),
        ("email_from".to_owned(), FROM.to_owned()),
    ]);
    let push = fcm.map(|(fcm, account)| fcm.spin_variables(account));
    for (k, v) in sidecar
        .spin_variables()
        .into_iter()
        .chain(relay.spin_variables(Provider::Resend))
        .chain(push.into_iter().flatten())
    {
        vars.insert(k.to_owned(), v);
    }
    let manifest = Derive::keeping(name, &["notification", "recurrence", "subscriptions"])
        .write()
        .expect("manifest");
    component_host::start_subscribed(&manifest, &vars).await
}
