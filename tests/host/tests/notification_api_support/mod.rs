//! What the subscriber-API end-to-end tests share: an app serving the real
//! release `notification.wasm` against a fresh migrated database, and a
//! small JSON client.
//!
//! The manifest is *derived* from the real `spin.toml` (same routes,
//! variables and outbound hosts) keeping only the `notification`
//! component, so these tests neither need nor compile the other components.
#![allow(dead_code)] // each test file uses a different part

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use component_host::client::{self, HttpResponse};
use component_host::derived_manifest::Derive;
use component_host::pg_cluster::{fresh_database, TestDatabase};
use component_host::TestApp;
use serde_json::Value;

/// The real `spin.toml` reduced to the `notification` component, written
/// once per test process. `NOTIFICATION_API_WASM` tests another build of
/// the component (a mutated copy, say) without touching `target/`.
fn manifest() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let wasm = match std::env::var_os("NOTIFICATION_API_WASM") {
            Some(path) => PathBuf::from(path),
            None => component_host::derived_manifest::repo_root()
                .join("target/wasm32-wasip2/release/notification.wasm"),
        };
        assert!(
            wasm.exists(),
            "{} is missing: cargo build --target wasm32-wasip2 --release -p notification",
            wasm.display()
        );
        Derive {
            sources: &[("notification", wasm)],
            ..Derive::keeping("notification-api-e2e.toml", &["notification"])
        }
        .write()
        .expect("derived manifest")
    })
}

/// One test's world: its own database and app.
pub struct Api {
    pub db: TestDatabase,
    pub app: TestApp,
    /// Sent as `dapr-api-token` by [`Api::call`] when set.
    pub token: Option<String>,
}

impl Api {
    /// An app without `app_api_token`.
    pub async fn start() -> Api {
        Api::start_with(&[]).await
    }

    /// An app with extra variables (`app_api_token`, ...).
    pub async fn start_with(vars: &[(&str, &str)]) -> Api {
        let db = fresh_database().await.expect("test database");
        let mut overrides: HashMap<String, String> = [
            ("database_url".to_owned(), db.url()),
            ("database_host".to_owned(), db.host_port()),
        ]
        .into();
        for (k, v) in vars {
            overrides.insert((*k).to_owned(), (*v).to_owned());
        }
        let app = TestApp::start(manifest(), &overrides)
            .await
            .expect("app starts");
        let token = overrides.get("app_api_token").cloned();
        Api { db, app, token }
    }

    /// Sends a request with the configured token and raw headers.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> HttpResponse {
        let url = format!("{}{path}", self.app.base_url());
        client::send(method, &url, headers, body.to_owned())
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e:#}"))
    }

    /// Sends a request (with the configured token) and returns status and
    /// JSON body (`Null` when empty or not JSON).
    pub async fn call(&self, method: &str, path: &str, body: &str) -> (u16, Value) {
        let mut headers = vec![("content-type", "application/json")];
        if let Some(t) = &self.token {
            headers.push(("dapr-api-token", t.as_str()));
        }
        let res = self.raw(method, path, &headers, body).await;
        (res.status, res.json())
    }

    /// A direct connection for arranging rows and checking results.
    pub async fn sql(&self) -> tokio_postgres::Client {
        self.db.client().await
    }
}

/// Asserts the contract's error shape with this status and code, and a
/// non-empty human message.
#[track_caller]
pub fn assert_error(got: &(u16, Value), status: u16, code: &str) {
    assert_eq!(got.0, status, "status of {}", got.1);
    assert_eq!(got.1["error"]["code"], code, "{}", got.1);
    let message = got.1["error"]["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty(), "error without message: {}", got.1);
    assert_eq!(
        got.1.as_object().map(|o| o.len()),
        Some(1),
        "only \"error\" at top level: {}",
        got.1
    );
}

/// True for RFC 3339 UTC with `Z`, as the API promises for every time.
pub fn is_utc_rfc3339(value: &Value) -> bool {
    value.as_str().is_some_and(|s| {
        s.ends_with('Z') && s.len() >= 20 && s.as_bytes()[10] == b'T' && !s.contains('+')
    })
}
