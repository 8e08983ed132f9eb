//! `TestApp`: the application of a `spin.toml` served on 127.0.0.1, like
//! `spin up`: one fresh component instance per request.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use wasmtime::Store;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi_http::bindings::http::types::Scheme;
use wasmtime_wasi_http::bindings::ProxyPre;
use wasmtime_wasi_http::WasiHttpView;

use crate::allowed_hosts::AllowedHosts;
use crate::manifest::Manifest;
use crate::postgres::{PgInstance, PgPools};
use crate::routes::{RouteMatch, Router};
use crate::runtime::{linker, load_component, InstanceState};
use crate::variables::Variables;

/// A running application. Dropping it stops the listener.
pub struct TestApp {
    addr: SocketAddr,
    inner: Arc<AppInner>,
    server: tokio::task::JoinHandle<()>,
}

struct AppInner {
    router: Router,
    variables: Arc<Variables>,
    components: HashMap<String, LoadedComponent>,
    pg_pools: Arc<PgPools>,
    logs: Arc<Mutex<String>>,
}

struct LoadedComponent {
    pre: ProxyPre<InstanceState>,
    allowed: Arc<AllowedHosts>,
}

impl TestApp {
    /// Loads the manifest, resolves variables (`overrides` play the part of
    /// `SPIN_VARIABLE_*`), compiles every component and starts listening.
    /// Fails the way `spin up` does on a broken manifest, a missing required
    /// variable or an invalid `allowed_outbound_hosts` entry.
    pub async fn start(
        manifest: &Path,
        overrides: &HashMap<String, String>,
    ) -> anyhow::Result<Self> {
        let manifest = Manifest::load(manifest)?;
        let variables = Arc::new(Variables::resolve(&manifest, overrides)?);
        let router = Router::build(&manifest)?;
        let linker = linker()?;
        let mut components = HashMap::new();
        for (id, c) in &manifest.components {
            let hosts = c
                .allowed_outbound_hosts
                .iter()
                .map(|h| variables.expand(h))
                .collect::<anyhow::Result<Vec<_>>>()
                .with_context(|| format!("component {id:?}: allowed_outbound_hosts"))?;
            let allowed =
                Arc::new(AllowedHosts::parse(&hosts).with_context(|| format!("component {id:?}"))?);
            let path = manifest.root.join(&c.source);
            let component = load_component(&path)?;
            let pre = linker
                .instantiate_pre(&component)
                .map_err(anyhow::Error::from)
                .with_context(|| {
                    format!("component {id:?} imports something this host does not provide")
                })?;
            let pre = ProxyPre::new(pre)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("component {id:?} is not a wasi:http handler"))?;
            components.insert(id.clone(), LoadedComponent { pre, allowed });
        }
        let inner = Arc::new(AppInner {
            router,
            variables,
            components,
            pg_pools: PgPools::new(),
            logs: Arc::new(Mutex::new(String::new())),
        });
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(serve(listener, inner.clone()));
        Ok(TestApp {
            addr,
            inner,
            server,
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Postgres statements (`query` and `execute` calls, i.e. round trips)
    /// the app's components ran so far.
    pub fn pg_statements(&self) -> u64 {
        self.inner.pg_pools.statements()
    }

    /// Everything the components printed so far (their structured logs).
    pub fn logs(&self) -> String {
        self.inner
            .logs
            .lock()
            .map(|l| l.clone())
            .unwrap_or_default()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn serve(listener: TcpListener, app: Arc<AppInner>) {
    loop {
        let Ok((stream, client)) = listener.accept().await else {
            continue;
        };
        let app = app.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let app = app.clone();
                async move { Ok::<_, Infallible>(app.handle(req, client).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn plain(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *res.status_mut() = status;
    res
}

impl AppInner {
    async fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
        client: SocketAddr,
    ) -> Response<Full<Bytes>> {
        let path = req.uri().path().to_owned();
        if let Some(well_known) = path.strip_prefix("/.well-known/spin/") {
            return match well_known {
                "health" => plain(StatusCode::OK, "OK"),
                _ => plain(StatusCode::NOT_FOUND, ""),
            };
        }
        let Some(route) = self.router.route(&path) else {
            return plain(StatusCode::NOT_FOUND, "");
        };
        match self.execute(req, &route, client).await {
            Ok(res) => res,
            Err(err) => {
                self.log(&format!(
                    "component {:?} failed: {err:#}\n",
                    route.component
                ));
                plain(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
            }
        }
    }

    fn log(&self, text: &str) {
        if let Ok(mut logs) = self.logs.lock() {
            logs.push_str(text);
        }
    }

    async fn execute(
        &self,
        mut req: Request<Incoming>,
        route: &RouteMatch,
        client: SocketAddr,
    ) -> anyhow::Result<Response<Full<Bytes>>> {
        let loaded = self
            .components
            .get(&route.component)
            .context("routed to a component that was not loaded")?;
        add_spin_headers(&mut req, route, client);
        let stdout = MemoryOutputPipe::new(1 << 20);
        let pg = PgInstance::new(self.pg_pools.clone(), loaded.allowed.clone());
        let state = InstanceState::new(
            &route.component,
            self.variables.clone(),
            loaded.allowed.clone(),
            pg,
            stdout.clone(),
            self.logs.clone(),
        );
        let mut store = Store::new(crate::runtime::engine(), state);
        let proxy = loaded.pre.instantiate_async(&mut store).await?;
        let req = req.map(|body| body.map_err(wasmtime_wasi_http::hyper_request_error));
        let incoming = store.data_mut().new_incoming_request(Scheme::Http, req)?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        let outparam = store.data_mut().new_response_outparam(tx)?;
        let task = tokio::spawn(async move {
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, incoming, outparam)
                .await
        });
        let result = match rx.await {
            Ok(Ok(res)) => {
                let (parts, body) = res.into_parts();
                let bytes = body
                    .collect()
                    .await
                    .map_err(|e| anyhow::anyhow!("{e:?}"))?
                    .to_bytes();
                Ok(Response::from_parts(parts, Full::new(bytes)))
            }
            Ok(Err(code)) => Err(anyhow::anyhow!(
                "component answered with an error: {code:?}"
            )),
            Err(_) => match task.await {
                Ok(Ok(())) => Err(anyhow::anyhow!(
                    "guest never invoked `response-outparam::set` method"
                )),
                Ok(Err(trap)) => Err(anyhow::Error::from(trap).context("guest trapped")),
                Err(join) => Err(anyhow::anyhow!("guest task failed: {join}")),
            },
        };
        self.log(&String::from_utf8_lossy(&stdout.contents()));
        result
    }
}

/// The request headers Spin adds for a wasi:http component (both the
/// `spin-*` and the Wagi-style `x-*` names).
fn add_spin_headers(req: &mut Request<Incoming>, route: &RouteMatch, client: SocketAddr) {
    let host = req
        .headers()
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
        .to_owned();
    let path_and_query = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/")
        .to_owned();
    let component_route = route
        .raw_route
        .strip_suffix("/...")
        .unwrap_or(&route.raw_route)
        .to_owned();
    let mut pairs: Vec<(String, String)> = vec![
        ("SPIN_PATH_INFO".into(), route.path_info.clone()),
        (
            "SPIN_FULL_URL".into(),
            format!("http://{host}{path_and_query}"),
        ),
        ("SPIN_MATCHED_ROUTE".into(), route.raw_route.clone()),
        ("SPIN_BASE_PATH".into(), "/".into()),
        ("SPIN_RAW_COMPONENT_ROUTE".into(), route.raw_route.clone()),
        ("SPIN_COMPONENT_ROUTE".into(), component_route),
        ("SPIN_CLIENT_ADDR".into(), client.to_string()),
    ];
    for (name, value) in &route.params {
        pairs.push((
            format!("SPIN_PATH_MATCH_{}", name.to_ascii_uppercase()),
            value.clone(),
        ));
    }
    let headers = req.headers_mut();
    for (name, value) in pairs {
        let wagi = name.replacen("SPIN_", "X_", 1);
        for n in [name, wagi] {
            if let (Ok(n), Ok(v)) = (
                n.parse::<hyper::header::HeaderName>(),
                hyper::header::HeaderValue::from_str(&value),
            ) {
                headers.insert(n, v);
            }
        }
    }
}
