//! Unit tests of `keys`, by the part they cover.

mod keys {
    use super::super::*;

    fn task() -> Uuid {
        "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b".parse().unwrap()
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn delivery_id_matches_an_independent_uuid5() {
        // Expected value computed outside Rust (Python's uuid.uuid5) over
        // "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b\n2026-12-01T08:30:00Z\nemail\nada@example.com".
        let key = BusinessKey::new(
            task(),
            at("2026-12-01T08:30:00Z"),
            Channel::Email,
            "ada@example.com",
        );
        assert_eq!(key.delivery_id().to_string(), EXPECTED_DELIVERY_ID);
        assert_eq!(key.reminder_id().to_string(), EXPECTED_REMINDER_ID);
    }

    const EXPECTED_DELIVERY_ID: &str = "a532a81a-289a-5697-ace2-8b0b4e7cdb26";
    const EXPECTED_REMINDER_ID: &str = "fa4d4b92-bc22-53ac-aa5c-dded1fc9d625";

    #[test]
    fn same_instant_in_another_offset_is_the_same_delivery() {
        let a = BusinessKey::new(
            task(),
            at("2026-12-01T08:30:00Z"),
            Channel::Email,
            "ada@example.com",
        );
        let b = BusinessKey::new(
            task(),
            at("2026-12-01T09:30:00+01:00"),
            Channel::Email,
            " ADA@Example.com ",
        );
        assert_eq!(a.delivery_id(), b.delivery_id());
    }

    #[test]
    fn each_component_changes_the_id() {
        let base = BusinessKey::new(task(), at("2026-12-01T08:30:00Z"), Channel::Push, "tokenA");
        let others = [
            BusinessKey::new(
                Uuid::nil(),
                at("2026-12-01T08:30:00Z"),
                Channel::Push,
                "tokenA",
            ),
            BusinessKey::new(task(), at("2026-12-01T08:30:01Z"), Channel::Push, "tokenA"),
            BusinessKey::new(task(), at("2026-12-01T08:30:00Z"), Channel::Email, "tokenA"),
            BusinessKey::new(task(), at("2026-12-01T08:30:00Z"), Channel::Push, "tokena"),
        ];
        for other in &others {
            assert_ne!(base.delivery_id(), other.delivery_id(), "{other:?}");
        }
    }

    #[test]
    fn missing_recipient_has_its_own_stable_id() {
        let none =
            BusinessKey::without_recipient(task(), at("2026-12-01T08:30:00Z"), Channel::Push);
        let again =
            BusinessKey::without_recipient(task(), at("2026-12-01T08:30:00Z"), Channel::Push);
        let some = BusinessKey::new(task(), at("2026-12-01T08:30:00Z"), Channel::Push, "t");
        assert_eq!(none.delivery_id(), again.delivery_id());
        assert_ne!(none.delivery_id(), some.delivery_id());
    }

    #[test]
    fn reminder_id_ignores_channel_and_recipient() {
        let a = BusinessKey::new(task(), at("2026-12-01T08:30:00Z"), Channel::Push, "t1");
        let b = BusinessKey::new(task(), at("2026-12-01T08:30:00Z"), Channel::Email, "x@y.z");
        assert_eq!(a.reminder_id(), b.reminder_id());
        assert_ne!(a.reminder_id(), a.delivery_id());
        assert_eq!(a.reminder_id().to_string().len(), 36);
    }
}

mod mask {
    use super::super::*;

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
