//! Guest `parameter-value`s to driver parameters, with the same Rust types
//! Spin 3.6.3 picks. The driver checks each Rust type against the type the
//! server inferred for the placeholder, so these choices decide which SQL
//! types a guest value can bind to (e.g. `datetime` only to `timestamp`,
//! `timestamp` only to `timestamptz`, `int8` only to `"char"`).

use anyhow::{anyhow, Context as _};
use tokio_postgres::types::ToSql;

use super::bindings::v4::{ParameterValue, RangeBoundKind};
use super::sql_types::{AnyNull, PgInterval, RangeDecimal};

/// One bound driver parameter.
pub type SqlParam = Box<dyn ToSql + Send + Sync>;

/// A WIT range: optional lower and upper bound, each with its kind.
pub type WitRange<T> = (Option<(T, RangeBoundKind)>, Option<(T, RangeBoundKind)>);

/// Converts one guest parameter; fails on malformed text (uuid, decimal,
/// JSON) and impossible dates/times, as Spin does before contacting the server.
pub fn to_sql(value: &ParameterValue) -> anyhow::Result<SqlParam> {
    Ok(match value {
        ParameterValue::Boolean(v) => Box::new(*v),
        ParameterValue::Int8(v) => Box::new(*v),
        ParameterValue::Int16(v) => Box::new(*v),
        ParameterValue::Int32(v) => Box::new(*v),
        ParameterValue::Int64(v) => Box::new(*v),
        ParameterValue::Floating32(v) => Box::new(*v),
        ParameterValue::Floating64(v) => Box::new(*v),
        ParameterValue::Str(v) => Box::new(v.clone()),
        ParameterValue::Binary(v) => Box::new(v.clone()),
        ParameterValue::Date(v) => Box::new(date(*v)?),
        ParameterValue::Time(v) => Box::new(time(*v)?),
        ParameterValue::Datetime(v) => Box::new(datetime(*v)?),
        ParameterValue::Timestamp(v) => Box::new(timestamp(*v)?),
        ParameterValue::Uuid(v) => {
            Box::new(uuid::Uuid::parse_str(v).with_context(|| format!("invalid UUID {v}"))?)
        }
        ParameterValue::Jsonb(v) => Box::new(json(v)?),
        ParameterValue::Decimal(v) => Box::new(decimal(v)?),
        ParameterValue::RangeInt32(v) => Box::new(range(*v)),
        ParameterValue::RangeInt64(v) => Box::new(range(*v)),
        ParameterValue::RangeDecimal(v) => Box::new(decimal_range(v)?),
        ParameterValue::ArrayInt32(v) => Box::new(v.clone()),
        ParameterValue::ArrayInt64(v) => Box::new(v.clone()),
        ParameterValue::ArrayDecimal(v) => Box::new(decimal_array(v)?),
        ParameterValue::ArrayStr(v) => Box::new(v.clone()),
        ParameterValue::Interval(v) => Box::new(PgInterval(*v)),
        ParameterValue::DbNull => Box::new(AnyNull),
    })
}

/// Converts a whole parameter list, stopping at the first bad value.
pub fn to_sql_all(values: &[ParameterValue]) -> anyhow::Result<Vec<SqlParam>> {
    values.iter().map(to_sql).collect()
}

fn date((y, m, d): (i32, u8, u8)) -> anyhow::Result<chrono::NaiveDate> {
    chrono::NaiveDate::from_ymd_opt(y, m.into(), d.into())
        .ok_or_else(|| anyhow!("invalid date y={y}, m={m}, d={d}"))
}

fn time((h, min, s, ns): (u8, u8, u8, u32)) -> anyhow::Result<chrono::NaiveTime> {
    chrono::NaiveTime::from_hms_nano_opt(h.into(), min.into(), s.into(), ns)
        .ok_or_else(|| anyhow!("invalid time {h}:{min}:{s}:{ns}"))
}

fn datetime(
    (y, m, d, h, min, s, ns): (i32, u8, u8, u8, u8, u8, u32),
) -> anyhow::Result<chrono::NaiveDateTime> {
    Ok(date((y, m, d))?.and_time(time((h, min, s, ns))?))
}

/// Seconds since the epoch; WIT carries no sub-second part.
fn timestamp(secs: i64) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp(secs, 0)
        .ok_or_else(|| anyhow!("invalid epoch timestamp {secs}"))
}

fn json(bytes: &[u8]) -> anyhow::Result<serde_json::Value> {
    serde_json::from_slice(bytes)
        .with_context(|| format!("invalid JSON {}", String::from_utf8_lossy(bytes)))
}

fn decimal(text: &str) -> anyhow::Result<rust_decimal::Decimal> {
    rust_decimal::Decimal::from_str_exact(text).with_context(|| format!("invalid decimal {text}"))
}

fn decimal_array(values: &[Option<String>]) -> anyhow::Result<Vec<Option<rust_decimal::Decimal>>> {
    values
        .iter()
        .map(|v| v.as_deref().map(decimal).transpose())
        .collect()
}

fn bound_type(kind: RangeBoundKind) -> postgres_range::BoundType {
    match kind {
        RangeBoundKind::Inclusive => postgres_range::BoundType::Inclusive,
        RangeBoundKind::Exclusive => postgres_range::BoundType::Exclusive,
    }
}

