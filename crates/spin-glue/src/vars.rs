//! Spin variables (docs/CONTRACT.md, "Configuration"), read with a clear
//! error.

/// A variable that is missing or unreadable: a deployment mistake, reported
/// by name so the operator knows what to set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Spin variable '{0}' is not available")]
pub struct MissingVariable(pub String);

/// The variable's value; the manifest gives every optional one a default.
pub fn get(name: &str) -> Result<String, MissingVariable> {
    spin_sdk::variables::get(name).map_err(|_| MissingVariable(name.to_owned()))
}

/// The variable's value, or `fallback` when it cannot be read.
pub fn get_or(name: &str, fallback: &str) -> String {
    get(name).unwrap_or_else(|_| fallback.to_owned())
}
