//! A crate whose tests are inline: scripts/unit-test-layout.py must refuse it.

/// Adds one.
pub fn one_more(n: u32) -> u32 {
    n + 1
}

#[cfg(test)]
mod tests {
    #[test]
    fn adds_one() {
        assert_eq!(super::one_more(1), 2);
    }
}
