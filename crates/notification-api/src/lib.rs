//! The subscriber API's rules (docs/CONTRACT.md, "Subscriber API"),
//! without the I/O: which resource a path names ([`path`]), request bodies
//! and query strings ([`input`], with the field rules in [`validate`]), the
//! paging cursor ([`cursor`]), and the error value every rule answers with
//! ([`ApiError`]). The `notification` component serves the API: it runs
//! the SQL and turns an [`ApiError`] into the `{"error": {"code",
//! "message"}}` response.

pub mod cursor;
pub mod input;
pub mod path;
pub mod validate;

pub use todo_contract::ApiError;

/// A 404 for a subscriber that was never stored.
pub fn subscriber_not_found(user_id: &str) -> ApiError {
    ApiError::not_found(
        "subscriber_not_found",
        format!("no subscriber with user_id {user_id:?}"),
    )
}
