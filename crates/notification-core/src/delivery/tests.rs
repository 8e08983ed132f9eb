use serde_json::json;

use super::*;
use crate::policy::{Failure, Transient};

fn reminder(channels: Option<&[&str]>) -> ReminderDue {
    let mut data = json!({
        "task_id": "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b", "user_id": "u-42",
        "title": "Pay rent", "remind_at": "2026-12-01T08:30:00Z",
    });
    if let Some(c) = channels {
        data["channels"] = json!(c);
    }
    ReminderDue::from_value(&data).unwrap()
}

fn lookup(email: Option<&str>, channels: &[&str], devices: &[&str]) -> Lookup {
    Lookup {
        subscriber: Some(Recipient {
            email: email.map(str::to_owned),
            timezone: "UTC".into(),
            channels: channels.iter().map(|c| c.to_string()).collect(),
        }),
        devices: devices.iter().map(|d| d.to_string()).collect(),
        fcm_token: None,
    }
}

const READY: Ready = Ready {
    email: true,
    push: true,
};

fn summary(planned: &[Delivery]) -> Vec<(Channel, String, Option<ReasonCode>)> {
    planned
        .iter()
        .map(|p| (p.key.channel(), p.key.recipient().to_owned(), p.failure))
        .collect()
}

fn key(channel: Channel, recipient: &str) -> BusinessKey {
    BusinessKey::new(
        "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b".parse().unwrap(),
        "2026-12-01T08:30:00Z".parse().unwrap(),
        channel,
        recipient,
    )
}

fn now() -> Timestamp {
    "2026-12-01T08:30:01.5Z".parse().unwrap()
}

// ---- plan ----

#[test]
fn event_channels_win_over_the_subscribers() {
    let f = lookup(Some("ada@example.com"), &["email"], &["tok-1", "tok-2"]);
    let p = plan(&reminder(Some(&["push"])), &f, READY);
    assert_eq!(
        summary(&p),
        vec![
            (Channel::Push, "tok-1".into(), None),
            (Channel::Push, "tok-2".into(), None)
        ]
    );
    let p = plan(&reminder(None), &f, READY);
    assert_eq!(
        summary(&p),
        vec![(Channel::Email, "ada@example.com".into(), None)]
    );
    assert!(plan(&reminder(Some(&[])), &f, READY).is_empty());
}

#[test]
fn missing_addresses_and_unknown_subscribers_fail_with_no_address() {
    let f = lookup(Some("  "), &["email", "push"], &[]);
    let p = plan(&reminder(None), &f, READY);
    assert_eq!(
        summary(&p),
        vec![
            (Channel::Email, String::new(), Some(ReasonCode::NoAddress)),
            (Channel::Push, String::new(), Some(ReasonCode::NoAddress))
        ]
    );
    let p = plan(&reminder(None), &Lookup::default(), READY);
    assert_eq!(p.len(), 2);
    assert!(p.iter().all(|d| d.failure == Some(ReasonCode::NoAddress)));
}

#[test]
fn unconfigured_channels_fail_before_looking_at_addresses() {
    let f = lookup(Some("ada@example.com"), &["email", "push"], &["tok-1"]);
    let p = plan(
        &reminder(None),
        &f,
        Ready {
            email: false,
            push: false,
        },
    );
    assert_eq!(
        summary(&p),
        vec![
            (
                Channel::Email,
                String::new(),
                Some(ReasonCode::ChannelNotConfigured)
            ),
            (
                Channel::Push,
                String::new(),
                Some(ReasonCode::ChannelNotConfigured)
            )
        ]
    );
}

#[test]
fn ids_are_the_business_keys_and_duplicates_collapse() {
    let f = lookup(Some("ada@example.com"), &["push"], &["tok-1", "tok-1 "]);
    let p = plan(&reminder(None), &f, READY);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].id, p[0].key.delivery_id().to_string());
    assert_eq!(p[0].step, Step::Planned);
}

// ---- claim ----

fn row(status: &str, claimed: bool, published: bool) -> ClaimRow {
    ClaimRow {
        delivery_id: "d".into(),
        claimed,
        status: status.into(),
        attempts: 2,
        reason: Some("no_address".into()),
        provider_message_id: None,
        updated_at: Some("2026-12-01T08:30:00.123+00:00".parse().unwrap()),
        outcome_published: published,
        lease_until: claimed.then(|| "2026-12-01T08:31:00+00:00".parse().unwrap()),
        next_attempt_at: Some("2026-12-01T08:35:00+00:00".parse().unwrap()),
    }
}

