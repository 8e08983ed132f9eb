//! `TestApp`: the built application under the real Spin CLI (`spin up`),
//! configured only the way users configure it: `SPIN_VARIABLE_*`, the repo's
//! `runtime-config.toml`, `--listen` and `--log-dir`.
//!
//! The binary is `SPIN_BIN` or `spin` on `PATH` (`.ci/run` installs Spin
//! 3.6.3 on the CI machine); without one, starting an app fails
//! with a message saying how to install it. Nothing is skipped.
//!
//! Clean-up needs no cooperation from the test process: Spin runs under a
//! small `sh` guard that kills Spin's whole process group (`spin up` and the
//! `spin trigger http` it starts) when its stdin (a pipe whose only writer
//! is the test process) reaches EOF, so even a `kill -9` of the test process
//! stops every Spin it started.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

/// How long `spin up` may take to compile the components and listen (a cold
/// Wasmtime cache on a 2-core machine takes about 10 s for all of them).
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// `sh -c` script running `"$0" "$@"` (Spin) in a process group of its own
/// and killing the whole group once stdin reaches EOF: `spin up` runs the
/// app in a child process (`spin trigger http`), which a kill of `spin up`
/// alone would orphan. Background jobs of a non-interactive shell read
/// /dev/null, so the watcher reads the pipe through fd 3.
const GUARD: &str = r#"exec 3<&0; setsid "$0" "$@" & spin=$!; (cat <&3 >/dev/null; kill -9 -$spin 2>/dev/null) & wait $spin"#;

static NEXT_APP: AtomicU64 = AtomicU64::new(0);

/// A running `spin up`. Dropping it kills Spin and removes its log folder.
pub struct TestApp {
    child: Child,
    base_url: String,
    log_dir: PathBuf,
    /// What Spin printed: `[stdout, stderr]`.
    output: [Arc<Mutex<String>>; 2],
}

/// The Spin CLI the tests run: `SPIN_BIN`, else `spin` on `PATH`.
pub fn spin_binary() -> anyhow::Result<PathBuf> {
    if let Some(bin) = std::env::var_os("SPIN_BIN").filter(|b| !b.is_empty()) {
        let bin = PathBuf::from(bin);
        if bin.is_file() {
            return Ok(bin);
        }
        bail!("SPIN_BIN={} is not a file", bin.display());
    }
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join("spin"))
        .find(|p| p.is_file())
        .context(
            "the Spin CLI 3.6.x is needed for the end-to-end tests and was not found: \
             put `spin` on PATH or set SPIN_BIN (install Spin 3.6.x from \
             https://spinframework.dev/install)",
        )
}

impl TestApp {
    /// `spin up -f manifest` with each `(name, value)` of `variables` as
    /// `SPIN_VARIABLE_<NAME>`; returns once Spin serves requests. Fails with
    /// Spin's own output when it exits instead (a missing required variable,
    /// an invalid `allowed_outbound_hosts` entry, a broken manifest).
    pub async fn start(
        manifest: &Path,
        variables: &HashMap<String, String>,
    ) -> anyhow::Result<Self> {
        let spin = spin_binary()?;
        let log_dir = std::env::temp_dir().join(format!(
            "spin-e2e-{}-{}",
            std::process::id(),
            NEXT_APP.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&log_dir)?;
        let mut cmd = Command::new("sh");
        // `$0` is Spin; the guard kills it when stdin closes (module doc).
        cmd.arg("-c")
            .arg(GUARD)
            .arg(&spin)
            .arg("up")
            .arg("--from")
            .arg(manifest)
            .args(["--listen", "127.0.0.1:0"])
            .arg("--runtime-config-file")
            .arg(crate::derived_manifest::repo_root().join("runtime-config.toml"))
            .arg("--log-dir")
            .arg(&log_dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("SPIN_VARIABLE_") {
                cmd.env_remove(name);
            }
        }
        for (name, value) in variables {
            cmd.env(
                format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase()),
                value,
            );
        }
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {}", spin.display()))?;
        let output: [Arc<Mutex<String>>; 2] = Default::default();
        let streams = [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ];
        for (stream, sink) in streams.into_iter().zip(output.iter()) {
            let (Some(stream), sink) = (stream, sink.clone()) else {
                continue;
            };
            std::thread::spawn(move || collect(stream, &sink));
        }
        let mut app = TestApp {
            child,
            base_url: String::new(),
            log_dir,
            output,
        };
        app.base_url = app.wait_until_serving().await?;
        Ok(app)
    }

