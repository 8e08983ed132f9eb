//! `GET /<service>/readyz`: 200 only if Postgres answers and the schema is
//! migrated; otherwise 503 with the reason (docs/CONTRACT.md, "Routes").

use spin_sdk::http::Response;

use crate::db::{self, SCHEMA_VERSION};
use crate::{serve, vars};

/// The statement readiness reads the schema's version with: the newest
/// applied migration as `jsonb` text, `null` when none. Shared with
/// `GET /metrics` so both judge the schema the same way.
pub const APPLIED_VERSION_SQL: &str =
    "SELECT coalesce(to_jsonb(max(version)), 'null'::jsonb) FROM schema_migrations";

/// The readiness judgement of a schema: migrated when the newest applied
/// migration is at least [`SCHEMA_VERSION`] (`NNNN_` prefixes sort by
/// number). Public so `todo_schema_ready` says exactly what readyz says.
pub fn schema_is_current(applied: Option<&str>) -> bool {
    applied.is_some_and(|v| v >= SCHEMA_VERSION)
}

/// Checks configuration, connectivity and schema version.
pub fn check() -> Response {
    match probe() {
        Ok(()) => serve::json(
            200,
            &serde_json::json!({"status": "ready", "schema": SCHEMA_VERSION}),
        ),
        Err((code, message)) => serve::json(
            503,
            &serde_json::json!({"status": "not_ready", "error": {"code": code, "message": message}}),
        ),
    }
}

fn probe() -> Result<(), (&'static str, String)> {
    let url = vars::get("database_url").map_err(|e| ("config", e.to_string()))?;
    let host = vars::get_or("database_host", "localhost:5432");
    if let Some(target) = crate::pg_url::host_port(&url) {
        if !crate::pg_url::same_host(&target, &host) {
            return Err((
                "database_host_mismatch",
                format!("database_url points at {target} but database_host (allowed_outbound_hosts) is {host}"),
            ));
        }
    }
    // Liveness: the request's only connection; nothing here opens another
    // while it is held (`spin_glue::db::Conn`).
    let conn = db::open().map_err(|e| ("database_unreachable", e.to_string()))?;
    let rows: Vec<Option<String>> = db::query_json(&conn, APPLIED_VERSION_SQL, &[])
        .map_err(|e| ("schema_not_migrated", e.to_string()))?;
    match rows.into_iter().next().flatten() {
        Some(v) if schema_is_current(Some(&v)) => Ok(()),
        Some(v) => Err((
            "schema_outdated",
            format!(
                "schema is at {v}, components need {SCHEMA_VERSION}: run migrations/migrate.sh"
            ),
        )),
        None => Err((
            "schema_not_migrated",
            "no migration applied: run migrations/migrate.sh".into(),
        )),
    }
}

#[cfg(test)]
mod tests;
