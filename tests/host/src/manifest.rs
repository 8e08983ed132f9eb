//! The parts of a Spin manifest v2 (`spin.toml`) the host needs: variables,
//! HTTP triggers and components. Unknown keys are ignored, like Spin's
//! forward-compatible reader; what Spin rejects at load time fails here too.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use serde::Deserialize;

/// A loaded `spin.toml`, with paths made absolute against its folder.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The folder holding `spin.toml`; component sources are relative to it.
    pub root: PathBuf,
    /// Application variables (`[variables]`).
    pub variables: BTreeMap<String, VariableDecl>,
    /// `[[trigger.http]]` entries in declaration order.
    pub http_triggers: Vec<HttpTrigger>,
    /// `[component.<id>]` tables.
    pub components: BTreeMap<String, Component>,
}

/// One declared application variable.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct VariableDecl {
    /// Value used when no provider has one.
    pub default: Option<String>,
    /// Spin refuses to start when no provider resolves a required variable.
    #[serde(default)]
    pub required: bool,
    /// Kept out of logs by Spin; recorded for completeness.
    #[serde(default)]
    pub secret: bool,
}

/// One HTTP route bound to a component.
#[derive(Debug, Clone, Deserialize)]
pub struct HttpTrigger {
    /// Route pattern: exact, `:param` segments, or a trailing `/...`.
    pub route: String,
    /// Component id that serves it.
    pub component: String,
}

/// One component of the application.
#[derive(Debug, Clone, Deserialize)]
pub struct Component {
    /// Path of the `.wasm`, relative to the manifest.
    pub source: String,
    /// Outbound allow-list; entries may contain `{{ variable }}` templates.
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    /// Component variables: name -> template over application variables.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Raw {
    spin_manifest_version: toml::Value,
    #[serde(default)]
    variables: BTreeMap<String, VariableDecl>,
    #[serde(default)]
    trigger: RawTriggers,
    #[serde(default)]
    component: BTreeMap<String, Component>,
}

#[derive(Deserialize, Default)]
struct RawTriggers {
    #[serde(default)]
    http: Vec<HttpTrigger>,
}

impl Manifest {
    /// Reads and checks `path` (a `spin.toml`).
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read manifest {}", path.display()))?;
        let root = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Self::parse(&text, root)
    }

    /// Parses manifest text; `root` is the folder sources are relative to.
    pub fn parse(text: &str, root: PathBuf) -> anyhow::Result<Self> {
        let raw: Raw = toml::from_str(text).context("invalid spin.toml")?;
        if raw.spin_manifest_version.as_integer() != Some(2) {
            bail!("spin_manifest_version must be 2");
        }
        for (name, decl) in &raw.variables {
            check_variable_name(name)?;
            if decl.required && decl.default.is_some() {
                bail!("variable {name:?}: a required variable cannot have a default");
            }
        }
        for t in &raw.trigger.http {
            if !raw.component.contains_key(&t.component) {
                bail!(
                    "trigger for route {:?} references unknown component {:?}",
                    t.route,
                    t.component
                );
            }
        }
        for (id, c) in &raw.component {
            for name in c.variables.keys() {
                check_variable_name(name).with_context(|| format!("component {id:?}"))?;
            }
        }
        Ok(Manifest {
            root,
            variables: raw.variables,
            http_triggers: raw.trigger.http,
            components: raw.component,
        })
    }

    /// Absolute path of a component's `.wasm`.
    pub fn source_path(&self, component: &str) -> Option<PathBuf> {
        self.components
            .get(component)
            .map(|c| self.root.join(&c.source))
    }
}

/// Spin's rule: lower-case letters, digits and underscores, starting with a
/// letter.
fn check_variable_name(name: &str) -> anyhow::Result<()> {
    let ok = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok {
        bail!("invalid variable name {name:?}: Variable names may contain only lower-case letters, numbers, and underscores.");
    }
    Ok(())
}
