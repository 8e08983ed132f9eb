//! Unit tests of `fcm`, by the part they cover.

mod fcm {
    use super::super::*;

    #[test]
    fn client_email_is_read_without_the_key() {
        assert_eq!(
            client_email(r#"{"client_email": " a@p.iam ", "private_key": "garbage"}"#).as_deref(),
            Some("a@p.iam")
        );
        assert_eq!(client_email(""), None);
        assert_eq!(client_email("not json"), None);
        assert_eq!(client_email(r#"{"client_email": 7}"#), None);
        assert_eq!(client_email(r#"{"client_email": ""}"#), None);
    }

    #[test]
    fn empty_project_disables_push() {
        assert_eq!(FcmConfig::from_variables(" ", "x", "y"), Ok(None));
    }

    #[test]
    fn urls() {
        let c = FcmConfig::from_variables(
            "todo-app-123",
            "https://fcm.googleapis.com/",
            "https://oauth2.googleapis.com",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            c.send_url(),
            "https://fcm.googleapis.com/v1/projects/todo-app-123/messages:send"
        );
        assert_eq!(c.token_endpoint(), "https://oauth2.googleapis.com/token");
    }

    #[test]
    fn invalid_values_are_rejected() {
        assert_eq!(
            FcmConfig::from_variables("a/../b", "https://f", "https://o"),
            Err(ConfigError::InvalidProjectId("a/../b".into()))
        );
        assert!(matches!(
            FcmConfig::from_variables("p", "fcm.googleapis.com", "https://o"),
            Err(ConfigError::InvalidBaseUrl {
                variable: "fcm_api_base",
                ..
            })
        ));
        assert!(matches!(
            FcmConfig::from_variables("p", "https://f", ""),
            Err(ConfigError::InvalidBaseUrl {
                variable: "fcm_oauth_base",
                ..
            })
        ));
    }
}

mod message {
    use super::super::*;
    use crate::content::render_reminder;
    use crate::keys::Channel;

    fn key() -> BusinessKey {
        BusinessKey::new(
            "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b".parse().unwrap(),
            "2026-12-01T08:30:00Z".parse().unwrap(),
            Channel::Push,
            "device-token-AAAAAAAAAAAA",
        )
    }

    fn token() -> AccessToken {
        AccessToken::new("ya29.test-token", "2026-12-01T09:30:00Z".parse().unwrap()).unwrap()
    }

    #[test]
    fn request_shape() {
        let config = FcmConfig::from_variables(
            "todo-app",
            "https://fcm.googleapis.com",
            "https://oauth2.googleapis.com",
        )
        .unwrap()
        .unwrap();
        let due: Timestamp = "2026-12-01T09:00:00Z".parse().unwrap();
        let content = render_reminder("Pay rent", Some(due), "Europe/Berlin");
        let msg = PushMessage::for_reminder(&key(), &content, Some(due));
        let req = build_send_request(&config, &token(), &msg).unwrap();

        assert_eq!(req.method(), http::Method::POST);
        assert_eq!(
            req.uri(),
            "https://fcm.googleapis.com/v1/projects/todo-app/messages:send"
        );
        assert_eq!(
            crate::provider_http::header(req.headers(), "authorization"),
            Some("Bearer ya29.test-token")
        );
        assert_eq!(
            crate::provider_http::header(req.headers(), "content-type"),
            Some("application/json; charset=UTF-8")
        );

        let reminder = "fa4d4b92-bc22-53ac-aa5c-dded1fc9d625";
        let body: serde_json::Value = serde_json::from_slice(req.body()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "message": {
                    "token": "device-token-AAAAAAAAAAAA",
                    "notification": {
                        "title": "Pay rent",
                        "body": "Due Tue, 1 Dec 2026, 10:00 CET (Europe/Berlin)",
                    },
                    "data": {
                        "type": "reminder",
                        "task_id": "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b",
                        "remind_at": "2026-12-01T08:30:00Z",
                        "due_at": "2026-12-01T09:00:00Z",
                        "reminder_id": reminder,
                        "delivery_id": key().delivery_id().to_string(),
                    },
                    "android": {"collapse_key": reminder, "notification": {"tag": reminder}},
                    "apns": {"headers": {"apns-collapse-id": reminder}},
                }
            })
        );
    }

    #[test]
    fn due_at_is_omitted_when_unknown() {
        let content = render_reminder("Pay rent", None, "UTC");
        let msg = PushMessage::for_reminder(&key(), &content, None);
        assert!(!msg.data.contains_key("due_at"));
        assert!(msg.collapse_id.to_string().len() <= 64);
    }
}

mod errors {
    use std::time::Duration;

    use super::super::*;

    fn now() -> Timestamp {
        "2026-12-01T08:30:00Z".parse().unwrap()
    }

    use crate::provider_http::test_response as resp;

    fn fcm_error(code: u16, status: &str, error_code: &str, message: &str) -> String {
        serde_json::json!({"error": {
            "code": code, "message": message, "status": status,
            "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": error_code}]
        }})
        .to_string()
    }

    #[test]
    fn success_uses_message_name() {
        let out = classify_send_response(
            &resp(
                200,
                &[],
                r#"{"name":"projects/todo-app/messages/0:1500415314455276%31bd1c9631bd1c96"}"#,
            ),
            now(),
        );
        assert_eq!(
            out,
            Attempt::Sent {
                provider_message_id: Some(
                    "projects/todo-app/messages/0:1500415314455276%31bd1c9631bd1c96".into()
                )
            }
        );
        assert_eq!(
            classify_send_response(&resp(200, &[], ""), now()),
            Attempt::Sent {
                provider_message_id: None
            }
        );
    }

    #[test]
    fn unregistered_is_invalid_token() {
        let body = fcm_error(
            404,
            "NOT_FOUND",
            "UNREGISTERED",
            "Requested entity was not found.",
        );
        let out = classify_send_response(&resp(404, &[], &body), now());
        assert_eq!(
            out,
            Attempt::failed(
                ReasonCode::InvalidToken,
                404,
                "UNREGISTERED: Requested entity was not found."
            )
        );
        assert_eq!(out.reason(), Some(ReasonCode::InvalidToken));
        assert_eq!(
            out.last_error(),
            Some("UNREGISTERED: Requested entity was not found.")
        );
    }

    #[test]
    fn invalid_argument_about_the_token_is_invalid_token() {
        let body = fcm_error(
            400,
            "INVALID_ARGUMENT",
            "INVALID_ARGUMENT",
            "The registration token is not a valid FCM registration token",
        );
        let out = classify_send_response(&resp(400, &[], &body), now());
        assert!(
            matches!(out, Attempt::Failed(ref f) if f.reason == ReasonCode::InvalidToken),
            "{out:?}"
        );
    }

    #[test]
    fn token_field_violation_is_invalid_token() {
        let body = r#"{"error":{"code":400,"message":"Invalid value","status":"INVALID_ARGUMENT",
            "details":[{"@type":"type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations":[{"field":"message.token","description":"Invalid registration token"}]}]}}"#;
        let out = classify_send_response(&resp(400, &[], body), now());
        assert!(
            matches!(out, Attempt::Failed(ref f) if f.reason == ReasonCode::InvalidToken),
            "{out:?}"
        );
    }

    #[test]
    fn invalid_argument_about_the_payload_is_permanent() {
        let body = r#"{"error":{"code":400,"message":"Invalid value at 'message.data[0].value' (TYPE_STRING), 12","status":"INVALID_ARGUMENT",
            "details":[{"@type":"type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations":[{"field":"message.data[0].value","description":"Invalid value"}]}]}}"#;
        let out = classify_send_response(&resp(400, &[], body), now());
        let Attempt::Failed(p) = &out else {
            panic!("expected permanent, got {out:?}")
        };
        assert_eq!(
            p.detail,
            "INVALID_ARGUMENT: Invalid value at 'message.data[0].value' (TYPE_STRING), 12"
        );
        assert_eq!(out.reason(), Some(ReasonCode::RejectedByProvider));
    }

    #[test]
    fn sender_mismatch_and_third_party_auth_are_permanent() {
        let body = fcm_error(
            403,
            "PERMISSION_DENIED",
            "SENDER_ID_MISMATCH",
            "SenderId mismatch",
        );
        assert!(matches!(
            classify_send_response(&resp(403, &[], &body), now()),
            Attempt::Failed(ref f) if f.reason == ReasonCode::RejectedByProvider
        ));
        // THIRD_PARTY_AUTH_ERROR comes with HTTP 401 but must not trigger a token refresh.
        let body = fcm_error(
            401,
            "UNAUTHENTICATED",
            "THIRD_PARTY_AUTH_ERROR",
            "Auth error from APNS or Web Push Service",
        );
        let out = classify_send_response(&resp(401, &[], &body), now());
        assert!(
            matches!(out, Attempt::Failed(ref p) if p.status == Some(401) && p.reason == ReasonCode::RejectedByProvider),
            "{out:?}"
        );
    }

    #[test]
    fn quota_exceeded_is_transient_with_retry_after() {
        let body = fcm_error(
            429,
            "RESOURCE_EXHAUSTED",
            "QUOTA_EXCEEDED",
            "Quota exceeded",
        );
        let out = classify_send_response(&resp(429, &[("Retry-After", "60")], &body), now());
        let Attempt::Transient(t) = out else {
            panic!("expected transient, got {out:?}")
        };
        assert_eq!(t.retry_after, Some(Duration::from_secs(60)));
        assert_eq!(t.detail, "QUOTA_EXCEEDED: Quota exceeded");
        let sent = Attempt::Sent {
            provider_message_id: None,
        };
        assert_eq!((sent.reason(), sent.last_error()), (None, None));
    }

    #[test]
    fn unavailable_and_internal_are_transient() {
        let body = fcm_error(
            503,
            "UNAVAILABLE",
            "UNAVAILABLE",
            "The service is currently unavailable.",
        );
        assert!(matches!(
            classify_send_response(&resp(503, &[], &body), now()),
            Attempt::Transient(_)
        ));
        let body = fcm_error(500, "INTERNAL", "INTERNAL", "Internal error");
        assert!(matches!(
            classify_send_response(&resp(500, &[], &body), now()),
            Attempt::Transient(_)
        ));
    }

    #[test]
    fn status_is_used_when_details_are_missing() {
        let body = r#"{"error":{"code":503,"message":"unavailable","status":"UNAVAILABLE"}}"#;
        assert!(matches!(
            classify_send_response(&resp(503, &[], body), now()),
            Attempt::Transient(_)
        ));
        let body = r#"{"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNSPECIFIED_ERROR"}]}}"#;
        assert!(matches!(
            classify_send_response(&resp(400, &[], body), now()),
            Attempt::Failed(ref f) if f.reason == ReasonCode::RejectedByProvider
        ));
    }

    #[test]
    fn gateway_html_pages_are_transient() {
        for status in [502, 504] {
            let out = classify_send_response(
                &resp(status, &[], "<!DOCTYPE html><html>Bad Gateway</html>"),
                now(),
            );
            let Attempt::Transient(t) = out else {
                panic!("expected transient for {status}, got {out:?}")
            };
            assert_eq!(
                t.detail,
                format!("HTTP {status} with a non-JSON (HTML) body")
            );
        }
        let out = classify_send_response(&resp(500, &[], "garbage"), now());
        assert!(matches!(out, Attempt::Transient(_)), "{out:?}");
    }

    #[test]
    fn unauthenticated_asks_for_a_token_refresh() {
        let body = r#"{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}"#;
        let out = classify_send_response(&resp(401, &[], body), now());
        assert_eq!(
            out,
            Attempt::failed(
                ReasonCode::ProviderAuthFailed,
                401,
                "UNAUTHENTICATED: Request had invalid authentication credentials."
            )
        );
        let out = classify_send_response(&resp(401, &[], "<html>401</html>"), now());
        assert!(
            matches!(out, Attempt::Failed(ref f) if f.reason == ReasonCode::ProviderAuthFailed),
            "{out:?}"
        );
    }

    #[test]
    fn not_found_without_fcm_detail_is_permanent_not_a_token_deletion() {
        let body = r#"{"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND"}}"#;
        let out = classify_send_response(&resp(404, &[], body), now());
        assert!(
            matches!(out, Attempt::Failed(ref f) if f.reason == ReasonCode::RejectedByProvider),
            "{out:?}"
        );
    }
}
