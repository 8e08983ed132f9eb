//! Compiling components once and instantiating one per request, with the
//! host interfaces Spin 3.6.3 gives an HTTP component: WASI 0.2, outbound
//! `wasi:http` behind `allowed_outbound_hosts`, Postgres and variables.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::Context as _;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::bindings::http::types::ErrorCode;
use wasmtime_wasi_http::body::HyperOutgoingBody;
use wasmtime_wasi_http::types::{HostFutureIncomingResponse, OutgoingRequestConfig};
use wasmtime_wasi_http::{HttpResult, WasiHttpCtx, WasiHttpView};

use crate::allowed_hosts::AllowedHosts;
use crate::postgres::PgInstance;
use crate::variables::Variables;

/// The state of one component instance (one request), as Spin keeps it.
pub struct InstanceState {
    pub(crate) component: String,
    pub(crate) variables: Arc<Variables>,
    allowed: Arc<AllowedHosts>,
    host_log: Arc<Mutex<String>>,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    pg: PgInstance,
}

impl InstanceState {
    /// A fresh instance state; `stdout` collects what the guest prints.
    pub(crate) fn new(
        component: &str,
        variables: Arc<Variables>,
        allowed: Arc<AllowedHosts>,
        pg: PgInstance,
        stdout: MemoryOutputPipe,
        host_log: Arc<Mutex<String>>,
    ) -> Self {
        let wasi = WasiCtx::builder()
            .stdout(stdout.clone())
            .stderr(stdout)
            .build();
        InstanceState {
            component: component.to_owned(),
            variables,
            allowed,
            host_log,
            wasi,
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            pg,
        }
    }
}

impl InstanceState {
    /// What `spin up` prints when a component reaches for a destination
    /// its `allowed_outbound_hosts` does not list (Spin 3.6.3's
    /// `disallowed_host_handler`), into the app's log.
    fn warn_disallowed(&self, scheme: &str, authority: &str) {
        let pattern = format!("{scheme}://{authority}");
        if let Ok(mut log) = self.host_log.lock() {
            log.push_str(&format!(
                "A component tried to make an outbound network connection to disallowed destination '{pattern}'.\n\
                 To allow this request, add 'allowed_outbound_hosts = [\"{pattern}\"]' to the manifest component section.\n"
            ));
        }
    }
}

impl WasiView for InstanceState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for InstanceState {
    fn ctx(&mut self) -> &mut WasiHttpCtx {
        &mut self.http
    }

    fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }

    /// Spin refuses a request to a host not in `allowed_outbound_hosts`
    /// with `HttpRequestDenied` before any connection is made.
    fn send_request(
        &mut self,
        request: hyper::Request<HyperOutgoingBody>,
        config: OutgoingRequestConfig,
    ) -> HttpResult<HostFutureIncomingResponse> {
        let uri = request.uri().to_string();
        let scheme = request.uri().scheme_str().unwrap_or("http").to_owned();
        if !self.allowed.allows(&uri, &scheme) {
            let authority = request
                .uri()
                .authority()
                .map(|a| a.as_str())
                .unwrap_or("self");
            self.warn_disallowed(&scheme, authority);
            return Err(ErrorCode::HttpRequestDenied.into());
        }
        Ok(wasmtime_wasi_http::types::default_send_request(
            request, config,
        ))
    }
}

/// The engine all tests share: compiling a component is the slow part, so
/// each `.wasm` is compiled once per test process.
pub(crate) fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut config = Config::new();
        config.wasm_component_model(true);
        Engine::new(&config).expect("wasmtime engine configuration is valid")
    })
}

/// Loads (or reuses) the compiled component at `path`.
pub(crate) fn load_component(path: &Path) -> anyhow::Result<Component> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Component>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(c) = cache.lock().expect("component cache lock").get(path) {
        return Ok(c.clone());
    }
    let bytes = std::fs::read(path).with_context(|| {
        format!(
            "cannot read component {} (build it with `cargo build --target wasm32-wasip2 --release`)",
            path.display()
        )
    })?;
    let component = Component::from_binary(engine(), &bytes)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("cannot compile component {}", path.display()))?;
    cache
        .lock()
        .expect("component cache lock")
        .insert(path.to_owned(), component.clone());
    Ok(component)
}

/// The linker with every interface a Spin 3.6.3 HTTP component may import.
pub(crate) fn linker() -> anyhow::Result<Linker<InstanceState>> {
    let mut linker = Linker::new(engine());
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(anyhow::Error::from)?;
    wasmtime_wasi_http::add_only_http_to_linker_async(&mut linker).map_err(anyhow::Error::from)?;
    crate::spin_variables::add_to_linker(&mut linker)?;
    crate::postgres::add_to_linker(&mut linker, |s: &mut InstanceState| &mut s.pg)?;
    Ok(linker)
}
