//! HTTP routing as Spin 3.6.3 does it (`spin-http` routes): the same
//! `routefinder` matcher, `/...` turned into a trailing wildcard, exact
//! routes preferred over wildcards, `:param` segments captured, and a later
//! duplicate route replacing an earlier one.

use std::collections::HashMap;

use anyhow::anyhow;

use crate::manifest::Manifest;

/// Maps a request path to the component that serves it.
pub struct Router {
    inner: routefinder::Router<Handler>,
}

#[derive(Debug, Clone)]
struct Handler {
    component: String,
    raw_route: String,
}

/// The result of routing one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch {
    /// The component that serves the path.
    pub component: String,
    /// The route as written in the manifest.
    pub raw_route: String,
    /// Named `:param` captures.
    pub params: HashMap<String, String>,
    /// What a trailing `/...` matched (Spin's `spin-path-info`).
    pub path_info: String,
}

impl Router {
    /// Builds the router from the manifest's `[[trigger.http]]` entries.
    pub fn build(manifest: &Manifest) -> anyhow::Result<Self> {
        let mut routes: indexmap_lite::OrderedMap = indexmap_lite::OrderedMap::default();
        for t in &manifest.http_triggers {
            routes.insert(t.route.clone(), t.component.clone());
        }
        let mut inner = routefinder::Router::new();
        for (raw, component) in routes.into_iter() {
            let based = sanitize(&raw);
            let spec = match based.strip_suffix("/...") {
                Some(prefix) => format!("{prefix}/*"),
                None => based.clone(),
            };
            let handler = Handler {
                component: component.clone(),
                raw_route: raw.clone(),
            };
            inner.add(spec.as_str(), handler).map_err(|e| {
                anyhow!("Error parsing route {based} associated with component {component}: {e}")
            })?;
        }
        Ok(Router { inner })
    }

    /// Routes `path`; `None` is Spin's generic 404.
    pub fn route(&self, path: &str) -> Option<RouteMatch> {
        let m = self.inner.best_match(path)?;
        let captures = m.captures();
        let params = captures
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let path_info = match captures.wildcard() {
            Some(w) => match (w.is_empty(), path.ends_with('/')) {
                (true, false) => String::new(),
                (true, true) => "/".into(),
                (false, false) => format!("/{w}"),
                (false, true) => format!("/{w}/"),
            },
            None => String::new(),
        };
        let handler = m.handler();
        Some(RouteMatch {
            component: handler.component.clone(),
            raw_route: handler.raw_route.clone(),
            params,
            path_info,
        })
    }
}

/// Absolute route without one trailing slash, as Spin stores it.
fn sanitize(route: &str) -> String {
    let abs = if route.starts_with('/') {
        route.to_owned()
    } else {
        format!("/{route}")
    };
    abs.strip_suffix('/').map(str::to_owned).unwrap_or(abs)
}

/// Insertion-ordered map where a re-inserted key keeps its first position
/// but takes the new value (IndexMap's semantics, which Spin relies on).
mod indexmap_lite {
    #[derive(Default)]
    pub struct OrderedMap(Vec<(String, String)>);

    impl OrderedMap {
        pub fn insert(&mut self, key: String, value: String) {
            match self.0.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value,
                None => self.0.push((key, value)),
            }
        }

        pub fn into_iter(self) -> impl Iterator<Item = (String, String)> {
            self.0.into_iter()
        }
    }
}
