//! Spin variables (`fermyon:spin/variables@2.0.0`), resolved like Spin 3.6.3:
//! a provider value (here: explicit overrides, standing in for Spin's
//! `SPIN_VARIABLE_*` environment provider) wins over the manifest default; a
//! required variable nobody provides stops the app from starting; component
//! variables are `{{ name }}` templates over application variables.

use std::collections::{BTreeMap, HashMap};

use anyhow::bail;

use crate::manifest::Manifest;

/// The resolved application variables, shared by all instances.
#[derive(Debug, Clone)]
pub struct Variables {
    values: HashMap<String, String>,
    components: HashMap<String, BTreeMap<String, String>>,
}

/// Errors as the guest sees them (the WIT `error` variant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VariableError {
    /// Not a valid variable name.
    InvalidName(String),
    /// The component declares no such variable.
    Undefined(String),
}

impl Variables {
    /// Resolves every application variable, failing like `spin up` when a
    /// required one has no value.
    pub fn resolve(
        manifest: &Manifest,
        overrides: &HashMap<String, String>,
    ) -> anyhow::Result<Self> {
        let mut values = HashMap::new();
        let mut unresolved = Vec::new();
        for (name, decl) in &manifest.variables {
            match overrides.get(name).or(decl.default.as_ref()) {
                Some(v) => {
                    values.insert(name.clone(), v.clone());
                }
                None => unresolved.push(format!("Key({name:?})")),
            }
        }
        if !unresolved.is_empty() {
            bail!(
                "provider error: no provider resolved required variable(s): [{}]",
                unresolved.join(", ")
            );
        }
        for name in overrides.keys() {
            if !manifest.variables.contains_key(name) {
                bail!("variable {name:?} is set but not declared in spin.toml");
            }
        }
        let components = manifest
            .components
            .iter()
            .map(|(id, c)| (id.clone(), c.variables.clone()))
            .collect();
        let vars = Variables { values, components };
        for (id, templates) in &vars.components {
            for template in templates.values() {
                vars.expand(template)
                    .map_err(|e| anyhow::anyhow!("component {id:?}: {e}"))?;
            }
        }
        Ok(vars)
    }

    /// Expands `{{ name }}` templates against application variables.
    pub fn expand(&self, template: &str) -> anyhow::Result<String> {
        let mut out = String::new();
        let mut rest = template;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else {
                bail!("invalid variable template: unterminated '{{{{' in {template:?}");
            };
            let name = after[..end].trim();
            let Some(value) = self.values.get(name) else {
                bail!("invalid variable template: unknown variable {name:?}");
            };
            out.push_str(value);
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// What `variables.get(name)` returns inside `component`.
    pub fn get(&self, component: &str, name: &str) -> Result<String, VariableError> {
        let valid = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(VariableError::InvalidName(format!(
                "{name:?}: invalid variable name"
            )));
        }
        let template = self
            .components
            .get(component)
            .and_then(|vars| vars.get(name))
            .ok_or_else(|| {
                VariableError::Undefined(format!("no variable for {component:?}.{name:?}"))
            })?;
        self.expand(template)
            .map_err(|e| VariableError::Undefined(e.to_string()))
    }
}
