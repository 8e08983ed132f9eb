use super::*;

#[test]
fn serialises_with_the_contract_names() {
    let t = Tally {
        published: 3,
        skipped: 1,
        failed: 1,
        remaining: 7,
    };
    assert_eq!(
        serde_json::to_value(t).unwrap(),
        serde_json::json!({"published": 3, "skipped": 1, "failed": 1, "remaining": 7})
    );
    assert!(!t.is_quiet());
    assert!(Tally::default().is_quiet());
}
