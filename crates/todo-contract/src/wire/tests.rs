use crate::{Channel, DeliveryStatus, RejectReason};

#[test]
fn every_name_reads_back_as_its_value() {
    for s in DeliveryStatus::ALL {
        assert_eq!(s.as_str().parse::<DeliveryStatus>(), Ok(*s));
        assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        assert_eq!(
            serde_json::from_value::<DeliveryStatus>(serde_json::json!(s.as_str())).unwrap(),
            *s
        );
    }
    for r in RejectReason::ALL {
        assert_eq!(r.as_str().parse::<RejectReason>(), Ok(*r));
    }
    assert_eq!(Channel::NAMES, ["email", "push"]);
}

#[test]
fn an_unknown_name_says_what_was_expected() {
    let e = "Email".parse::<Channel>().unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"unknown channel "Email" (expected "email" or "push")"#
    );
    let e = "done".parse::<DeliveryStatus>().unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"unknown delivery status "done" (expected "pending", "retrying", "sent" or "failed")"#
    );
    assert!(serde_json::from_value::<Channel>(serde_json::json!("sms")).is_err());
}
