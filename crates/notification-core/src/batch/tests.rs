use serde_json::json;

use super::*;
use crate::delivery::Step;
use crate::Channel;

fn reminder(task: u8, user: &str) -> ReminderDue {
    ReminderDue::from_value(&json!({
        "task_id": format!("6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a{task:02x}"), "user_id": user,
        "title": "Pay rent", "remind_at": "2026-12-01T08:30:00Z",
    }))
    .unwrap()
}

fn lookups() -> Lookups {
    serde_json::from_value(json!({
        "users": [
            {"user_id": "ada", "subscriber": {"email": "ada@example.com", "timezone": "Europe/Berlin",
                                              "channels": ["email", "push"]},
             "devices": ["tok-1", "tok-2"]},
            {"user_id": "bob", "subscriber": {"email": "bob@example.com", "timezone": "UTC",
                                              "channels": ["email"]},
             "devices": []},
        ],
        "fcm_token": null,
    }))
    .unwrap()
}

const READY: Ready = Ready {
    email: true,
    push: true,
};

#[test]
fn each_reminder_is_planned_with_its_own_users_lookup() {
    let set = ReminderSet::plan(
        vec![reminder(1, "ada"), reminder(2, "bob"), reminder(3, "carol")],
        &lookups(),
        READY,
    );
    let channels = |r: usize| -> Vec<(Channel, String)> {
        set.members(r)
            .iter()
            .map(|d| {
                let d = &set.deliveries[*d];
                (d.key.channel(), d.key.recipient().to_owned())
            })
            .collect()
    };
    assert_eq!(
        channels(0),
        [
            (Channel::Email, "ada@example.com".to_owned()),
            (Channel::Push, "tok-1".to_owned()),
            (Channel::Push, "tok-2".to_owned()),
        ]
    );
    assert_eq!(
        channels(1),
        [(Channel::Email, "bob@example.com".to_owned())]
    );
    // An unknown subscriber: both channels, each failing with no_address.
    assert_eq!(set.members(2).len(), 2);
    assert!(set
        .members(2)
        .iter()
        .all(|d| set.deliveries[*d].failure.is_some()));
    assert_eq!(set.lookups[0].timezone(), "Europe/Berlin");
    assert_eq!(set.lookups[2].timezone(), "UTC");
    assert_eq!(set.deliveries.len(), 6);
    assert_eq!(set.user_of(3), "bob");
}

#[test]
fn the_same_reminder_twice_shares_its_deliveries() {
    let set = ReminderSet::plan(
        vec![reminder(1, "bob"), reminder(1, "bob")],
        &lookups(),
        READY,
    );
    assert_eq!(set.deliveries.len(), 1);
    assert_eq!(set.members(0), [0]);
    assert_eq!(set.members(1), [0]);
    assert_eq!(set.owner(0), Some(0));
    let input = set.claim_input(&|_| None);
    assert_eq!(
        input.as_array().map(Vec::len),
        Some(1),
        "each key claimed once"
    );
}

#[test]
fn claim_lines_carry_their_owners_user_task_and_time() {
    let set = ReminderSet::plan(vec![reminder(2, "bob")], &lookups(), READY);
    let line = &set.claim_input(&|_| None)[0];
    assert_eq!(line["user_id"], "bob");
    assert_eq!(line["task_id"], "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a02");
    assert_eq!(line["remind_at"], "2026-12-01T08:30:00Z");
    assert_eq!(line["status"], "pending");
    assert_eq!(line["reason"], serde_json::Value::Null);
    assert_eq!(line["last_error"], serde_json::Value::Null);
}

#[test]
fn deliveries_failed_without_a_call_say_why_in_words() {
    let ready = Ready {
        email: false,
        push: true,
    };
    let set = ReminderSet::plan(vec![reminder(3, "carol")], &lookups(), ready);
    let input = set.claim_input(&|channel| {
        (channel == Channel::Email).then(|| "email_from must be set".to_owned())
    });
    let errors: Vec<(&str, &str)> = input
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["reason"].as_str().unwrap(),
                l["last_error"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            (
                "channel_not_configured",
                "email is not configured: email_from must be set"
            ),
            (
                "no_address",
                "no device: the subscriber has registered none, or is not registered"
            ),
        ]
    );
}

#[test]
fn each_reminder_is_answered_by_its_own_deliveries() {
    let mut set = ReminderSet::plan(
        vec![reminder(1, "bob"), reminder(2, "bob")],
        &lookups(),
        READY,
    );
    // Only the first reminder's delivery is claimed and done; the second's
    // was not returned by the claim (in flight elsewhere).
    let first = set.deliveries[0].id.clone();
    let rows: Vec<ClaimRow> = serde_json::from_value(json!([{
        "delivery_id": first, "claimed": false, "status": "sent", "attempts": 1,
        "reason": null, "provider_message_id": "m", "updated_at": "2026-12-01T08:30:00Z",
        "outcome_published": true, "lease_until": null, "next_attempt_at": null,
    }]))
    .unwrap();
    set.apply_claims(
        &rows,
        AttemptPolicy::default(),
        "2026-12-01T08:31:00Z".parse().unwrap(),
    );
    assert!(matches!(set.deliveries[0].step, Step::Skip(_)));
    assert!(matches!(set.deliveries[1].step, Step::Busy(None)));
    assert_eq!(set.retry_reason(0), None);
    assert!(set.retry_reason(1).is_some());
}