fn claimed(row: ClaimRow) -> Step {
    let mut d = vec![Delivery {
        id: "d".into(),
        ..Delivery::new(key(Channel::Email, "ada@example.com"), None)
    }];
    apply_claims(&mut d, &[row], AttemptPolicy::default(), "u-42", now());
    d.remove(0).step
}

#[test]
fn rows_are_classified() {
    assert_eq!(
        claimed(row("retrying", true, false)),
        Step::Call {
            attempts: 2,
            lease_until: "2026-12-01T08:31:00+00:00".parse().unwrap()
        }
    );
    assert_eq!(
        claimed(row("pending", false, false)),
        Step::Busy(Some("2026-12-01T08:35:00+00:00".parse().unwrap()))
    );
    assert_eq!(
        claimed(row("sent", false, true)),
        Step::Skip(DeliveryStatus::Sent)
    );
    let Step::Republish(stored) = claimed(row("failed", true, false)) else {
        panic!("unpublished expected");
    };
    assert_eq!(stored.reason, Some(ReasonCode::NoAddress));
    assert_eq!(stored.attempts, 2);
    assert_eq!(stored.at.to_string(), "2026-12-01T08:30:00.123Z");
    assert!(matches!(
        claimed(row("bogus", true, false)),
        Step::Busy(None)
    ));
}

#[test]
fn a_delivery_the_claim_did_not_return_is_busy() {
    let mut d = plan(
        &reminder(Some(&["email"])),
        &lookup(Some("ada@example.com"), &[], &[]),
        READY,
    );
    apply_claims(&mut d, &[], AttemptPolicy::default(), "u-42", now());
    assert_eq!(d[0].step, Step::Busy(None));
    assert!(retry_reason(&d).is_some());
}

#[test]
fn a_lowered_limit_or_an_unservable_channel_fails_without_a_call() {
    let policy = AttemptPolicy::new(2).unwrap();
    let mut d = vec![Delivery {
        id: "d".into(),
        ..Delivery::new(key(Channel::Email, "ada@example.com"), None)
    }];
    apply_claims(
        &mut d,
        &[row("retrying", true, false)],
        policy,
        "u-42",
        now(),
    );
    let Step::Settle { settlement, .. } = &d[0].step else {
        panic!("settled expected: {:?}", d[0].step);
    };
    assert_eq!(settlement.reason, Some(ReasonCode::AttemptsExhausted));
    assert_eq!(settlement.attempts, 2);
    let mut d = vec![Delivery {
        id: "d".into(),
        ..Delivery::new(key(Channel::Email, ""), Some(ReasonCode::NoAddress))
    }];
    let mut fresh = row("pending", true, false);
    fresh.attempts = 0;
    apply_claims(&mut d, &[fresh], policy, "u-42", now());
    let Step::Settle { settlement, .. } = &d[0].step else {
        panic!("settled expected: {:?}", d[0].step);
    };
    assert_eq!(settlement.reason, Some(ReasonCode::NoAddress));
}

#[test]
fn reason_codes_read_back() {
    assert_eq!(
        reason_code("attempts_exhausted"),
        Some(ReasonCode::AttemptsExhausted)
    );
    assert_eq!(reason_code("nope"), None);
}

// ---- settle, publish, record, answer ----

fn called(attempts: u32) -> Delivery {
    Delivery {
        step: Step::Call {
            attempts,
            lease_until: "2026-12-01T08:31:00Z".parse().unwrap(),
        },
        ..Delivery::new(key(Channel::Push, "tok-1"), None)
    }
}

#[test]
fn transient_then_exhausted() {
    let policy = AttemptPolicy::new(2).unwrap();
    let busy = Transient::transport("HTTP 503");
    let mut first = called(0);
    first.settle(policy, Attempt::Transient(busy.clone()), now());
    assert!(first.outcome_event("u-42").is_none());
    assert_eq!(first.record_row().unwrap()["status"], "retrying");
    assert_eq!(first.record_row().unwrap()["published"], false);
    let (level, line) = first.log_line("ev-1", None).unwrap();
    assert_eq!(
        (level, &line["action"]),
        (tracing::Level::WARN, &json!("retrying"))
    );
    assert!(retry_reason(std::slice::from_ref(&first))
        .unwrap()
        .starts_with("1 delivery(ies) retrying"));
    let mut last = called(1);
    last.settle(policy, Attempt::Transient(busy), now());
    let event = last.outcome_event("u-42").unwrap();
    assert_eq!(event.reason, Some(ReasonCode::AttemptsExhausted));
    assert_eq!(event.attempts, 2);
    assert_eq!(retry_reason(&[last]), None);
}

