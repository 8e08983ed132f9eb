//! The host functions against a real server (through `pg_cluster`), called
//! the way the guest's calls arrive, without a component.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::Resource;

use super::bindings::v4::{
    Connection, DbDataType, DbValue, Error, HostConnection as _, Interval, ParameterValue as P,
    QueryError, RangeBoundKind, RowSet,
};
use super::{PgInstance, PgPools};
use crate::allowed_hosts::AllowedHosts;
use crate::pg_cluster::{fresh_database, TestDatabase};

fn instance(pools: &Arc<PgPools>, allowed: &[String]) -> PgInstance {
    PgInstance::new(
        pools.clone(),
        Arc::new(AllowedHosts::parse(allowed).unwrap()),
    )
}

async fn setup() -> (TestDatabase, Arc<PgPools>, PgInstance) {
    let db = fresh_database().await.unwrap();
    let pools = PgPools::new();
    let inst = instance(&pools, &[format!("postgres://{}", db.host_port())]);
    (db, pools, inst)
}

async fn open(inst: &mut PgInstance, url: &str) -> Result<Resource<Connection>, Error> {
    inst.open(url.to_owned()).await.unwrap()
}

async fn query(
    inst: &mut PgInstance,
    c: &Resource<Connection>,
    sql: &str,
    params: Vec<P>,
) -> Result<RowSet, Error> {
    inst.query(Resource::new_borrow(c.rep()), sql.to_owned(), params)
        .await
        .unwrap()
}

async fn execute(
    inst: &mut PgInstance,
    c: &Resource<Connection>,
    sql: &str,
    params: Vec<P>,
) -> Result<u64, Error> {
    inst.execute(Resource::new_borrow(c.rep()), sql.to_owned(), params)
        .await
        .unwrap()
}

/// The single value of a one-row, one-column result.
async fn scalar(
    inst: &mut PgInstance,
    c: &Resource<Connection>,
    sql: &str,
    params: Vec<P>,
) -> DbValue {
    let rs = query(inst, c, sql, params)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    assert_eq!((rs.rows.len(), rs.columns.len()), (1, 1), "{sql}");
    rs.rows
        .into_iter()
        .next()
        .unwrap()
        .into_iter()
        .next()
        .unwrap()
}

fn text_error(e: Error) -> String {
    match e {
        Error::QueryFailed(QueryError::Text(t)) => t,
        other => panic!("expected query-failed(text), got {other:?}"),
    }
}

#[tokio::test]
async fn open_refuses_hosts_not_allowed_and_unix_sockets() {
    let db = fresh_database().await.unwrap();
    let pools = PgPools::new();
    let mut inst = instance(&pools, &["postgres://127.0.0.1:1".to_owned()]);
    let port = db.host_port().rsplit_once(':').unwrap().1.to_owned();
    match open(&mut inst, &db.url()).await {
        Err(Error::ConnectionFailed(m)) => assert_eq!(
            m,
            format!("address postgres://127.0.0.1:{port} is not permitted")
        ),
        other => panic!("{other:?}"),
    }
    // No port: Spin checks the scheme's default, 5432.
    match open(&mut inst, "host=127.0.0.1 user=postgres").await {
        Err(Error::ConnectionFailed(m)) => {
            assert_eq!(m, "address postgres://127.0.0.1 is not permitted")
        }
        other => panic!("{other:?}"),
    }
    match open(&mut inst, "postgres://postgres@%2Ftmp/db").await {
        Err(Error::ConnectionFailed(m)) => {
            assert!(m.contains("Unix sockets are not supported"), "{m}")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        open(&mut inst, "postgres://[").await,
        Err(Error::ConnectionFailed(_))
    ));
    let mut allowed = instance(&pools, &[format!("postgres://{}", db.host_port())]);
    assert!(open(&mut allowed, &db.url()).await.is_ok());
}

