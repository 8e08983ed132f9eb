//! PostgreSQL through Spin's `spin:postgres/postgres@4.0.0`.
//!
//! Rows come back as one `jsonb` column (`SELECT to_jsonb(t) ...`,
//! `jsonb_build_object(...)`) and are read with serde, because Spin 3.6.3's
//! Postgres API cannot decode `timestamptz` columns: a timestamp only
//! reaches the component inside a `jsonb` value. Parameters go in as text
//! with explicit casts (`$1::text::uuid`), which keeps one way of binding
//! every type.

use serde::de::DeserializeOwned;
use serde::Serialize;
use spin_sdk::pg4::{Connection, DbValue, ParameterValue, PgError, QueryError};

use crate::vars::{self, MissingVariable};

/// The newest migration the components were built against; readiness
/// answers 503 until `schema_migrations` has it.
pub const SCHEMA_VERSION: &str = "0009_metric_counters";

/// The connection of one request, opened on first use and shared by every
/// entry of a bulk delivery; [`LazyConnection::reset`] after a fault, so
/// the next entry opens a new one instead of reusing a broken one.
#[derive(Default)]
pub struct LazyConnection(Option<Connection>);

impl LazyConnection {
    /// The open connection, opening it if needed.
    pub fn get(&mut self) -> Result<&Connection, DbFault> {
        match &mut self.0 {
            Some(conn) => Ok(conn),
            empty => Ok(empty.insert(open()?)),
        }
    }

    /// Forgets the connection (it may be broken).
    pub fn reset(&mut self) {
        self.0 = None;
    }
}

/// A database fault: transient from Dapr's point of view (answer RETRY).
/// The field is the typed cause; it serialises as its description, so it
/// can go into a log line as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DbFault(pub DbError);

/// What went wrong with the database, described without secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DbError {
    /// `database_url` cannot be read.
    #[error(transparent)]
    Url(#[from] MissingVariable),
    /// No connection could be opened.
    #[error("connection failed: {0}")]
    Connection(String),
    /// A parameter was refused.
    #[error("bad parameter: {0}")]
    BadParameter(String),
    /// The statement failed before PostgreSQL answered (e.g. the
    /// connection broke).
    #[error("query failed: {0}")]
    Query(String),
    /// PostgreSQL answered the statement with an error (e.g. an undefined
    /// table): the server is up.
    #[error("query failed: {0}")]
    Refused(String),
    /// A value could not be converted.
    #[error("value conversion failed: {0}")]
    Conversion(String),
    /// Any other error of the host.
    #[error("database error: {0}")]
    Other(String),
    /// A row is not the jsonb value the statement is written to produce.
    #[error("unexpected row shape: {0}")]
    RowShape(String),
}

impl From<DbError> for DbFault {
    fn from(e: DbError) -> Self {
        DbFault(e)
    }
}

impl From<PgError> for DbFault {
    fn from(e: PgError) -> Self {
        DbFault(match e {
            PgError::ConnectionFailed(m) => DbError::Connection(m),
            PgError::BadParameter(m) => DbError::BadParameter(m),
            PgError::QueryFailed(QueryError::Text(t)) => DbError::Query(t),
            PgError::QueryFailed(QueryError::DbError(d)) => {
                DbError::Refused(format!("{} ({})", d.message, d.code))
            }
            PgError::ValueConversionFailed(m) => DbError::Conversion(m),
            PgError::Other(m) => DbError::Other(m),
        })
    }
}

impl Serialize for DbError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl DbFault {
    /// True when PostgreSQL itself answered with an error, so the server is
    /// up; false for connection faults.
    pub fn answered_by_server(&self) -> bool {
        matches!(self.0, DbError::Refused(_))
    }
}

/// Opens a connection to `database_url`.
pub fn open() -> Result<Connection, DbFault> {
    let url = vars::get("database_url").map_err(DbError::from)?;
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
            Some(DbValue::Jsonb(bytes)) => {
                serde_json::from_slice(bytes).map_err(|e| DbError::RowShape(e.to_string()).into())
            }
            other => {
                Err(DbError::RowShape(format!("expected a jsonb column, got {other:?}")).into())
            }
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
