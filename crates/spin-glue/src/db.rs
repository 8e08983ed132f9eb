//! PostgreSQL through Spin's `spin:postgres/postgres@4.0.0`.
//!
//! Rows come back as one `jsonb` column (`SELECT to_jsonb(t) ...`,
//! `jsonb_build_object(...)`) and are read with serde, because Spin 3.6.3's
//! Postgres API cannot decode `timestamptz` columns: a timestamp only
//! reaches the component inside a `jsonb` value. Parameters go in as text
//! with explicit casts (`$1::text::uuid`), which keeps one way of binding
//! every type.

use std::sync::atomic::{AtomicBool, Ordering};

use serde::de::DeserializeOwned;
use serde::Serialize;
use spin_sdk::pg4::{Connection, DbValue, ParameterValue, PgError, QueryError};

use crate::vars::{self, MissingVariable};

/// The newest migration the components were built against; readiness
/// answers 503 until `schema_migrations` has it.
pub const SCHEMA_VERSION: &str = "0009_metric_counters";

/// The connection of one request, opened on first use and shared by every
/// step of it (every entry of a bulk request, and keeping the dropped
/// ones); [`LazyConnection::reset`] after a fault, so the next step opens a
/// new one instead of reusing a broken one.
#[derive(Default)]
pub struct LazyConnection(Option<Conn>);

impl LazyConnection {
    /// The open connection, opening it if needed.
    pub fn get(&mut self) -> Result<&Conn, DbFault> {
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
    /// The request already holds a connection ([`Conn`]): a defect of the
    /// code, refused rather than risking a pool deadlock.
    #[error("a second connection was asked for while one is held")]
    SecondConnection,
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

/// Whether this instance (one request: Spin instantiates a component per
/// request) holds a connection now.
static HELD: AtomicBool = AtomicBool::new(false);

/// A pooled connection; at most one is held per request.
///
/// Liveness (docs/CONTRACT.md, "Dapr behaviour"): Spin 3.6.3 pools 64
/// connections per address and a checkout waits without limit, so a
/// request that holds one connection while it asks for another can wait
/// for ever once 64 requests do the same. Every route therefore opens one
/// connection and passes it down (`&Conn`, or a [`LazyConnection`]), and
/// [`open`] refuses a second one while the first is held: a violation
/// becomes a visible fault (RETRY, 503) instead of a hang.
pub struct Conn(Connection);

impl std::ops::Deref for Conn {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.0
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        HELD.store(false, Ordering::SeqCst);
    }
}

/// Opens the request's connection to `database_url`; fails with
/// [`DbError::SecondConnection`] while this request already holds one.
pub fn open() -> Result<Conn, DbFault> {
    let url = vars::get("database_url").map_err(DbError::from)?;
    if HELD.swap(true, Ordering::SeqCst) {
        tracing::error!(
            reason = "second_connection",
            "a second database connection was asked for while one is held; refused"
        );
        return Err(DbError::SecondConnection.into());
    }
    match Connection::open(&url) {
        Ok(conn) => Ok(Conn(conn)),
        Err(e) => {
            HELD.store(false, Ordering::SeqCst);
            Err(e.into())
        }
    }
}

/// A text parameter (cast it in SQL: `$1::text::uuid`).
pub fn text(value: impl Into<String>) -> ParameterValue {
    ParameterValue::Str(value.into())
}

/// A nullable text parameter.
pub fn opt_text(value: Option<impl Into<String>>) -> ParameterValue {
    value.map_or(ParameterValue::DbNull, |v| ParameterValue::Str(v.into()))
}

/// A PostgreSQL array literal (`{"a","b",NULL}`) of text values, to bind
/// as text and cast (`$1::text::uuid[]`). A set passed as arrays lets the
/// planner see how many rows it has (`= ANY(...)`, `unnest(...)` of a
/// known array), where a JSON set is always guessed at 100 rows: with
/// small or freshly loaded tables that guess picks a hash join over a
/// sequential scan instead of index lookups.
pub fn array_literal<'a>(values: impl IntoIterator<Item = Option<&'a str>>) -> String {
    let items: Vec<String> = values
        .into_iter()
        .map(|value| match value {
            None => "NULL".to_owned(),
            Some(text) => format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\"")),
        })
        .collect();
    format!("{{{}}}", items.join(","))
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

#[cfg(test)]
mod tests;
