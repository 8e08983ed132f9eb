//! A real Prometheus (Debian's `prometheus` package) as a child process:
//! on 127.0.0.1, a temporary config scraping one app's `/metrics` every
//! second as job `todo-workers`, evaluating a copy of the project's rules
//! every second, and its HTTP API to read what it sees.
//!
//! The copy of `monitoring/prometheus/todo-workers.rules.yaml` differs only
//! in its `for:` durations (shortened, so a test waits seconds, not
//! minutes): the expressions are the shipped ones.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use component_host::client;
use component_host::derived_manifest::repo_root;
use serde_json::Value;

/// A running Prometheus; killed when dropped.
pub struct Prometheus {
    child: Child,
    base: String,
    _dir: TempDir,
}

/// A temporary folder removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The binary: `PROMETHEUS`, else `prometheus` on PATH. Missing is a
/// failure that says how to install it, never a skip.
fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("PROMETHEUS") {
        return PathBuf::from(path);
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("prometheus"))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "prometheus is not installed: this end-to-end test runs a real Prometheus. \
             Install Debian's package (apt-get install -y prometheus; .ci/run does) \
             or set PROMETHEUS to its binary."
        )
    })
}

/// The shipped rules with every `for:` set to `for_`.
fn rules_with_for(for_: &str) -> String {
    let path = repo_root().join("monitoring/prometheus/todo-workers.rules.yaml");
    let text = std::fs::read_to_string(&path).expect("read the rules file");
    text.lines()
        .map(|line| match line.trim_start().strip_prefix("for: ") {
            Some(_) => {
                let indent = &line[..line.len() - line.trim_start().len()];
                format!("{indent}for: {for_}")
            }
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Prometheus {
    /// Starts Prometheus scraping `target` (`127.0.0.1:PORT`) and waits
    /// until its API answers.
    pub async fn start(target: &str, for_: &str) -> Prometheus {
        let dir = std::env::temp_dir().join(format!(
            "metrics-prometheus-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let dir = TempDir(dir);
        std::fs::write(dir.0.join("rules.yaml"), rules_with_for(for_)).expect("write rules");
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
             rule_files:\n  - rules.yaml\n\
             scrape_configs:\n  - job_name: todo-workers\n    metrics_path: /metrics\n\
             \x20   static_configs:\n      - targets: ['{target}']\n"
        );
        std::fs::write(dir.0.join("prometheus.yml"), config).expect("write config");
        let port = free_port();
        let log = std::fs::File::create(dir.0.join("prometheus.log")).expect("log file");
        let child = Command::new(binary())
            .arg(format!(
                "--config.file={}",
                dir.0.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.0.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start prometheus");
        let prometheus = Prometheus {
            child,
            base: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        prometheus
            .until("the API answers", |p| async move {
                client::send("GET", &format!("{}/-/ready", p.base), &[], "")
                    .await
                    .is_ok_and(|r| r.status == 200)
                    .then_some(())
            })
            .await;
        prometheus
    }

    /// `GET /api/v1/<path>?<query>`: the answer's `data`.
    pub async fn api(&self, path: &str, params: &[(&str, &str)]) -> Value {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        let res = client::send(
            "GET",
            &format!("{}/api/v1/{path}?{query}", self.base),
            &[],
            "",
        )
        .await
        .expect("prometheus api");
        assert_eq!(res.status, 200, "{path}: {}", res.text());
        let body = res.json();
        assert_eq!(body["status"], "success", "{body}");
        body["data"].clone()
    }

    /// An instant query's vector result.
    pub async fn query(&self, promql: &str) -> Vec<Value> {
        let data = self.api("query", &[("query", promql)]).await;
        data["result"].as_array().cloned().unwrap_or_default()
    }

    /// The alerts Prometheus holds active (pending or firing) by name.
    pub async fn alerts(&self, name: &str) -> Vec<Value> {
        let data = self.api("alerts", &[]).await;
        data["alerts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|a| a["labels"]["alertname"] == name)
            .cloned()
            .collect()
    }

    /// Polls `check` (every 250 ms, for at most 60 s) until it answers
    /// `Some`; a bound on waiting for a live system, not a timing claim.
    pub async fn until<'a, T, F, Fut>(&'a self, what: &str, check: F) -> T
    where
        F: Fn(&'a Prometheus) -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(found) = check(self).await {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "Prometheus never saw {what} within 60 s; its log:\n{}",
                std::fs::read_to_string(self._dir.0.join("prometheus.log")).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}
