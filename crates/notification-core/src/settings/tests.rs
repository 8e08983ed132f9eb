//! Unit tests of `settings`, by the part they cover.

mod settings {
    use std::collections::HashMap;

    use super::super::*;

    fn settings(vars: &[(&str, &str)]) -> EventSettings {
        let vars: HashMap<&str, &str> = vars.iter().copied().collect();
        EventSettings::from_variables(|name, default| {
            vars.get(name).copied().unwrap_or(default).to_owned()
        })
    }

    #[test]
    fn defaults_serve_no_channel_and_say_why() {
        let s = settings(&[]);
        assert!(!s.ready().email && !s.ready().push);
        assert_eq!(
            s.not_configured(Channel::Email).as_deref(),
            Some("email_relay_api_key must be set")
        );
        assert_eq!(
            s.not_configured(Channel::Push).as_deref(),
            Some("fcm_project_id is empty: push is disabled")
        );
        assert_eq!(s.token_cache_key(), None);
        assert_eq!(s.policy, AttemptPolicy::default());
        assert_eq!(s.policy_error, None);
    }

    #[test]
    fn a_usable_relay_is_ready_and_its_key_is_a_secret() {
        let s = settings(&[
            ("email_relay_api_key", "re_secret_key"),
            ("email_from", "Todo <r@example.com>"),
        ]);
        assert!(s.ready().email);
        assert_eq!(s.not_configured(Channel::Email), None);
        let mut text = serde_json::json!({"error": "bad key re_secret_key"});
        s.secrets().scrub_json(&mut text);
        assert!(!text.to_string().contains("re_secret_key"), "{text}");
    }

    #[test]
    fn push_needs_a_client_email_and_an_unusable_limit_falls_back() {
        let s = settings(&[
            ("fcm_project_id", "todo-app"),
            ("fcm_service_account_json", "{}"),
            ("max_delivery_attempts", "zero"),
        ]);
        assert_eq!(s.fcm.as_ref().err(), Some(&ConfigError::NoClientEmail));
        assert_eq!(s.policy, AttemptPolicy::default());
        assert_eq!(
            s.policy_error,
            Some(ConfigError::InvalidMaxAttempts("zero".into()))
        );
        let s = settings(&[
            ("fcm_project_id", "todo-app"),
            (
                "fcm_service_account_json",
                r#"{"client_email": "sa@p.iam.gserviceaccount.com"}"#,
            ),
        ]);
        assert!(s.ready().push);
        assert_eq!(s.token_cache_key(), Some("sa@p.iam.gserviceaccount.com"));
    }
}

mod secrets {
    use super::super::*;
    use serde_json::json;

    #[test]
    fn echoed_secrets_are_redacted_everywhere() {
        let mut s = Secrets::new();
        s.add("re_live_0123456789abcdef");
        s.add("ya29.a0AfH6SMBx-access-token");
        s.add("short");
        let mut v = json!({
            "last_error": "API key re_live_0123456789abcdef is invalid",
            "nested": ["Bearer ya29.a0AfH6SMBx-access-token rejected", "short stays"],
        });
        s.scrub_json(&mut v);
        let text = v.to_string();
        assert!(!text.contains("re_live_0123456789abcdef"), "{text}");
        assert!(!text.contains("ya29.a0AfH6SMBx"), "{text}");
        assert!(text.contains("short stays"));
        assert_eq!(v["last_error"], "API key [redacted] is invalid");
    }

    #[test]
    fn any_line_of_the_private_key_is_redacted() {
        let pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n-----END PRIVATE KEY-----\n";
        let mut s = Secrets::new();
        s.add_service_account(
            &json!({"private_key": pem, "private_key_id": "0123456789abcdef0123"}).to_string(),
        );
        let out =
            s.scrub("bad key near BKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj (id 0123456789abcdef0123)");
        assert_eq!(out, "bad key near [redacted] (id [redacted])");
        assert_eq!(
            s.scrub("-----BEGIN PRIVATE KEY-----"),
            "-----BEGIN PRIVATE KEY-----"
        );
    }
}
