use super::*;

#[test]
fn the_body_has_the_contracts_error_shape() {
    let e = ApiError::bad_request("invalid_count", "count: must be an integer");
    assert_eq!(e.status, 400);
    assert_eq!(
        e.body(),
        json!({"error": {"code": "invalid_count", "message": "count: must be an integer"}})
    );
    assert_eq!(ApiError::database_unavailable().status, 503);
}
