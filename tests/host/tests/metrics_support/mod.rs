//! What the metrics end-to-end tests share: one app per test (its own
//! migrated database), served from a manifest derived from the real
//! `spin.toml` with `metrics` and `recurrence` (whose DROP answers put real
//! rows into `rejected_events`), scrapes, and a parser of the exposition.
#![allow(dead_code)] // not every test uses every helper

pub mod prometheus;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use component_host::client::{self, HttpResponse};
use component_host::pg_cluster::{fresh_database, TestDatabase};
use component_host::TestApp;

/// The components the derived manifest keeps.
const KEEP: [&str; 2] = ["metrics", "recurrence"];

/// The app token every test sets: `/metrics` must not need it.
pub const TOKEN: &str = "metrics-e2e-app-token";

/// The real `spin.toml` reduced to [`KEEP`], written once per test process.
pub fn manifest() -> &'static Path {
    component_host::derived_manifest::kept("metrics-e2e.toml", &KEEP)
}

/// One test's world.
pub struct Env {
    pub db: TestDatabase,
    pub pg: tokio_postgres::Client,
    pub app: TestApp,
}

impl Env {
    /// A fresh migrated database and the app with `app_api_token` set.
    pub async fn start() -> Env {
        let db = fresh_database().await.expect("test database");
        let vars = HashMap::from([
            ("database_url".to_owned(), db.url()),
            ("database_host".to_owned(), db.host_port()),
            ("app_api_token".to_owned(), TOKEN.to_owned()),
        ]);
        let app = TestApp::start(manifest(), &vars).await.expect("app starts");
        let pg = db.client().await;
        Env { db, pg, app }
    }

    /// `GET /metrics` without any token.
    pub async fn scrape(&self) -> HttpResponse {
        self.get("/metrics").await
    }

    /// A `GET` without headers.
    pub async fn get(&self, path: &str) -> HttpResponse {
        client::send("GET", &format!("{}{path}", self.app.base_url()), &[], "")
            .await
            .expect("request")
    }

    /// Runs SQL on the test's database directly.
    pub async fn sql(&self, sql: &str) {
        self.pg
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

/// A parsed exposition: samples by `name{labels}` as written, and the
/// `# HELP` / `# TYPE` lines by family name.
#[derive(Debug, Default)]
pub struct Exposition {
    pub samples: BTreeMap<String, f64>,
    pub help: BTreeMap<String, String>,
    pub types: BTreeMap<String, String>,
}

impl Exposition {
    /// Parses the text format; panics on a line it does not understand.
    pub fn parse(text: &str) -> Exposition {
        let mut e = Exposition::default();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let (name, help) = rest.split_once(' ').expect("HELP name text");
                e.help.insert(name.into(), help.into());
            } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
                e.types.insert(name.into(), kind.into());
            } else {
                let (series, value) = line.rsplit_once(' ').expect("series value");
                let value: f64 = value.parse().unwrap_or_else(|_| panic!("value of {line}"));
                assert!(
                    e.samples.insert(series.into(), value).is_none(),
                    "{series} twice"
                );
            }
        }
        e
    }

    /// `todo_deliveries` of `channel` per status: pending, retrying, sent,
    /// failed.
    pub fn deliveries(&self, channel: &str) -> [f64; 4] {
        ["pending", "retrying", "sent", "failed"].map(|status| {
            self.value(&format!(
                r#"todo_deliveries{{channel="{channel}",status="{status}"}}"#
            ))
        })
    }

    /// How many samples `family` has (one per label set).
    pub fn samples_of(&self, family: &str) -> usize {
        let prefix = format!("{family}{{");
        self.samples
            .keys()
            .filter(|k| *k == family || k.starts_with(&prefix))
            .count()
    }

    /// The value of `series` (e.g. `todo_deliveries{channel="email",status="sent"}`).
    pub fn value(&self, series: &str) -> f64 {
        *self
            .samples
            .get(series)
            .unwrap_or_else(|| panic!("no {series} in {:#?}", self.samples))
    }

    /// The family names that have samples.
    pub fn families(&self) -> BTreeSet<String> {
        self.samples
            .keys()
            .map(|s| s.split('{').next().unwrap_or(s).to_owned())
            .collect()
    }
}

/// Names as an owned set, to compare with [`Exposition::families`].
pub fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}
