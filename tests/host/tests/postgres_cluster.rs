//! The throwaway PostgreSQL of the test host: fresh migrated databases, the
//! migrations' exactly-once guarantee, and the proxy that fakes an outage.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use component_host::pg_cluster::{fresh_database, migrate_command, TestDatabase};

/// Versions (file stems) of `migrations/NNNN_*.sql`, sorted.
fn migration_versions() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations");
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".sql") && n.as_bytes().iter().take(4).all(u8::is_ascii_digit))
        .map(|n| n.trim_end_matches(".sql").to_owned())
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no migrations found");
    v
}

async fn applied(db: &TestDatabase) -> BTreeMap<String, String> {
    let rows = db
        .client()
        .await
        .query(
            "SELECT version, applied_at::text FROM schema_migrations ORDER BY version",
            &[],
        )
        .await
        .unwrap();
    rows.iter().map(|r| (r.get(0), r.get(1))).collect()
}

async fn tables(db: &TestDatabase) -> Vec<String> {
    let rows = db
        .client()
        .await
        .query(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    rows.iter().map(|r| r.get(0)).collect()
}

fn run_migrate(url: &str) -> String {
    let out = migrate_command(url).output().unwrap();
    assert!(
        out.status.success(),
        "migrate.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn a_fresh_database_is_migrated_and_rerunning_migrate_sh_is_a_no_op() {
    let db = fresh_database().await.unwrap();
    let before = applied(&db).await;
    assert_eq!(
        before.keys().cloned().collect::<Vec<_>>(),
        migration_versions()
    );
    let t = tables(&db).await;
    for table in [
        "tasks",
        "subscribers",
        "devices",
        "deliveries",
        "schema_migrations",
    ] {
        assert!(t.iter().any(|x| x == table), "{table} missing from {t:?}");
    }
    let url = db.direct_url();
    let out = tokio::task::spawn_blocking(move || run_migrate(&url))
        .await
        .unwrap();
    assert!(!out.contains("applied"), "re-run applied something:\n{out}");
    assert_eq!(applied(&db).await, before);
}

#[tokio::test]
async fn five_concurrent_migrate_sh_runs_apply_each_migration_once() {
    let db = fresh_database().await.unwrap();
    db.client()
        .await
        .batch_execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        .await
        .unwrap();
    assert!(tables(&db).await.is_empty());
    let runs: Vec<_> = (0..5)
        .map(|_| {
            let url = db.direct_url();
            tokio::task::spawn_blocking(move || run_migrate(&url))
        })
        .collect();
    let mut outputs = String::new();
    for r in runs {
        outputs.push_str(&r.await.unwrap());
    }
    let versions = migration_versions();
    let applied = applied(&db).await;
    assert_eq!(applied.keys().cloned().collect::<Vec<_>>(), versions);
    for v in &versions {
        assert_eq!(
            outputs.matches(&format!("applied {v}\n")).count(),
            1,
            "{v} applied not exactly once:\n{outputs}"
        );
    }
    assert!(tables(&db).await.iter().any(|t| t == "tasks"));
    let out = tokio::task::spawn_blocking({
        let url = db.direct_url();
        move || run_migrate(&url)
    })
    .await
    .unwrap();
    assert!(!out.contains("applied"), "{out}");
}

#[tokio::test]
async fn databases_are_separate_and_dropped_with_their_handle() {
    let (a, b) = tokio::join!(fresh_database(), fresh_database());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_ne!(a.name(), b.name());
    assert_ne!(a.host_port(), b.host_port());
    a.client()
        .await
        .batch_execute("CREATE TABLE only_in_a (x int)")
        .await
        .unwrap();
    assert!(!tables(&b).await.contains(&"only_in_a".to_owned()));
    let name = a.name().to_owned();
    drop(a);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let n: i64 = b
            .client()
            .await
            .query_one(
                "SELECT count(*) FROM pg_database WHERE datname = $1",
                &[&name],
            )
            .await
            .unwrap()
            .get(0);
        if n == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{name} was not dropped");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn set_down_cuts_the_proxy_but_not_the_server() {
    let db = fresh_database().await.unwrap();
    assert!(db.url().contains(&db.host_port()) && db.url().ends_with("?sslmode=disable"));
    let (through, conn) = tokio_postgres::connect(&db.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    let conn = tokio::spawn(conn);
    through.simple_query("SELECT 1").await.unwrap();

    db.set_down(true);
    assert!(
        through.simple_query("SELECT 1").await.is_err(),
        "a proxied connection survived set_down(true)"
    );
    let _ = conn.await;
    let refused = tokio::time::timeout(
        Duration::from_secs(5),
        tokio_postgres::connect(&db.url(), tokio_postgres::NoTls),
    )
    .await;
    assert!(
        matches!(refused, Ok(Err(_))),
        "connecting while down must fail at once"
    );
    db.client().await.simple_query("SELECT 1").await.unwrap();

    db.set_down(false);
    let (again, conn) = tokio_postgres::connect(&db.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    again.simple_query("SELECT 1").await.unwrap();
}

#[tokio::test]
async fn fresh_databases_are_cheap_even_when_created_concurrently() {
    fresh_database().await.unwrap(); // the cluster and template, once
    let start = Instant::now();
    let n = 10;
    let mut dbs = Vec::new();
    for _ in 0..n {
        dbs.push(fresh_database().await.unwrap());
    }
    let sequential = start.elapsed() / n;
    let start = Instant::now();
    let handles: Vec<_> = (0..n).map(|_| tokio::spawn(fresh_database())).collect();
    for h in handles {
        dbs.push(h.await.unwrap().unwrap());
    }
    let concurrent = start.elapsed() / n;
    eprintln!(
        "fresh_database: {} ms each sequentially, {} ms each when {n} run at once",
        sequential.as_millis(),
        concurrent.as_millis()
    );
    assert!(
        sequential < Duration::from_secs(2),
        "{sequential:?} per database"
    );
}
