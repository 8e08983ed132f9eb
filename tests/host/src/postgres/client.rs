//! `query` and `execute` on one pooled connection, with Spin 3.6.3's error
//! shapes: server errors become `query-failed(db-error{..})` (SQLSTATE code,
//! severity, message, detail, extras), client-side failures (a parameter the
//! server's type rejects, a column that cannot be read, a lost connection)
//! become `query-failed(text(..))`.

use futures_util::TryStreamExt as _;
use tokio_postgres::types::ToSql;

use super::bindings::v4::{DbError, Error, ParameterValue, QueryError, RowSet};
use super::{params, results};

/// Runs a statement and returns the number of rows it affected. Parameters
/// that cannot be converted fail with `value-conversion-failed`.
pub async fn execute(
    client: &tokio_postgres::Client,
    statement: &str,
    params: &[ParameterValue],
) -> Result<u64, Error> {
    let params =
        params::to_sql_all(params).map_err(|e| Error::ValueConversionFailed(anyhow_debug(&e)))?;
    let refs: Vec<&(dyn ToSql + Sync)> = params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect();
    client.execute(statement, &refs).await.map_err(query_failed)
}

/// Runs a query and returns all its rows. Parameters that cannot be
/// converted fail with `bad-parameter` (not `value-conversion-failed` as in
/// `execute`: Spin differs between the two, so do we).
pub async fn query(
    client: &tokio_postgres::Client,
    statement: &str,
    params: &[ParameterValue],
) -> Result<RowSet, Error> {
    let params = params::to_sql_all(params).map_err(|e| Error::BadParameter(anyhow_debug(&e)))?;
    let stream = client
        .query_raw(statement, params)
        .await
        .map_err(query_failed)?;
    let mut stream = std::pin::pin!(stream);
    let mut columns = None;
    let mut rows = Vec::new();
    let read = async {
        while let Some(row) = stream.try_next().await? {
            columns.get_or_insert_with(|| results::columns(&row));
            rows.push(results::row_values(&row)?);
        }
        anyhow::Ok(())
    };
    read.await
        .map_err(|e| Error::QueryFailed(QueryError::Text(anyhow_debug(&e))))?;
    Ok(RowSet {
        columns: columns.unwrap_or_default(),
        rows,
    })
}

/// The guest-visible form of a driver error.
fn query_failed(e: tokio_postgres::Error) -> Error {
    let as_text = format!("{e:?}");
    Error::QueryFailed(match e.as_db_error() {
        None => QueryError::Text(as_text),
        Some(db) => QueryError::DbError(DbError {
            as_text,
            severity: db.severity().to_owned(),
            code: db.code().code().to_owned(),
            message: db.message().to_owned(),
            detail: db.detail().map(str::to_owned),
            extras: extras(db),
        }),
    })
}

/// The optional fields of a server error, named as Spin names them (the
/// accessor names of `tokio_postgres::error::DbError`), in Spin's order.
fn extras(db: &tokio_postgres::error::DbError) -> Vec<(String, String)> {
    let fields: [(&str, Option<String>); 10] = [
        ("column", db.column().map(str::to_owned)),
        ("constraint", db.constraint().map(str::to_owned)),
        ("routine", db.routine().map(str::to_owned)),
        ("hint", db.hint().map(str::to_owned)),
        ("table", db.table().map(str::to_owned)),
        ("datatype", db.datatype().map(str::to_owned)),
        ("schema", db.schema().map(str::to_owned)),
        ("file", db.file().map(str::to_owned)),
        ("line", db.line().map(|l| l.to_string())),
        ("where_", db.where_().map(str::to_owned)),
    ];
    fields
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_owned(), v?)))
        .collect()
}

/// `format!("{e:?}")` of an `anyhow::Error`, which is what Spin puts into
/// its error strings, minus the backtrace that `RUST_BACKTRACE=1` would add.
pub fn anyhow_debug(e: &anyhow::Error) -> String {
    let mut out = e.to_string();
    let causes: Vec<String> = e.chain().skip(1).map(|c| c.to_string()).collect();
    match causes.as_slice() {
        [] => {}
        [one] => out.push_str(&format!("\n\nCaused by:\n    {one}")),
        many => {
            out.push_str("\n\nCaused by:");
            for (i, c) in many.iter().enumerate() {
                out.push_str(&format!("\n    {i}: {c}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn anyhow_debug_matches_anyhows_own_format_without_backtrace() {
        let one = anyhow::anyhow!("root").context("outer");
        assert_eq!(anyhow_debug(&one), "outer\n\nCaused by:\n    root");
        let two = anyhow::anyhow!("root").context("middle").context("outer");
        assert_eq!(
            anyhow_debug(&two),
            "outer\n\nCaused by:\n    0: middle\n    1: root"
        );
        assert_eq!(anyhow_debug(&anyhow::anyhow!("alone")), "alone");
    }
}
