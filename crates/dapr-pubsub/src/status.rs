//! The app's answer to a delivery, which decides what Dapr does next.

use serde::{Deserialize, Serialize};

/// What Dapr should do with a delivered event. Dapr compares these strings
/// case-sensitively and treats anything else (or a 4xx/5xx) as `RETRY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum AppStatus {
    /// Handled, a duplicate of something handled, or a type we ignore.
    Success,
    /// A transient fault: redeliver later.
    Retry,
    /// Can never succeed: stop (and dead-letter where configured).
    Drop,
}

impl AppStatus {
    /// The body of a single-event answer: `{"status": "SUCCESS"}`.
    pub fn to_body(self) -> Vec<u8> {
        serde_json::json!({ "status": self })
            .to_string()
            .into_bytes()
    }

    /// Combines the outcomes of the parts of one event: any retry wins over
    /// drop, which wins over success, so nothing transient is acknowledged.
    pub fn worst(self, other: Self) -> Self {
        use AppStatus::*;
        match (self, other) {
            (Retry, _) | (_, Retry) => Retry,
            (Drop, _) | (_, Drop) => Drop,
            _ => Success,
        }
    }
}

/// One entry's answer within a bulk delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryStatus {
    /// The `entryId` Dapr gave the entry.
    #[serde(rename = "entryId")]
    pub entry_id: String,
    /// What Dapr should do with that entry.
    pub status: AppStatus,
}

/// The answer to a bulk delivery: one status per entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkResponse {
    /// Statuses in the order of the request's entries.
    pub statuses: Vec<EntryStatus>,
}

impl BulkResponse {
    /// The JSON body Dapr expects.
    pub fn to_body(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_else(|_| b"{\"statuses\":[]}".to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_upper_case_on_the_wire() {
        assert_eq!(AppStatus::Drop.to_body(), br#"{"status":"DROP"}"#);
        assert_eq!(AppStatus::Success.to_body(), br#"{"status":"SUCCESS"}"#);
        let bulk = BulkResponse {
            statuses: vec![EntryStatus {
                entry_id: "e1".into(),
                status: AppStatus::Retry,
            }],
        };
        assert_eq!(
            bulk.to_body(),
            br#"{"statuses":[{"entryId":"e1","status":"RETRY"}]}"#
        );
    }

    #[test]
    fn retry_dominates_drop_dominates_success() {
        use AppStatus::*;
        assert_eq!(Success.worst(Drop), Drop);
        assert_eq!(Drop.worst(Retry), Retry);
        assert_eq!(Success.worst(Success), Success);
    }
}
