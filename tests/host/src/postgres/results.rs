//! Result rows to guest `db-value`s and column types, chosen by the column's
//! SQL type exactly as Spin 3.6.3 does. Reading goes through the driver's
//! `FromSql` for the Rust type Spin uses, so a column whose type that Rust
//! type does not accept fails the same way: notably `timestamptz`, which Spin
//! reads as a naive timestamp and therefore cannot read at all.

use anyhow::Context as _;
use tokio_postgres::types::{FromSql, Type};
use tokio_postgres::Row;

use super::bindings::v4::{Column, DbDataType, DbValue, RangeBoundKind};
use super::params::WitRange;
use super::sql_types::{PgInterval, RangeDecimal, RawValue};

/// The column list of a result, taken from one of its rows (so, as in Spin,
/// a result without rows reports no columns).
pub fn columns(row: &Row) -> Vec<Column> {
    row.columns()
        .iter()
        .map(|c| Column {
            name: c.name().to_owned(),
            data_type: data_type(c.type_()),
        })
        .collect()
}

/// The WIT type reported for a SQL type; anything else is `other(name)`.
pub fn data_type(ty: &Type) -> DbDataType {
    match *ty {
        Type::BOOL => DbDataType::Boolean,
        Type::BYTEA => DbDataType::Binary,
        Type::FLOAT4 => DbDataType::Floating32,
        Type::FLOAT8 => DbDataType::Floating64,
        Type::INT2 => DbDataType::Int16,
        Type::INT4 => DbDataType::Int32,
        Type::INT8 => DbDataType::Int64,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR => DbDataType::Str,
        Type::TIMESTAMP | Type::TIMESTAMPTZ => DbDataType::Datetime,
        Type::DATE => DbDataType::Date,
        Type::TIME => DbDataType::Time,
        Type::UUID => DbDataType::Uuid,
        Type::JSONB => DbDataType::Jsonb,
        Type::NUMERIC => DbDataType::Decimal,
        Type::INT4_RANGE => DbDataType::RangeInt32,
        Type::INT8_RANGE => DbDataType::RangeInt64,
        Type::NUM_RANGE => DbDataType::RangeDecimal,
        Type::INT4_ARRAY => DbDataType::ArrayInt32,
        Type::INT8_ARRAY => DbDataType::ArrayInt64,
        Type::NUMERIC_ARRAY => DbDataType::ArrayDecimal,
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => DbDataType::ArrayStr,
        Type::INTERVAL => DbDataType::Interval,
        _ => DbDataType::Other(ty.name().to_owned()),
    }
}

/// Converts every value of a row.
pub fn row_values(row: &Row) -> anyhow::Result<Vec<DbValue>> {
    (0..row.len()).map(|i| value(row, i)).collect()
}

/// Reads column `i` as `T` (NULL becomes `db-null`) and wraps it.
fn get<'a, T: FromSql<'a>>(
    row: &'a Row,
    i: usize,
    wrap: impl FnOnce(T) -> anyhow::Result<DbValue>,
) -> anyhow::Result<DbValue> {
    match row.try_get::<_, Option<T>>(i)? {
        Some(v) => wrap(v),
        None => Ok(DbValue::DbNull),
    }
}

/// Converts the value in column `i`.
pub fn value(row: &Row, i: usize) -> anyhow::Result<DbValue> {
    let ty = row.columns()[i].type_();
    match *ty {
        Type::BOOL => get(row, i, |v| Ok(DbValue::Boolean(v))),
        Type::BYTEA => get(row, i, |v| Ok(DbValue::Binary(v))),
        Type::FLOAT4 => get(row, i, |v| Ok(DbValue::Floating32(v))),
        Type::FLOAT8 => get(row, i, |v| Ok(DbValue::Floating64(v))),
        Type::INT2 => get(row, i, |v| Ok(DbValue::Int16(v))),
        Type::INT4 => get(row, i, |v| Ok(DbValue::Int32(v))),
        Type::INT8 => get(row, i, |v| Ok(DbValue::Int64(v))),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR => get(row, i, |v| Ok(DbValue::Str(v))),
        // Spin reads both as `NaiveDateTime`, which the driver accepts only
        // for `timestamp`: a `timestamptz` column fails here, as it does there.
        Type::TIMESTAMP | Type::TIMESTAMPTZ => get(row, i, |v| datetime(v).map(DbValue::Datetime)),
        Type::DATE => get(row, i, |v| date(v).map(DbValue::Date)),
        Type::TIME => get(row, i, |v| time(v).map(DbValue::Time)),
        Type::UUID => get(row, i, |v: uuid::Uuid| Ok(DbValue::Uuid(v.to_string()))),
        Type::JSONB => get(row, i, |v: serde_json::Value| {
            Ok(DbValue::Jsonb(
                serde_json::to_vec(&v).context("invalid JSON from database")?,
            ))
        }),
        Type::NUMERIC => get(row, i, |v: rust_decimal::Decimal| {
            Ok(DbValue::Decimal(v.to_string()))
        }),
        Type::INT4_RANGE => get(row, i, |v| Ok(DbValue::RangeInt32(range(v, |x: &i32| *x)))),
        Type::INT8_RANGE => get(row, i, |v| Ok(DbValue::RangeInt64(range(v, |x: &i64| *x)))),
        Type::NUM_RANGE => get(row, i, |v| {
            Ok(DbValue::RangeDecimal(range(v, |x: &RangeDecimal| {
                x.0.to_string()
            })))
        }),
        Type::INT4_ARRAY => get(row, i, |v| Ok(DbValue::ArrayInt32(v))),
        Type::INT8_ARRAY => get(row, i, |v| Ok(DbValue::ArrayInt64(v))),
        Type::NUMERIC_ARRAY => get(row, i, |v: Vec<Option<rust_decimal::Decimal>>| {
            Ok(DbValue::ArrayDecimal(
                v.into_iter().map(|d| d.map(|d| d.to_string())).collect(),
            ))
        }),
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => {
            get(row, i, |v| Ok(DbValue::ArrayStr(v)))
        }
        Type::INTERVAL => get(row, i, |v: PgInterval| Ok(DbValue::Interval(v.0))),
        _ => get(row, i, |v: RawValue| Ok(DbValue::Unsupported(v.0))),
    }
}

