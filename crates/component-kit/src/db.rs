//! PostgreSQL through Spin's `spin:postgres/postgres@4.0.0`.
//!
//! Rows come back as one `jsonb` column (`SELECT to_jsonb(t) ...`) and are
//! read with serde, and parameters go in as text with explicit casts
//! (`$1::text::uuid`), so the components need no per-type glue.

use serde::de::DeserializeOwned;
use spin_sdk::pg4::{Connection, DbValue, ParameterValue, PgError, QueryError};

use crate::vars;

/// The newest migration the components were built against; readiness
/// answers 503 until `schema_migrations` has it.
pub const SCHEMA_VERSION: &str = "0005_metrics_indexes";

/// A database fault: transient from Dapr's point of view (answer RETRY).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbFault(pub String);

impl std::fmt::Display for DbFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<PgError> for DbFault {
    fn from(e: PgError) -> Self {
        DbFault(describe(&e))
    }
}

/// A short, secret-free description of a Postgres error.
pub fn describe(e: &PgError) -> String {
    match e {
        PgError::ConnectionFailed(m) => format!("connection failed: {m}"),
        PgError::BadParameter(m) => format!("bad parameter: {m}"),
        PgError::QueryFailed(q) => match q {
            QueryError::Text(t) => format!("query failed: {t}"),
            QueryError::DbError(d) => format!("query failed: {} ({})", d.message, d.code),
        },
        PgError::ValueConversionFailed(m) => format!("value conversion failed: {m}"),
        PgError::Other(m) => format!("database error: {m}"),
    }
}

/// Opens a connection to `database_url`.
pub fn open() -> Result<Connection, DbFault> {
    let url = vars::get("database_url").map_err(|e| DbFault(e.to_string()))?;
    Ok(Connection::open(&url)?)
}

/// A text parameter (cast it in SQL: `$1::text::uuid`).
pub fn text(value: impl Into<String>) -> ParameterValue {
    ParameterValue::Str(value.into())
}

/// A nullable text parameter.
pub fn opt_text(value: Option<impl Into<String>>) -> ParameterValue {
    value.map_or(ParameterValue::DbNull, |v| ParameterValue::Str(v.into()))
}

/// An integer parameter.
pub fn int(value: i32) -> ParameterValue {
    ParameterValue::Int32(value)
}

/// Runs a query whose first column is `jsonb` and decodes each row.
pub fn query_json<T: DeserializeOwned>(
    conn: &Connection,
    sql: &str,
    params: &[ParameterValue],
) -> Result<Vec<T>, DbFault> {
    let rows = conn.query(sql, params)?;
    rows.rows
        .iter()
        .map(|row| match row.first() {
            Some(DbValue::Jsonb(bytes)) => serde_json::from_slice(bytes)
                .map_err(|e| DbFault(format!("unexpected row shape: {e}"))),
            other => Err(DbFault(format!("expected a jsonb column, got {other:?}"))),
        })
        .collect()
}

/// Like [`query_json`] for at most one row.
pub fn query_one<T: DeserializeOwned>(
    conn: &Connection,
    sql: &str,
    params: &[ParameterValue],
) -> Result<Option<T>, DbFault> {
    Ok(query_json(conn, sql, params)?.into_iter().next())
}

/// Runs a statement; returns the number of rows it touched.
pub fn execute(conn: &Connection, sql: &str, params: &[ParameterValue]) -> Result<u64, DbFault> {
    Ok(conn.execute(sql, params)?)
}
