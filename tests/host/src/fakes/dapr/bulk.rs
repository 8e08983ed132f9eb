//! Bulk delivery (`bulkSubscribe`): daprd POSTs
//! `{"entries": [{"entryId", "event", "contentType", "metadata"}], "id",
//! "metadata", "pubsubname", "topic", "type"}` and expects
//! `{"statuses": [{"entryId", "status"}]}`.
//!
//! Per the Dapr pub/sub API reference: on 2xx each entry's status decides
//! (an entry without a status counts as `RETRY`); on 404 all entries are
//! dropped; on any other status all are retried. Entries answered `DROP`
//! go to the dead-letter topic (daprd `postman/http` `DeliverBulk`).

use std::collections::BTreeMap;

use bytes::Bytes;
use http::StatusCode;
use serde_json::{json, Value};

use super::driver::{AppStatus, DaprDriver, DeadLetterReason, DeliverOptions};

/// One entry of a bulk message.
#[derive(Debug, Clone)]
pub struct BulkEntry {
    /// Id the app must answer the entry's status under.
    pub entry_id: String,
    /// The event: a CloudEvent envelope, or raw data.
    pub event: Value,
    /// `application/cloudevents+json` for envelopes.
    pub content_type: String,
    /// Entry metadata.
    pub metadata: BTreeMap<String, String>,
}

impl BulkEntry {
    /// An entry carrying a CloudEvent envelope.
    pub fn cloud_event(entry_id: impl Into<String>, envelope: Value) -> Self {
        Self {
            entry_id: entry_id.into(),
            event: envelope,
            content_type: "application/cloudevents+json".to_owned(),
            metadata: BTreeMap::new(),
        }
    }

    /// An entry with any event and content type (malformed inputs).
    pub fn raw(entry_id: impl Into<String>, event: Value, content_type: &str) -> Self {
        Self {
            entry_id: entry_id.into(),
            event,
            content_type: content_type.to_owned(),
            metadata: BTreeMap::new(),
        }
    }
}

/// One bulk delivery and daprd's reading of it, per entry.
#[derive(Debug, Clone)]
pub struct BulkDelivery {
    /// Path POSTed to.
    pub route: String,
    /// Status the app answered; `None` on a transport error.
    pub http_status: Option<StatusCode>,
    /// Answer body.
    pub body: Bytes,
    /// Why there was no answer.
    pub transport_error: Option<String>,
    /// daprd's reading, per entry id.
    pub statuses: BTreeMap<String, AppStatus>,
    /// The status strings the app sent, per entry id, exactly as sent.
    pub explicit: BTreeMap<String, String>,
}

/// daprd's reading of a bulk answer for the given entry ids.
pub fn interpret_bulk_response(
    status: StatusCode,
    body: &[u8],
    entry_ids: &[String],
) -> (BTreeMap<String, AppStatus>, BTreeMap<String, String>) {
    let all = |s: AppStatus| entry_ids.iter().map(|id| (id.clone(), s)).collect();
    if status == StatusCode::NOT_FOUND {
        return (all(AppStatus::Drop), BTreeMap::new());
    }
    if !status.is_success() {
        return (all(AppStatus::Retry), BTreeMap::new());
    }
    let mut explicit = BTreeMap::new();
    if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) {
        if let Some(Value::Array(statuses)) = map.get("statuses") {
            for entry in statuses {
                if let (Some(id), Some(s)) = (entry["entryId"].as_str(), entry["status"].as_str()) {
                    explicit.insert(id.to_owned(), s.to_owned());
                }
            }
        }
    }
    let statuses = entry_ids
        .iter()
        .map(|id| {
            let s = match explicit.get(id).map(String::as_str) {
                Some("SUCCESS") => AppStatus::Success,
                Some("DROP") => AppStatus::Drop,
                _ => AppStatus::Retry,
            };
            (id.clone(), s)
        })
        .collect();
    (statuses, explicit)
}

impl DaprDriver {
    /// A bulk entry wrapping `data` in the same envelope [`Self::deliver`]
    /// would send; its entry id is a new UUID.
    pub fn bulk_entry(
        &self,
        topic: &str,
        data: Value,
        options: &DeliverOptions,
    ) -> anyhow::Result<BulkEntry> {
        let (_, envelope) = self.envelope(topic, data, options)?;
        Ok(BulkEntry::cloud_event(
            uuid::Uuid::new_v4().to_string(),
            envelope,
        ))
    }

    /// POSTs one bulk message with `entries` to the route subscribed to `topic`.
    pub async fn deliver_bulk(
        &self,
        topic: &str,
        entries: Vec<BulkEntry>,
    ) -> anyhow::Result<BulkDelivery> {
        let sub = self.subscription(topic, None)?;
        let first_type = entries
            .first()
            .and_then(|e| e.event["type"].as_str())
            .unwrap_or(super::DEFAULT_EVENT_TYPE)
            .to_owned();
        let route = sub.path_for(&first_type)?;
        let entry_ids: Vec<String> = entries.iter().map(|e| e.entry_id.clone()).collect();
        let body = json!({
            "entries": entries.iter().map(|e| json!({
                "entryId": e.entry_id,
                "event": e.event,
                "contentType": e.content_type,
                "metadata": e.metadata,
            })).collect::<Vec<_>>(),
            "id": uuid::Uuid::new_v4().to_string(),
            "metadata": {},
            "pubsubname": sub.pubsubname,
            "topic": topic,
            "type": "com.dapr.event.sent.bulk",
        });
        let mut headers = self.token_header();
        headers.push(("content-type", "application/json"));
        let result = self
            .call("POST", &route, &headers, Bytes::from(body.to_string()))
            .await;
        Ok(match result {
            Ok((status, response_body)) => {
                let (statuses, explicit) =
                    interpret_bulk_response(status, &response_body, &entry_ids);
                // daprd forwards each entry the app answered DROP (on a 2xx)
                // to the dead-letter topic, if the subscription has one.
                if status.is_success() {
                    for entry in &entries {
                        if explicit.get(&entry.entry_id).map(String::as_str) == Some("DROP") {
                            self.dead_letter(topic, None, &entry.event, DeadLetterReason::Dropped)?;
                        }
                    }
                }
                BulkDelivery {
                    route,
                    http_status: Some(status),
                    body: response_body,
                    transport_error: None,
                    statuses,
                    explicit,
                }
            }
            Err(e) => BulkDelivery {
                route,
                http_status: None,
                body: Bytes::new(),
                transport_error: Some(format!("{e:#}")),
                statuses: entry_ids
                    .iter()
                    .map(|id| (id.clone(), AppStatus::Retry))
                    .collect(),
                explicit: BTreeMap::new(),
            },
        })
    }
}