fn date(v: chrono::NaiveDate) -> anyhow::Result<(i32, u8, u8)> {
    use chrono::Datelike;
    Ok((v.year(), v.month().try_into()?, v.day().try_into()?))
}

fn time(v: chrono::NaiveTime) -> anyhow::Result<(u8, u8, u8, u32)> {
    use chrono::Timelike;
    Ok((
        v.hour().try_into()?,
        v.minute().try_into()?,
        v.second().try_into()?,
        v.nanosecond(),
    ))
}

fn datetime(v: chrono::NaiveDateTime) -> anyhow::Result<(i32, u8, u8, u8, u8, u8, u32)> {
    let (y, mo, d) = date(v.date())?;
    let (h, mi, s, ns) = time(v.time())?;
    Ok((y, mo, d, h, mi, s, ns))
}

fn bound_kind(t: postgres_range::BoundType) -> RangeBoundKind {
    match t {
        postgres_range::BoundType::Inclusive => RangeBoundKind::Inclusive,
        postgres_range::BoundType::Exclusive => RangeBoundKind::Exclusive,
    }
}

fn range<T, W>(r: postgres_range::Range<T>, f: impl Fn(&T) -> W) -> WitRange<W>
where
    T: PartialOrd + postgres_range::Normalizable,
{
    (
        r.lower().map(|b| (f(&b.value), bound_kind(b.type_))),
        r.upper().map(|b| (f(&b.value), bound_kind(b.type_))),
    )
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn sql_types_report_spins_wit_types() {
        assert!(matches!(
            data_type(&Type::TIMESTAMPTZ),
            DbDataType::Datetime
        ));
        assert!(matches!(
            data_type(&Type::BPCHAR_ARRAY),
            DbDataType::ArrayStr
        ));
        assert!(matches!(data_type(&Type::INT2), DbDataType::Int16));
        assert!(matches!(
            data_type(&Type::NUM_RANGE),
            DbDataType::RangeDecimal
        ));
        match data_type(&Type::JSON) {
            DbDataType::Other(name) => assert_eq!(name, "json"),
            other => panic!("json should be other(json), got {other:?}"),
        }
        assert!(matches!(data_type(&Type::CHAR), DbDataType::Other(_)));
    }

    #[test]
    fn date_time_tuples_split_chrono_values() {
        let dt = chrono::NaiveDate::from_ymd_opt(2024, 2, 29)
            .unwrap()
            .and_hms_nano_opt(23, 59, 58, 123_456_000)
            .unwrap();
        assert_eq!(
            datetime(dt).unwrap(),
            (2024, 2, 29, 23, 59, 58, 123_456_000)
        );
        assert_eq!(
            date(chrono::NaiveDate::from_ymd_opt(-44, 3, 15).unwrap()).unwrap(),
            (-44, 3, 15)
        );
    }

    #[test]
    fn ranges_keep_bounds_and_kinds() {
        let r = postgres_range::Range::new(
            Some(postgres_range::RangeBound::new(
                RangeDecimal(rust_decimal::Decimal::new(123_456, 3)),
                postgres_range::BoundType::Exclusive,
            )),
            None,
        );
        let (lo, hi) = range(r, |d: &RangeDecimal| d.0.to_string());
        assert_eq!(lo, Some(("123.456".to_string(), RangeBoundKind::Exclusive)));
        assert_eq!(hi, None);
    }
}