fn range<T: PartialOrd + postgres_range::Normalizable>(
    (lower, upper): WitRange<T>,
) -> postgres_range::Range<T> {
    postgres_range::Range::new(
        lower.map(|(v, k)| postgres_range::RangeBound::new(v, bound_type(k))),
        upper.map(|(v, k)| postgres_range::RangeBound::new(v, bound_type(k))),
    )
}

fn decimal_range(
    (lower, upper): &WitRange<String>,
) -> anyhow::Result<postgres_range::Range<RangeDecimal>> {
    let lower = lower
        .as_ref()
        .map(|(v, k)| anyhow::Ok((RangeDecimal(decimal(v)?), *k)))
        .transpose()?;
    let upper = upper
        .as_ref()
        .map(|(v, k)| anyhow::Ok((RangeDecimal(decimal(v)?), *k)))
        .transpose()?;
    Ok(range((lower, upper)))
}

#[cfg(test)]
mod unit {
    use super::*;
    use bytes::BytesMut;
    use tokio_postgres::types::Type;

    fn accepts(value: ParameterValue, ty: Type) -> bool {
        to_sql(&value)
            .unwrap()
            .to_sql_checked(&ty, &mut BytesMut::new())
            .is_ok()
    }

    #[test]
    fn timestamp_is_whole_seconds_since_the_epoch() {
        assert_eq!(
            timestamp(0).unwrap().to_rfc3339(),
            "1970-01-01T00:00:00+00:00"
        );
        assert_eq!(
            timestamp(3723).unwrap().to_rfc3339(),
            "1970-01-01T01:02:03+00:00"
        );
        assert_eq!(
            timestamp(-86_400).unwrap().to_rfc3339(),
            "1969-12-31T00:00:00+00:00"
        );
        assert!(timestamp(i64::MAX).is_err());
    }

    #[test]
    fn bad_text_and_impossible_dates_are_rejected_before_the_server() {
        assert!(to_sql(&ParameterValue::Uuid("not-a-uuid".into())).is_err());
        assert!(to_sql(&ParameterValue::Decimal("1.2.3".into())).is_err());
        assert!(to_sql(&ParameterValue::Jsonb(b"{".to_vec())).is_err());
        assert!(to_sql(&ParameterValue::Date((2023, 2, 29))).is_err());
        assert!(to_sql(&ParameterValue::Time((24, 0, 0, 0))).is_err());
        assert!(to_sql(&ParameterValue::Datetime((2024, 2, 29, 23, 59, 60, 0))).is_err());
        assert!(to_sql(&ParameterValue::ArrayDecimal(vec![
            Some("1".into()),
            Some("x".into())
        ]))
        .is_err());
        let err = to_sql(&ParameterValue::Date((2023, 2, 29))).err().unwrap();
        assert_eq!(err.to_string(), "invalid date y=2023, m=2, d=29");
    }

    #[test]
    fn each_value_binds_to_the_sql_types_spin_allows() {
        assert!(accepts(
            ParameterValue::Datetime((2024, 1, 2, 3, 4, 5, 6)),
            Type::TIMESTAMP
        ));
        assert!(!accepts(
            ParameterValue::Datetime((2024, 1, 2, 3, 4, 5, 6)),
            Type::TIMESTAMPTZ
        ));
        assert!(accepts(ParameterValue::Timestamp(1), Type::TIMESTAMPTZ));
        assert!(!accepts(ParameterValue::Timestamp(1), Type::TIMESTAMP));
        assert!(accepts(ParameterValue::Int8(1), Type::CHAR));
        assert!(!accepts(ParameterValue::Int8(1), Type::INT2));
        assert!(!accepts(ParameterValue::Int32(1), Type::INT8));
        assert!(accepts(ParameterValue::Str("x".into()), Type::VARCHAR));
        assert!(accepts(
            ParameterValue::Uuid(uuid::Uuid::nil().to_string()),
            Type::UUID
        ));
        assert!(accepts(
            ParameterValue::Jsonb(b"{\"a\":1}".to_vec()),
            Type::JSONB
        ));
        assert!(accepts(
            ParameterValue::Decimal("12.50".into()),
            Type::NUMERIC
        ));
        assert!(accepts(
            ParameterValue::ArrayStr(vec![Some("a".into()), None]),
            Type::TEXT_ARRAY
        ));
        assert!(accepts(ParameterValue::DbNull, Type::TIMESTAMPTZ));
    }

    #[test]
    fn decimal_ranges_keep_values_and_bound_kinds() {
        let r = decimal_range(&(
            Some(("123.45".into(), RangeBoundKind::Inclusive)),
            Some(("456.789789".into(), RangeBoundKind::Exclusive)),
        ))
        .unwrap();
        let (lo, hi) = (r.lower().unwrap(), r.upper().unwrap());
        assert_eq!(lo.value.0, rust_decimal::Decimal::new(12345, 2));
        assert_eq!(lo.type_, postgres_range::BoundType::Inclusive);
        assert_eq!(hi.value.0, rust_decimal::Decimal::new(456_789_789, 6));
        assert_eq!(hi.type_, postgres_range::BoundType::Exclusive);
        assert!(decimal_range(&(Some(("x".into(), RangeBoundKind::Inclusive)), None)).is_err());
    }
}
