use super::*;
use crate::content::render_reminder;
use crate::keys::Channel;

#[test]
fn provider_names() {
    assert_eq!(
        EmailProvider::from_variable("").unwrap(),
        EmailProvider::Resend
    );
    assert_eq!(
        EmailProvider::from_variable("SendGrid").unwrap(),
        EmailProvider::SendGrid
    );
    assert_eq!(
        EmailProvider::from_variable(" mailpit ").unwrap(),
        EmailProvider::Mailpit
    );
    assert_eq!(
        EmailProvider::from_variable("postmark"),
        Err(ConfigError::UnknownEmailProvider("postmark".into()))
    );
}

#[test]
fn relay_config_validation() {
    let ok = RelayConfig::new(
        EmailProvider::Resend,
        "https://api.resend.com/",
        "re_123",
        "a@b.c",
    )
    .unwrap();
    assert_eq!(ok.base_url(), "https://api.resend.com");
    assert!(!format!("{ok:?}").contains("re_123"));
    assert!(matches!(
        RelayConfig::new(EmailProvider::Resend, "api.resend.com", "k", "a@b.c"),
        Err(ConfigError::InvalidBaseUrl { .. })
    ));
    assert_eq!(
        RelayConfig::new(EmailProvider::Resend, "https://x", "k\r\n", "a@b.c").err(),
        None,
        "surrounding whitespace is trimmed"
    );
    assert_eq!(
        RelayConfig::new(EmailProvider::Resend, "https://x", "k\nX-Evil: 1", "a@b.c").err(),
        Some(ConfigError::InvalidHeaderValue("email_relay_api_key"))
    );
    assert_eq!(
        RelayConfig::new(EmailProvider::Resend, "https://x", "k", " ").err(),
        Some(ConfigError::Missing("email_from"))
    );
}

#[test]
fn mailbox_splitting() {
    assert_eq!(split_mailbox("a@b.c"), (None, "a@b.c"));
    assert_eq!(split_mailbox("Todo <a@b.c>"), (Some("Todo"), "a@b.c"));
    assert_eq!(
        split_mailbox("\"Todo App\" <a@b.c>"),
        (Some("Todo App"), "a@b.c")
    );
    assert_eq!(split_mailbox("<a@b.c>"), (None, "a@b.c"));
    assert_eq!(split_mailbox("broken <a@b.c"), (None, "broken <a@b.c"));
}

#[test]
fn message_for_reminder_uses_delivery_id_as_idempotency_key() {
    let key = BusinessKey::new(
        "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b".parse().unwrap(),
        "2026-12-01T08:30:00Z".parse().unwrap(),
        Channel::Email,
        "Ada@Example.com",
    );
    let content = render_reminder("Pay rent", None, "UTC");
    let m = EmailMessage::for_reminder(&key, &content);
    assert_eq!(m.to, "Ada@Example.com");
    assert_eq!(m.idempotency_key, "a532a81a-289a-5697-ace2-8b0b4e7cdb26");
    assert_eq!(m.subject, "Reminder: Pay rent");
}

#[test]
fn api_key_is_required_except_for_mailpit() {
    for provider in [EmailProvider::Resend, EmailProvider::SendGrid] {
        assert_eq!(
            RelayConfig::new(provider, "https://x", " ", "a@b.c").err(),
            Some(ConfigError::Missing("email_relay_api_key"))
        );
    }
    assert!(RelayConfig::new(EmailProvider::Mailpit, "http://x", "", "a@b.c").is_ok());
}

#[test]
fn outcome_accessors() {
    let p = Attempt::failed(ReasonCode::RejectedByProvider, 422, "bad");
    assert_eq!(p.reason(), Some(ReasonCode::RejectedByProvider));
    assert_eq!(p.last_error(), Some("bad"));
    let t = Attempt::Transient(Transient::transport("timeout"));
    assert_eq!(t.reason(), None);
    assert_eq!(t.last_error(), Some("timeout"));
    let s = Attempt::Sent {
        provider_message_id: None,
    };
    assert_eq!(s.reason(), None);
    assert_eq!(s.last_error(), None);
}
