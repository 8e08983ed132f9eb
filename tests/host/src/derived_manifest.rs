//! Test manifests derived from the real `spin.toml`: the same routes,
//! variables and outbound hosts, but only the components a test talks to
//! (so a suite neither needs nor compiles the others), absolute component
//! sources, and optionally an edit (e.g. a narrower allow-list).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context as _;

/// The repository root (the folder holding `spin.toml`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

/// The real `spin.toml`.
pub fn spin_toml() -> PathBuf {
    repo_root().join("spin.toml")
}

/// The real `spin.toml` reduced to `keep`, written once per test process
/// under `name` (the suites' shared app).
pub fn kept(name: &'static str, keep: &[&str]) -> &'static Path {
    static WRITTEN: Mutex<BTreeMap<&'static str, &'static Path>> = Mutex::new(BTreeMap::new());
    let mut written = WRITTEN.lock().unwrap_or_else(|e| e.into_inner());
    written.entry(name).or_insert_with(|| {
        let path = Derive::keeping(name, keep)
            .write()
            .expect("derived manifest");
        Box::leak(path.into_boxed_path())
    })
}

/// What to derive.
pub struct Derive<'a> {
    /// File name, unique per use within one test process.
    pub name: &'a str,
    /// Components (and their triggers) to keep.
    pub keep: &'a [&'a str],
    /// Replaces a component's `.wasm` (e.g. a deliberately broken build).
    pub sources: &'a [(&'a str, PathBuf)],
    /// A last change to the parsed manifest.
    pub edit: &'a dyn Fn(&mut toml::Table),
}

impl<'a> Derive<'a> {
    /// Keep `keep`, nothing else changed.
    pub fn keeping(name: &'a str, keep: &'a [&'a str]) -> Self {
        Derive {
            name,
            keep,
            sources: &[],
            edit: &|_| {},
        }
    }

    /// Writes the manifest into a per-process temp folder; returns its path.
    pub fn write(&self) -> anyhow::Result<PathBuf> {
        let root = repo_root();
        let text = std::fs::read_to_string(root.join("spin.toml")).context("read spin.toml")?;
        let mut doc: toml::Table = toml::from_str(&text).context("parse spin.toml")?;
        let components = doc
            .get_mut("component")
            .and_then(toml::Value::as_table_mut)
            .context("spin.toml has no [component] tables")?;
        components.retain(|id, _| self.keep.contains(&id));
        for (id, component) in components.iter_mut() {
            let table = component
                .as_table_mut()
                .context("component is not a table")?;
            let source = match self.sources.iter().find(|(c, _)| c == id) {
                Some((_, path)) => path.clone(),
                None => root.join(
                    table
                        .get("source")
                        .and_then(toml::Value::as_str)
                        .context("source")?,
                ),
            };
            table.insert(
                "source".into(),
                source.to_string_lossy().into_owned().into(),
            );
        }
        if let Some(triggers) = doc
            .get_mut("trigger")
            .and_then(|t| t.get_mut("http"))
            .and_then(toml::Value::as_array_mut)
        {
            triggers.retain(|t| {
                t.get("component")
                    .and_then(toml::Value::as_str)
                    .is_some_and(|c| self.keep.contains(&c))
            });
        }
        (self.edit)(&mut doc);
        let dir =
            std::env::temp_dir().join(format!("component-host-manifests-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(self.name);
        std::fs::write(&path, toml::to_string(&doc)?)?;
        Ok(path)
    }
}