    async fn wait_until_serving(&mut self) -> anyhow::Result<String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                // Let the reader threads drain what Spin said before exiting.
                tokio::time::sleep(Duration::from_millis(100)).await;
                bail!("spin up exited ({status}):\n{}", self.spin_output());
            }
            if let Some(url) = serving_url(&self.spin_output()) {
                let health = format!("{url}/.well-known/spin/health");
                if crate::client::send("GET", &health, &[], "")
                    .await
                    .is_ok_and(|r| r.status == 200)
                {
                    return Ok(url);
                }
            }
            if Instant::now() > deadline {
                bail!(
                    "spin up did not serve within {START_TIMEOUT:?}:\n{}",
                    self.spin_output()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// What Spin printed to stdout: its banner and the routes it serves.
    pub fn spin_stdout(&self) -> String {
        read(&self.output[0])
    }

    /// What Spin printed to stderr: every line the components wrote (Spin
    /// 3.6.3 echoes component stdout there, as a `spin up` user and a
    /// SpinKube pod log see it) and Spin's own diagnostics (a refused
    /// outbound destination, a failed request).
    pub fn spin_stderr(&self) -> String {
        read(&self.output[1])
    }

    fn spin_output(&self) -> String {
        self.spin_stdout() + &self.spin_stderr()
    }

    /// Each line once: the components' stdout from Spin's log folder
    /// (`<component>_stdout.txt`, written as the guest writes, so complete
    /// when an answer arrives), then the lines of Spin's stderr that are
    /// not component output (Spin's own, which arrive through a pipe).
    pub fn logs(&self) -> String {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.log_dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().ends_with("_stdout.txt"))
            .collect();
        files.sort();
        let mut text = String::new();
        for file in files {
            text.push_str(&std::fs::read_to_string(file).unwrap_or_default());
        }
        let component_lines: std::collections::HashSet<&str> = text.lines().collect();
        let spin_own: String = self
            .spin_stderr()
            .lines()
            .filter(|l| !component_lines.contains(l))
            .map(|l| format!("{l}\n"))
            .collect();
        text + &spin_own
    }

    /// Waits (up to 10 s) until `needle` appears in [`logs`](Self::logs):
    /// Spin's own output reaches the test through a pipe, after the answer
    /// that caused it. Returns the logs either way, for the assertion.
    pub async fn logs_once_containing(&self, needle: &str) -> String {
        self.once_containing(TestApp::logs, needle).await
    }

    /// [`logs_once_containing`](Self::logs_once_containing) for another
    /// source, e.g. [`TestApp::spin_stdout`].
    pub async fn once_containing(&self, source: fn(&TestApp) -> String, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = source(self);
            if text.contains(needle) || Instant::now() > deadline {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Spin's lines about requests it answered 500 because a component
    /// trapped, failed or never answered (empty when none did).
    pub fn request_errors(&self) -> Vec<String> {
        self.spin_stderr()
            .lines()
            .filter(|l| {
                l.contains("Error processing request") || l.contains("Component error handling")
            })
            .map(str::to_owned)
            .collect()
    }

    /// The lines one component wrote to stdout.
    pub fn component_stdout(&self, component: &str) -> String {
        std::fs::read_to_string(self.log_dir.join(format!("{component}_stdout.txt")))
            .unwrap_or_default()
    }

    /// The lines `component` wrote, each checked to be what docs/CONTRACT.md
    /// "Logs" promises: one JSON object with `ts` (RFC 3339 UTC, `Z`), a
    /// known `level`, the component's own name as `component`, and a
    /// non-empty `msg`. Panics, naming the line, on the first that is not.
    pub fn json_lines(&self, component: &str) -> Vec<serde_json::Value> {
        let out = self.component_stdout(component);
        out.lines()
            .map(|line| {
                let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| {
                    panic!("{component} wrote a non-JSON line ({e}): {line:.300}")
                });
                let ts = v["ts"].as_str().unwrap_or_default();
                assert!(
                    ts.ends_with('Z') && ts.parse::<chrono::DateTime<chrono::Utc>>().is_ok(),
                    "ts {ts:?} in {line:.300}"
                );
                assert!(
                    ["error", "warn", "info", "debug", "trace"]
                        .contains(&v["level"].as_str().unwrap_or_default()),
                    "{line:.300}"
                );
                assert_eq!(v["component"], component, "{line:.300}");
                assert!(
                    v["msg"].as_str().is_some_and(|m| !m.is_empty()),
                    "{line:.300}"
                );
                v
            })
            .collect()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Closing the guard's stdin kills Spin (see the module doc); the
        // guard then exits and is reaped here.
        drop(self.child.stdin.take());
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.log_dir);
    }
}

fn read(buffer: &Mutex<String>) -> String {
    buffer
        .lock()
        .map(|o| o.clone())
        .unwrap_or_else(|e| e.into_inner().clone())
}

fn collect(mut stream: Box<dyn Read + Send>, output: &Mutex<String>) {
    let mut buf = [0u8; 8192];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        let text = String::from_utf8_lossy(buf.get(..n).unwrap_or_default());
        if let Ok(mut o) = output.lock() {
            o.push_str(&text);
        }
    }
}

/// The address from Spin's `Serving http://127.0.0.1:PORT` line.
fn serving_url(output: &str) -> Option<String> {
    let rest = output.split("Serving ").nth(1)?;
    let url = rest.split_whitespace().next()?;
    url.starts_with("http://").then(|| url.to_owned())
}
