//! Unit tests of `policy`, by the part they cover.

mod policy {
    use super::super::*;
    use crate::policy::{Failure, Transient};

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn reason_codes_are_stable_snake_case() {
        let all = [
            (ReasonCode::NoAddress, "no_address"),
            (ReasonCode::InvalidToken, "invalid_token"),
            (ReasonCode::RejectedByProvider, "rejected_by_provider"),
            (ReasonCode::AttemptsExhausted, "attempts_exhausted"),
            (ReasonCode::ChannelNotConfigured, "channel_not_configured"),
            (ReasonCode::ProviderAuthFailed, "provider_auth_failed"),
        ];
        for (code, text) in all {
            assert_eq!(code.as_str(), text);
            assert_eq!(serde_json::to_string(&code).unwrap(), format!("\"{text}\""));
        }
    }

    #[test]
    fn statuses_round_trip() {
        for s in [
            DeliveryStatus::Pending,
            DeliveryStatus::Retrying,
            DeliveryStatus::Sent,
            DeliveryStatus::Failed,
        ] {
            assert_eq!(s.as_str().parse::<DeliveryStatus>(), Ok(s));
        }
        assert!("done".parse::<DeliveryStatus>().is_err());
        assert!(DeliveryStatus::Sent.is_final());
        assert!(!DeliveryStatus::Retrying.is_final());
    }

    #[test]
    fn variable_parsing() {
        assert_eq!(
            AttemptPolicy::from_variable("").unwrap(),
            AttemptPolicy::new(5).unwrap()
        );
        assert_eq!(
            AttemptPolicy::from_variable(" 3 ").unwrap(),
            AttemptPolicy::new(3).unwrap()
        );
        assert!(AttemptPolicy::from_variable("0").is_err());
        assert!(AttemptPolicy::from_variable("-1").is_err());
        assert!(AttemptPolicy::from_variable("five").is_err());
        assert!(AttemptPolicy::new(0).is_err());
    }

    fn now() -> Timestamp {
        ts("2026-12-01T08:30:00.123456Z")
    }

    #[test]
    fn retry_until_the_budget_is_spent() {
        let p = AttemptPolicy::new(3).unwrap();
        let busy = || Attempt::Transient(Transient::transport("HTTP 503"));
        assert!(p.settle(0, busy(), now()).retry);
        assert!(p.settle(1, busy(), now()).retry);
        assert_eq!(
            p.settle(2, busy(), now()).reason,
            Some(ReasonCode::AttemptsExhausted)
        );
        assert_eq!(
            p.settle(6, busy(), now()).reason,
            Some(ReasonCode::AttemptsExhausted)
        );
    }

    #[test]
    fn settlement_of_each_result() {
        let p = AttemptPolicy::new(2).unwrap();
        let sent = p.settle(
            0,
            Attempt::Sent {
                provider_message_id: Some("m-1".into()),
            },
            now(),
        );
        assert_eq!(
            sent,
            Settlement {
                status: DeliveryStatus::Sent,
                reason: None,
                attempts: 1,
                provider_message_id: Some("m-1".into()),
                last_error: None,
                retry_after: None,
                at: ts("2026-12-01T08:30:00.123Z"),
                publish: true,
                retry: false
            }
        );
        let rejected = p.settle(
            0,
            Attempt::Failed(Failure::without_response(ReasonCode::InvalidToken, "gone")),
            now(),
        );
        assert_eq!(rejected.status, DeliveryStatus::Failed);
        assert_eq!(rejected.reason, Some(ReasonCode::InvalidToken));
        assert_eq!(rejected.last_error.as_deref(), Some("gone"));
        assert!(rejected.publish && !rejected.retry);
        let mut slow = Transient::transport("HTTP 429");
        slow.retry_after = Some(Duration::from_secs(30));
        let again = p.settle(0, Attempt::Transient(slow.clone()), now());
        assert_eq!(
            (
                again.status,
                again.reason,
                again.attempts,
                again.publish,
                again.retry
            ),
            (DeliveryStatus::Retrying, None, 1, false, true)
        );
        assert_eq!(again.retry_after, Some(Duration::from_secs(30)));
        assert_eq!(again.last_error.as_deref(), Some("HTTP 429"));
        let exhausted = p.settle(1, Attempt::Transient(slow), now());
        assert_eq!(
            (
                exhausted.status,
                exhausted.reason,
                exhausted.publish,
                exhausted.retry
            ),
            (
                DeliveryStatus::Failed,
                Some(ReasonCode::AttemptsExhausted),
                true,
                false
            )
        );
        // Only a delivery that will be retried waits for the provider.
        assert_eq!(exhausted.retry_after, None);
    }

    #[test]
    fn failing_without_a_call() {
        let s = Settlement::without_call(ReasonCode::AttemptsExhausted, 5, now());
        assert_eq!(
            (s.status, s.reason, s.attempts, s.publish, s.retry),
            (
                DeliveryStatus::Failed,
                Some(ReasonCode::AttemptsExhausted),
                5,
                true,
                false
            )
        );
        assert_eq!(s.at, ts("2026-12-01T08:30:00.123Z"));
    }

    #[test]
    fn the_budget_is_spent_at_max_attempts() {
        let p = AttemptPolicy::new(2).unwrap();
        assert!(!p.is_spent(0));
        assert!(!p.is_spent(1));
        assert!(p.is_spent(2));
    }
}

mod attempt {
    use super::super::*;

    fn now() -> Timestamp {
        "2026-12-01T08:30:00Z".parse().unwrap()
    }

    #[test]
    fn retry_after_header_becomes_next_attempt() {
        let resp = crate::provider_http::test_response(429, &[("Retry-After", "30")], "");
        let t = Transient::from_response(&resp, now(), "slow down");
        assert_eq!(t.retry_after, Some(Duration::from_secs(30)));
    }

    #[test]
    fn no_retry_after_means_no_next_attempt() {
        let t = Transient::transport("timed out");
        assert_eq!(t.status, None);
        assert_eq!(t.retry_after, None);
        assert_eq!(t.detail, "timed out");
    }

    #[test]
    fn a_deployment_fault_fails_and_no_answer_is_transient() {
        let why = "fcm_service_account_json private_key is not an RSA PEM key";
        let failed = Attempt::not_configured(&why);
        assert_eq!(failed.reason(), Some(ReasonCode::ChannelNotConfigured));
        assert_eq!(failed.last_error(), Some(why));
        let lost = Attempt::no_answer(&"request to https://fcm.googleapis.com timed out after 8s");
        assert_eq!(lost.reason(), None);
        assert!(
            matches!(lost, Attempt::Transient(ref t) if t.status.is_none() && t.detail.ends_with("after 8s"))
        );
    }
}

mod retry_after {
    use super::super::*;

    fn now() -> Timestamp {
        "2015-10-21T07:27:00Z".parse().unwrap()
    }

    #[test]
    fn delta_seconds() {
        assert_eq!(
            parse_retry_after("120", now()),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now()), Some(Duration::ZERO));
    }

    #[test]
    fn huge_values_are_capped() {
        assert_eq!(
            parse_retry_after("99999999999999999999999", now()),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(parse_retry_after("86401", now()), Some(MAX_RETRY_AFTER));
    }

    #[test]
    fn http_date() {
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now()),
            Some(Duration::from_secs(60))
        );
    }

    #[test]
    fn http_date_in_the_past_is_zero() {
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now()),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn garbage_is_ignored() {
        for v in ["", "soon", "-5", "1.5", "Wed, 99 Oct 2015 07:28:00 GMT"] {
            assert_eq!(parse_retry_after(v, now()), None, "{v:?}");
        }
    }
}
