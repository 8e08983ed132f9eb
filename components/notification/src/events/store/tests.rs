use super::*;

/// Every placeholder from `$1` to the last is used, in the order
/// `record` pushes the parameters, and nothing else is left.
#[test]
fn record_statements_number_their_parameters_in_order() {
    let all = Parts {
        settle: true,
        mark: true,
        delete: true,
        cache: true,
    };
    let sql = record_sql(all);
    for (n, needle) in [
        (1, "jsonb_to_recordset($1::text::jsonb)"),
        (2, "jsonb_to_recordset($2::text::jsonb) AS g"),
        (3, "VALUES ($3::text, $4::text, $5::text::timestamptz)"),
    ] {
        assert!(sql.contains(needle), "{n}: {sql}");
    }
    assert!(!sql.contains("$6") && !sql.contains("$t") && !sql.contains("$e"));

    let happy = record_sql(Parts {
        settle: true,
        mark: false,
        delete: false,
        cache: false,
    });
    assert!(happy.contains("settled AS") && happy.contains("$1"));
    assert!(!happy.contains("$2") && !happy.contains("marked AS"));
    assert!(happy.contains("'marked', 0, 'deleted', 0, 'cached', 0"));

    let only_cache = record_sql(Parts {
        settle: false,
        mark: false,
        delete: false,
        cache: true,
    });
    assert!(only_cache.contains("VALUES ($1::text, $2::text, $3::text::timestamptz)"));
    assert!(!only_cache.contains("input AS"));
}
