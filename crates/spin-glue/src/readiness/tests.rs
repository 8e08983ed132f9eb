use super::*;

#[test]
fn the_schema_is_current_at_or_after_the_version_this_build_expects() {
    assert!(schema_is_current(Some(SCHEMA_VERSION)));
    assert!(schema_is_current(Some("9999_later")));
    assert!(!schema_is_current(Some("0001_tasks")));
    assert!(!schema_is_current(None));
}
