//! Small adapters between WIT values and `tokio-postgres` wire encodings that
//! the driver does not provide itself. Each mirrors a type Spin 3.6.3 defines
//! for the same purpose, so encoding and acceptance rules match.

use std::error::Error as StdError;

use bytes::{Buf, BufMut, BytesMut};
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type};

use super::bindings::v4;

type BoxError = Box<dyn StdError + Sync + Send>;

/// A SQL NULL that binds to a parameter of any type. The guest's `db-null`
/// carries no type, and `Option::<T>::None` would still be type-checked
/// against the parameter by the driver.
#[derive(Debug)]
pub struct AnyNull;

impl ToSql for AnyNull {
    fn to_sql(&self, _: &Type, _: &mut BytesMut) -> Result<IsNull, BoxError> {
        Ok(IsNull::Yes)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    fn to_sql_checked(&self, _: &Type, _: &mut BytesMut) -> Result<IsNull, BoxError> {
        Ok(IsNull::Yes)
    }
}

/// `interval` in its binary form (microseconds, days, months), which maps
/// one-to-one onto the WIT `interval` record.
#[derive(Debug, Clone, Copy)]
pub struct PgInterval(pub v4::Interval);

impl ToSql for PgInterval {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        out.put_i64(self.0.micros);
        out.put_i32(self.0.days);
        out.put_i32(self.0.months);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }

    tokio_postgres::types::to_sql_checked!();
}

impl FromSql<'_> for PgInterval {
    fn from_sql(_: &Type, mut raw: &[u8]) -> Result<Self, BoxError> {
        if raw.len() != 16 {
            return Err("unexpected binary format for Postgres INTERVAL".into());
        }
        let micros = raw.get_i64();
        let days = raw.get_i32();
        let months = raw.get_i32();
        Ok(Self(v4::Interval {
            micros,
            days,
            months,
        }))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }
}

/// The raw binary value of a column type without a WIT mapping; returned to
/// the guest as `db-value::unsupported(bytes)`.
#[derive(Debug)]
pub struct RawValue(pub Vec<u8>);

impl FromSql<'_> for RawValue {
    fn from_sql(_: &Type, raw: &[u8]) -> Result<Self, BoxError> {
        Ok(Self(raw.to_vec()))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// `numeric` usable as a `postgres_range` bound (`numrange`): the range crate
/// needs a `Normalizable` element, which `rust_decimal::Decimal` is not.
/// Continuous ranges are never normalised.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct RangeDecimal(pub rust_decimal::Decimal);

impl ToSql for RangeDecimal {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        self.0.to_sql(ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        <rust_decimal::Decimal as ToSql>::accepts(ty)
    }

    tokio_postgres::types::to_sql_checked!();
}

impl FromSql<'_> for RangeDecimal {
    fn from_sql(ty: &Type, raw: &[u8]) -> Result<Self, BoxError> {
        rust_decimal::Decimal::from_sql(ty, raw).map(Self)
    }

    fn accepts(ty: &Type) -> bool {
        <rust_decimal::Decimal as FromSql>::accepts(ty)
    }
}

impl postgres_range::Normalizable for RangeDecimal {
    fn normalize<S: postgres_range::BoundSided>(
        bound: postgres_range::RangeBound<S, Self>,
    ) -> postgres_range::RangeBound<S, Self> {
        bound
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn interval_round_trips_through_its_binary_form() {
        let value = v4::Interval {
            micros: -1_500_000,
            days: 3,
            months: 14,
        };
        let mut buf = BytesMut::new();
        assert!(matches!(
            PgInterval(value).to_sql(&Type::INTERVAL, &mut buf).unwrap(),
            IsNull::No
        ));
        assert_eq!(buf.len(), 16);
        let back = PgInterval::from_sql(&Type::INTERVAL, &buf).unwrap().0;
        assert_eq!((back.micros, back.days, back.months), (-1_500_000, 3, 14));
        assert!(PgInterval::from_sql(&Type::INTERVAL, &buf[..15]).is_err());
        assert!(!<PgInterval as ToSql>::accepts(&Type::INT8));
    }

    #[test]
    fn null_binds_to_any_type_without_writing_bytes() {
        let mut buf = BytesMut::new();
        for ty in [Type::INT4, Type::TEXT, Type::TIMESTAMPTZ, Type::UUID] {
            assert!(matches!(
                AnyNull.to_sql_checked(&ty, &mut buf).unwrap(),
                IsNull::Yes
            ));
        }
        assert!(buf.is_empty());
    }
}
