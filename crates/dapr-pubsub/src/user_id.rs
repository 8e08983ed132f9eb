//! The contract's `user_id`: an opaque id of 1 to 128 characters, the same
//! rule in `reminder.due`, `task.completed` and the subscriber routes, so a
//! user the API accepts is never refused by an event, or the other way.

/// Longest `user_id`, in characters (not bytes).
pub const MAX_CHARS: usize = 128;

/// A `user_id` outside 1..=[`MAX_CHARS`] characters; holds its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("user_id must have 1 to {MAX_CHARS} characters, has {0}")]
pub struct BadLength(pub usize);

/// Checks the length rule.
pub fn check_length(user_id: &str) -> Result<(), BadLength> {
    let len = user_id.chars().count();
    if (1..=MAX_CHARS).contains(&len) {
        Ok(())
    } else {
        Err(BadLength(len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_are_counted_not_bytes() {
        assert_eq!(check_length(""), Err(BadLength(0)));
        assert_eq!(check_length(&"ü".repeat(MAX_CHARS)), Ok(()));
        assert_eq!(
            check_length(&"u".repeat(MAX_CHARS + 1)),
            Err(BadLength(129))
        );
        assert_eq!(
            BadLength(0).to_string(),
            "user_id must have 1 to 128 characters, has 0"
        );
    }
}