#[test]
fn sent_and_rejected() {
    let policy = AttemptPolicy::default();
    let mut sent = called(1);
    sent.settle(
        policy,
        Attempt::Sent {
            provider_message_id: Some("m-1".into()),
        },
        now(),
    );
    let event = sent.outcome_event("u-42").unwrap();
    assert_eq!(event.event_type(), "notification.sent");
    assert_eq!(
        (event.attempts, event.provider_message_id.as_deref()),
        (2, Some("m-1"))
    );
    assert_eq!(event.at.to_string(), "2026-12-01T08:30:01.5Z");
    let mut rejected = called(0);
    rejected.settle(
        policy,
        Attempt::Failed(Failure::without_response(
            ReasonCode::InvalidToken,
            "token tok-1 is gone",
        )),
        now(),
    );
    assert_eq!(rejected.dead_token(), Some("tok-1"));
    assert_eq!(sent.dead_token(), None);
    let row = rejected.record_row().unwrap();
    assert_eq!(row["reason"], "invalid_token");
    // Stored masked too: the delivery-log API serves `last_error`.
    assert_eq!(row["last_error"], "token … is gone");
    assert_eq!(row["published"], true);
    let (_, line) = rejected.log_line("ev-1", None).unwrap();
    assert_eq!(line["error"], "token … is gone");
}

#[test]
fn a_failed_publish_is_recorded_and_retried() {
    let mut d = called(0);
    d.settle(
        AttemptPolicy::default(),
        Attempt::Sent {
            provider_message_id: None,
        },
        now(),
    );
    d.publish_error = Some("sidecar answered 500".into());
    assert_eq!(d.record_row().unwrap()["published"], false);
    let (level, line) = d.log_line("ev-1", None).unwrap();
    assert_eq!(
        (level, &line["action"]),
        (tracing::Level::WARN, &json!("publish_failed"))
    );
    assert_eq!(line["error"], "sidecar answered 500");
    assert!(retry_reason(std::slice::from_ref(&d))
        .unwrap()
        .ends_with("1 outcome(s) not published"));
    // A re-published outcome is marked only when the publish worked.
    let republish = Delivery {
        step: Step::Republish(d.outcome_event("u-42").unwrap()),
        ..called(0)
    };
    assert_eq!(republish.record_row().unwrap()["settle"], false);
    let failed = Delivery {
        publish_error: Some("down".into()),
        ..republish
    };
    assert_eq!(failed.record_row(), None);
}

#[test]
fn unconfigured_channels_say_why_in_the_log() {
    let d = Delivery {
        step: Step::Republish(NotificationOutcome::failed(
            &key(Channel::Push, ""),
            "u-42",
            ReasonCode::ChannelNotConfigured,
            0,
            now(),
        )),
        ..Delivery::new(
            key(Channel::Push, ""),
            Some(ReasonCode::ChannelNotConfigured),
        )
    };
    let (level, line) = d.log_line("ev-1", Some("fcm_project_id is empty")).unwrap();
    assert_eq!(level, tracing::Level::INFO);
    assert_eq!(line["action"], "failed");
    assert_eq!(line["error"], "fcm_project_id is empty");
    assert_eq!(line["recipient"], "");
    assert_eq!(called(0).log_line("ev-1", None), None);
}

#[test]
fn recipients_are_masked_and_scrubbed() {
    let k = key(Channel::Email, "Ada@Example.com");
    assert_eq!(masked_recipient(&k), "A***@Example.com");
    assert_eq!(
        scrub("ada@example.com is not allowed", &k),
        "A***@Example.com is not allowed"
    );
    let t = key(Channel::Push, "fcm-token-abcdefghijklmnop");
    assert_eq!(
        scrub("token fcm-token-abcdefghijklmnop is bad", &t),
        "token fcm-to… is bad"
    );
    assert_eq!(
        masked_recipient(&BusinessKey::without_recipient(
            k.task_id(),
            k.remind_at(),
            Channel::Push
        )),
        ""
    );
}

#[test]
fn outcome_events_of_stored_rows() {
    let mut sent = row("sent", false, false);
    sent.provider_message_id = Some("m".into());
    let Step::Republish(e) = claimed(sent) else {
        panic!("republish expected")
    };
    assert_eq!(e.event_type(), "notification.sent");
    assert_eq!(e.provider_message_id.as_deref(), Some("m"));
    let mut failed = row("failed", false, false);
    failed.reason = None;
    let Step::Republish(f) = claimed(failed) else {
        panic!("republish expected")
    };
    assert_eq!(f.reason, Some(ReasonCode::RejectedByProvider));
}
