//! The values of the delivery log's columns (docs/CONTRACT.md,
//! `deliveries`): the Notification Service writes them, the subscriber API
//! and `/metrics` read them back.

crate::wire_names! {
    /// A way to reach a subscriber; one delivery per channel and recipient.
    pub enum Channel ("channel") {
        /// E-mail through the configured HTTP relay.
        Email = "email",
        /// Push through FCM HTTP v1, one delivery per registered device token.
        Push = "push",
    }
}

crate::wire_names! {
    /// Where a delivery stands (the table's CHECK constraint).
    pub enum DeliveryStatus ("delivery status") {
        /// Claimed, provider not yet answered.
        Pending = "pending",
        /// A transient failure happened; the next redelivery tries again.
        Retrying = "retrying",
        /// The provider accepted the message (final).
        Sent = "sent",
        /// Given up, see the reason (final).
        Failed = "failed",
    }
}

impl DeliveryStatus {
    /// `sent` and `failed` never change again: a redelivered reminder skips them.
    pub fn is_final(self) -> bool {
        matches!(self, DeliveryStatus::Sent | DeliveryStatus::Failed)
    }
}
