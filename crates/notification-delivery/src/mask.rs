//! Masking of recipients for log lines.
//!
//! The issue forbids e-mail addresses and device tokens in logs; these
//! helpers keep just enough to tell two recipients apart while debugging.

/// Masks an e-mail address as `a***@example.com`: first character of the
/// local part, then the domain. Anything without a usable `@` becomes `***`,
/// so a malformed address is never echoed back whole.
pub fn mask_email(address: &str) -> String {
    let address = address.trim();
    match address.rsplit_once('@') {
        Some((local, domain)) if !domain.is_empty() => match local.chars().next() {
            Some(first) => format!("{first}***@{domain}"),
            None => format!("***@{domain}"),
        },
        _ => "***".to_owned(),
    }
}

/// Masks an FCM device token as its first 6 characters followed by `…`.
///
/// Tokens of 12 characters or fewer (never real FCM tokens, which are ~150)
/// are fully hidden, so a short secret-like value cannot leak by half.
pub fn mask_token(token: &str) -> String {
    const KEEP: usize = 6;
    if token.chars().count() <= 2 * KEEP {
        return "…".to_owned();
    }
    let prefix: String = token.chars().take(KEEP).collect();
    format!("{prefix}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(mask_email("ada@example.com"), "a***@example.com");
        assert_eq!(mask_email(" Ébert@exämple.org "), "É***@exämple.org");
        assert_eq!(mask_email("@example.com"), "***@example.com");
        assert_eq!(mask_email("no-at-sign"), "***");
        assert_eq!(mask_email("trailing@"), "***");
        assert_eq!(mask_email(""), "***");
    }

    #[test]
    fn tokens() {
        let token = "dGVzdC10b2tlbi0xMjM0NTY3ODkw:APA91bH";
        assert_eq!(mask_token(token), "dGVzdC…");
        assert_eq!(mask_token("short"), "…");
        assert_eq!(mask_token("exactly12chr"), "…");
        assert!(!mask_token(token).contains("10b2"));
    }
}
