use super::*;

#[test]
fn reads_urls_and_key_value_strings() {
    assert_eq!(
        host_port("postgres://u:p@db.internal:6543/app?sslmode=require").as_deref(),
        Some("db.internal:6543")
    );
    assert_eq!(host_port("postgresql://db/app").as_deref(), Some("db:5432"));
    assert_eq!(
        host_port("host=10.0.0.5 port=5433 user=x dbname=y").as_deref(),
        Some("10.0.0.5:5433")
    );
    assert_eq!(host_port("host=/var/run/postgresql dbname=y"), None);
    assert_eq!(
        host_port("postgres://u@[::1]:5432/db").as_deref(),
        Some("::1:5432")
    );
}

#[test]
fn compares_with_default_port() {
    assert!(same_host("localhost:5432", "LOCALHOST"));
    assert!(!same_host("localhost:5433", "localhost:5432"));
}
