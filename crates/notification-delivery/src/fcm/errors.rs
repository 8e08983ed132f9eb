//! Reading FCM's answer to `messages:send`.
//!
//! FCM HTTP v1 errors are Google RPC statuses:
//! `{"error": {"code", "message", "status", "details": [...]}}`. The precise
//! reason is the `errorCode` of the `google.firebase.fcm.v1.FcmError` detail
//! (UNREGISTERED, INVALID_ARGUMENT, SENDER_ID_MISMATCH, QUOTA_EXCEEDED,
//! UNAVAILABLE, INTERNAL, THIRD_PARTY_AUTH_ERROR, UNSPECIFIED_ERROR); when it
//! is missing we fall back to `error.status`, then to the HTTP status. Gateway
//! errors may come back as HTML pages: with a 5xx they are transient.
//!
//! The answer is an [`Attempt`]: a dead device token (UNREGISTERED, or
//! INVALID_ARGUMENT about the token) fails with `invalid_token` (the token is
//! deleted); 401 UNAUTHENTICATED fails with `provider_auth_failed`, which the
//! caller answers by refreshing the access token once and sending again
//! (only when it persists is it final). THIRD_PARTY_AUTH_ERROR comes with a
//! 401 too but is the APNs/Web Push credentials, not ours: `rejected_by_provider`.

use jiff::Timestamp;
use serde_json::Value;

use crate::attempt::{Attempt, Transient};
use crate::http::{describe_unparsed_body, is_transient_status, ProviderResponse};
use crate::policy::ReasonCode;

/// The parts of a Google RPC error we look at.
struct RpcError {
    message: String,
    status: Option<String>,
    fcm_error_code: Option<String>,
    token_field_violation: bool,
}

impl RpcError {
    fn parse(body: &[u8]) -> Option<RpcError> {
        let root: Value = serde_json::from_slice(body).ok()?;
        let error = root.get("error")?.as_object()?;
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let status = error
            .get("status")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let details = error
            .get("details")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let fcm_error_code = details.iter().find_map(|d| {
            let is_fcm = d
                .get("@type")
                .and_then(Value::as_str)
                .is_none_or(|t| t.ends_with("google.firebase.fcm.v1.FcmError"));
            let code = d.get("errorCode").and_then(Value::as_str)?;
            is_fcm.then(|| code.to_owned())
        });
        let token_field_violation = details.iter().any(|d| {
            d.get("fieldViolations")
                .and_then(Value::as_array)
                .is_some_and(|violations| {
                    violations.iter().any(|v| {
                        v.get("field")
                            .and_then(Value::as_str)
                            .is_some_and(|f| f == "message.token")
                    })
                })
        });
        Some(RpcError {
            message,
            status,
            fcm_error_code,
            token_field_violation,
        })
    }

    /// The code we classify on: FcmError's `errorCode` unless unspecified,
    /// else the RPC `status`.
    fn code(&self) -> Option<&str> {
        self.fcm_error_code
            .as_deref()
            .filter(|c| *c != "UNSPECIFIED_ERROR")
            .or(self.status.as_deref())
    }

    /// INVALID_ARGUMENT covers both bad tokens and bad payloads; it is about
    /// the token when a field violation names `message.token` or the message
    /// says so (FCM's documented "The registration token is not a valid FCM
    /// registration token").
    fn is_about_token(&self) -> bool {
        self.token_field_violation
            || self
                .message
                .to_ascii_lowercase()
                .contains("registration token")
    }

    fn detail(&self) -> String {
        match self.code() {
            Some(code) if !self.message.is_empty() => format!("{code}: {}", self.message),
            Some(code) => code.to_owned(),
            None => self.message.clone(),
        }
    }
}

/// Classifies FCM's answer. `now` resolves an HTTP-date `Retry-After`.
pub fn classify_send_response(response: &ProviderResponse, now: Timestamp) -> Attempt {
    if response.status().is_success() {
        let name = serde_json::from_slice::<Value>(response.body())
            .ok()
            .and_then(|v| v.get("name").and_then(Value::as_str).map(str::to_owned))
            .filter(|n| !n.is_empty());
        return Attempt::Sent {
            provider_message_id: name,
        };
    }
    let status = response.status().as_u16();
    let Some(error) = RpcError::parse(response.body()) else {
        let detail = describe_unparsed_body(status, response.body());
        return by_status(response, now, &detail);
    };
    let detail = error.detail();
    match error.code() {
        Some("UNREGISTERED") => Attempt::failed(ReasonCode::InvalidToken, status, &detail),
        Some("INVALID_ARGUMENT") if error.is_about_token() => {
            Attempt::failed(ReasonCode::InvalidToken, status, &detail)
        }
        Some("INVALID_ARGUMENT" | "SENDER_ID_MISMATCH" | "THIRD_PARTY_AUTH_ERROR") => {
            Attempt::failed(ReasonCode::RejectedByProvider, status, &detail)
        }
        Some(
            "QUOTA_EXCEEDED" | "RESOURCE_EXHAUSTED" | "UNAVAILABLE" | "INTERNAL"
            | "DEADLINE_EXCEEDED",
        ) => Attempt::Transient(Transient::from_response(response, now, &detail)),
        Some("UNAUTHENTICATED") => Attempt::failed(ReasonCode::ProviderAuthFailed, status, &detail),
        _ => by_status(response, now, &detail),
    }
}

/// Fallback when the body names no code we know: the HTTP status decides.
fn by_status(response: &ProviderResponse, now: Timestamp, detail: &str) -> Attempt {
    let status = response.status().as_u16();
    if status == 401 {
        Attempt::failed(ReasonCode::ProviderAuthFailed, status, detail)
    } else if is_transient_status(status) {
        Attempt::Transient(Transient::from_response(response, now, detail))
    } else {
        Attempt::failed(ReasonCode::RejectedByProvider, status, detail)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn now() -> Timestamp {
        "2026-12-01T08:30:00Z".parse().unwrap()
    }

    use crate::http::test_response as resp;

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