#[tokio::test]
async fn every_mapped_type_round_trips() {
    let (db, _pools, mut inst) = setup().await;
    let c = open(&mut inst, &db.url()).await.unwrap();
    let cases: Vec<(&str, P, DbValue)> = vec![
        ("$1::bool", P::Boolean(true), DbValue::Boolean(true)),
        ("$1::int2", P::Int16(-7), DbValue::Int16(-7)),
        ("$1::int4", P::Int32(i32::MIN), DbValue::Int32(i32::MIN)),
        ("$1::int8", P::Int64(i64::MAX), DbValue::Int64(i64::MAX)),
        ("$1::float4", P::Floating32(1.5), DbValue::Floating32(1.5)),
        (
            "$1::float8",
            P::Floating64(-2.25),
            DbValue::Floating64(-2.25),
        ),
        ("$1::text", P::Str("hé".into()), DbValue::Str("hé".into())),
        ("$1::varchar", P::Str("v".into()), DbValue::Str("v".into())),
        (
            "$1::bytea",
            P::Binary(vec![0, 255]),
            DbValue::Binary(vec![0, 255]),
        ),
        (
            "$1::date",
            P::Date((2024, 2, 29)),
            DbValue::Date((2024, 2, 29)),
        ),
        (
            "$1::time",
            P::Time((23, 59, 58, 123_456_000)),
            DbValue::Time((23, 59, 58, 123_456_000)),
        ),
        (
            "$1::timestamp",
            P::Datetime((2024, 3, 31, 1, 2, 3, 4000)),
            DbValue::Datetime((2024, 3, 31, 1, 2, 3, 4000)),
        ),
        (
            "$1::uuid",
            P::Uuid("67e55044-10b1-426f-9247-bb680e5fe0c8".into()),
            DbValue::Uuid("67e55044-10b1-426f-9247-bb680e5fe0c8".into()),
        ),
        (
            "$1::jsonb",
            P::Jsonb(br#"{"b": [1, 2], "a": null}"#.to_vec()),
            DbValue::Jsonb(br#"{"a":null,"b":[1,2]}"#.to_vec()),
        ),
        (
            "$1::numeric",
            P::Decimal("-12.3400".into()),
            DbValue::Decimal("-12.3400".into()),
        ),
        (
            "$1::int4[]",
            P::ArrayInt32(vec![Some(1), None]),
            DbValue::ArrayInt32(vec![Some(1), None]),
        ),
        (
            "$1::int8[]",
            P::ArrayInt64(vec![Some(-1)]),
            DbValue::ArrayInt64(vec![Some(-1)]),
        ),
        (
            "$1::numeric[]",
            P::ArrayDecimal(vec![Some("1.50".into()), None]),
            DbValue::ArrayDecimal(vec![Some("1.50".into()), None]),
        ),
        (
            "$1::text[]",
            P::ArrayStr(vec![Some("a".into()), None]),
            DbValue::ArrayStr(vec![Some("a".into()), None]),
        ),
        (
            "$1::varchar[]",
            P::ArrayStr(vec![]),
            DbValue::ArrayStr(vec![]),
        ),
        (
            "$1::interval",
            P::Interval(Interval {
                micros: 1_000_001,
                days: -2,
                months: 13,
            }),
            DbValue::Interval(Interval {
                micros: 1_000_001,
                days: -2,
                months: 13,
            }),
        ),
        ("$1::int4", P::DbNull, DbValue::DbNull),
        ("$1::timestamptz IS NULL", P::DbNull, DbValue::Boolean(true)),
    ];
    for (expr, param, expected) in cases {
        let got = scalar(&mut inst, &c, &format!("SELECT {expr}"), vec![param]).await;
        assert_eq!(got, expected, "SELECT {expr}");
    }
}

#[tokio::test]
async fn ranges_map_bounds_and_normalise_like_postgres() {
    let (db, _pools, mut inst) = setup().await;
    let c = open(&mut inst, &db.url()).await.unwrap();
    use RangeBoundKind::{Exclusive as Ex, Inclusive as In};
    let got = scalar(
        &mut inst,
        &c,
        "SELECT $1::int4range",
        vec![P::RangeInt32((Some((1, In)), Some((5, In))))],
    )
    .await;
    assert_eq!(got, DbValue::RangeInt32((Some((1, In)), Some((6, Ex)))));
    let got = scalar(
        &mut inst,
        &c,
        "SELECT $1::int8range",
        vec![P::RangeInt64((None, Some((9, Ex))))],
    )
    .await;
    assert_eq!(got, DbValue::RangeInt64((None, Some((9, Ex)))));
    let got = scalar(
        &mut inst,
        &c,
        "SELECT $1::numrange",
        vec![P::RangeDecimal((
            Some(("1.5".into(), Ex)),
            Some(("2.25".into(), In)),
        ))],
    )
    .await;
    assert_eq!(
        got,
        DbValue::RangeDecimal((Some(("1.5".into(), Ex)), Some(("2.25".into(), In))))
    );
}

#[tokio::test]
async fn columns_report_types_and_unmapped_values_come_back_raw() {
    let (db, _pools, mut inst) = setup().await;
    let c = open(&mut inst, &db.url()).await.unwrap();
    let rs = query(
        &mut inst,
        &c,
        "SELECT 1::int4 AS n, '{\"a\":1}'::json AS j, '10.0.0.1'::inet AS ip, 'x'::\"char\" AS ch",
        vec![],
    )
    .await
    .unwrap();
    let names: Vec<_> = rs.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["n", "j", "ip", "ch"]);
    assert_eq!(rs.columns[0].data_type, DbDataType::Int32);
    assert_eq!(rs.columns[1].data_type, DbDataType::Other("json".into()));
    assert_eq!(rs.columns[2].data_type, DbDataType::Other("inet".into()));
    assert_eq!(rs.rows[0][1], DbValue::Unsupported(br#"{"a":1}"#.to_vec()));
    assert_eq!(
        rs.rows[0][2],
        DbValue::Unsupported(vec![2, 32, 0, 4, 10, 0, 0, 1])
    );
    // Spin's int8 is Rust i8, which the driver binds only to "char".
    assert_eq!(
        scalar(
            &mut inst,
            &c,
            "SELECT $1::\"char\"::int4",
            vec![P::Int8(65)]
        )
        .await,
        DbValue::Int32(65)
    );
    // A result without rows has no columns (Spin infers them from a row).
    let empty = query(&mut inst, &c, "SELECT 1 AS n WHERE false", vec![])
        .await
        .unwrap();
    assert!(empty.columns.is_empty() && empty.rows.is_empty());
}

#[tokio::test]
async fn timestamptz_works_only_the_way_it_works_in_spin() {
    let (db, _pools, mut inst) = setup().await;
    let c = open(&mut inst, &db.url()).await.unwrap();
    execute(&mut inst, &c, "CREATE TABLE t (at timestamptz)", vec![])
        .await
        .unwrap();
    // `timestamp(s64)` (seconds) binds to timestamptz.
    assert_eq!(
        execute(
            &mut inst,
            &c,
            "INSERT INTO t VALUES ($1)",
            vec![P::Timestamp(1_700_000_000)]
        )
        .await
        .unwrap(),
        1
    );
    // `datetime` does not: it is a naive timestamp.
    let err = text_error(
        execute(
            &mut inst,
            &c,
            "INSERT INTO t VALUES ($1)",
            vec![P::Datetime((2024, 1, 1, 0, 0, 0, 0))],
        )
        .await
        .unwrap_err(),
    );
    assert!(
        err.contains("ToSql") && err.contains("Timestamptz"),
        "{err}"
    );
    // Reading the column fails as in Spin 3.6.3; casting in SQL works.
    let err = text_error(
        query(&mut inst, &c, "SELECT at FROM t", vec![])
            .await
            .unwrap_err(),
    );
    assert!(
        err.contains("error deserializing column 0") && err.contains("timestamptz"),
        "{err}"
    );
    let utc = scalar(&mut inst, &c, "SELECT at AT TIME ZONE 'UTC' FROM t", vec![]).await;
    assert_eq!(utc, DbValue::Datetime((2023, 11, 14, 22, 13, 20, 0)));
    let epoch = scalar(
        &mut inst,
        &c,
        "SELECT extract(epoch FROM at)::int8 FROM t",
        vec![],
    )
    .await;
    assert_eq!(epoch, DbValue::Int64(1_700_000_000));
    // Without a row to read there is no failure (and no column list).
    let rs = query(&mut inst, &c, "SELECT at FROM t WHERE false", vec![])
        .await
        .unwrap();
    assert!(rs.columns.is_empty());
}

#[tokio::test]
async fn server_errors_carry_sqlstate_and_extras() {
    let (db, _pools, mut inst) = setup().await;
    let c = open(&mut inst, &db.url()).await.unwrap();
    execute(
        &mut inst,
        &c,
        "CREATE TABLE u (id int4 CONSTRAINT u_pk PRIMARY KEY)",
        vec![],
    )
    .await
    .unwrap();
    execute(&mut inst, &c, "INSERT INTO u VALUES (1)", vec![])
        .await
        .unwrap();
    let Err(Error::QueryFailed(QueryError::DbError(e))) =
        execute(&mut inst, &c, "INSERT INTO u VALUES (1)", vec![]).await
    else {
        panic!("expected db-error");
    };
    assert_eq!((e.code.as_str(), e.severity.as_str()), ("23505", "ERROR"));
    assert!(e.message.contains("u_pk"), "{}", e.message);
    assert_eq!(e.detail.as_deref(), Some("Key (id)=(1) already exists."));
    let extra = |k: &str| {
        e.extras
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(extra("constraint").as_deref(), Some("u_pk"));
    assert_eq!(extra("table").as_deref(), Some("u"));
    assert_eq!(extra("schema").as_deref(), Some("public"));
    assert!(extra("line").is_some());
    assert!(e.as_text.starts_with("Error { kind: Db"), "{}", e.as_text);
    // Errors before execution (parse, bind) are db-errors for query too...
    let Err(Error::QueryFailed(QueryError::DbError(e))) =
        query(&mut inst, &c, "SELECT * FROM missing", vec![]).await
    else {
        panic!("expected db-error");
    };
    assert_eq!(e.code, "42P01");
    // ...but errors while rows stream in are text, as in Spin.
    let err = text_error(
        query(
            &mut inst,
            &c,
            "SELECT 1 / (x - 2) FROM generate_series(1, 3) x",
            vec![],
        )
        .await
        .unwrap_err(),
    );
    assert!(err.contains("division by zero"), "{err}");
}

#[tokio::test]
async fn unconvertible_parameters_are_bad_parameter_or_value_conversion_failed() {
    let (db, _pools, mut inst) = setup().await;
    let c = open(&mut inst, &db.url()).await.unwrap();
    match query(
        &mut inst,
        &c,
        "SELECT $1::uuid",
        vec![P::Uuid("nope".into())],
    )
    .await
    {
        Err(Error::BadParameter(m)) => assert!(m.starts_with("invalid UUID nope"), "{m}"),
        other => panic!("{other:?}"),
    }
    match execute(
        &mut inst,
        &c,
        "SELECT $1::uuid",
        vec![P::Uuid("nope".into())],
    )
    .await
    {
        Err(Error::ValueConversionFailed(m)) => assert!(m.starts_with("invalid UUID nope"), "{m}"),
        other => panic!("{other:?}"),
    }
    // A type the server rejects is a client-side (text) failure.
    let err = text_error(
        query(&mut inst, &c, "SELECT $1::int8", vec![P::Int32(1)])
            .await
            .unwrap_err(),
    );
    assert!(err.contains("ToSql(0)"), "{err}");
}

#[tokio::test]
async fn unknown_connection_handles_fail_and_dropped_ones_return_to_the_pool() {
    let (db, _pools, mut inst) = setup().await;
    let bogus = Resource::<Connection>::new_own(4242);
    match query(&mut inst, &bogus, "SELECT 1", vec![]).await {
        Err(Error::ConnectionFailed(m)) => assert_eq!(m, "no connection found"),
        other => panic!("{other:?}"),
    }
    // More opens than the pool has connections: each drop returns one.
    for _ in 0..(super::pool::POOL_SIZE + 6) {
        let c = open(&mut inst, &db.url()).await.unwrap();
        assert_eq!(
            scalar(&mut inst, &c, "SELECT 1", vec![]).await,
            DbValue::Int32(1)
        );
        inst.drop(c).await.unwrap();
    }
    assert_eq!(inst.open_count(), 0);
}

#[tokio::test]
async fn a_full_pool_makes_open_wait_for_a_connection() {
    let (db, pools, mut inst) = setup().await;
    let mut held = Vec::new();
    for _ in 0..super::pool::POOL_SIZE {
        held.push(open(&mut inst, &db.url()).await.unwrap());
    }
    let mut other = instance(&pools, &[format!("postgres://{}", db.host_port())]);
    let url = db.url();
    let waiting = tokio::spawn(async move { other.open(url).await.unwrap().is_ok() });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "a 65th connection was handed out");
    inst.drop(held.pop().unwrap()).await.unwrap();
    let opened = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("open still waiting")
        .unwrap();
    assert!(opened);
}

#[tokio::test]
async fn an_unreachable_server_fails_queries_and_opens_until_it_is_back() {
    let (db, _pools, mut inst) = setup().await;
    let c = open(&mut inst, &db.url()).await.unwrap();
    assert_eq!(
        scalar(&mut inst, &c, "SELECT 1", vec![]).await,
        DbValue::Int32(1)
    );
    inst.drop(c).await.unwrap();
    let c = open(&mut inst, &db.url()).await.unwrap();
    db.set_down(true);
    let err = text_error(query(&mut inst, &c, "SELECT 1", vec![]).await.unwrap_err());
    assert_eq!(err, "Error { kind: Closed, cause: None }");
    inst.drop(c).await.unwrap();
    match open(&mut inst, &db.url()).await {
        Err(Error::ConnectionFailed(m)) => assert!(
            m.contains("Error occurred while creating a new object"),
            "{m}"
        ),
        other => panic!("{other:?}"),
    }
    db.set_down(false);
    let c = open(&mut inst, &db.url()).await.unwrap();
    assert_eq!(
        scalar(&mut inst, &c, "SELECT 2", vec![]).await,
        DbValue::Int32(2)
    );
}
