//! Bulk request (`bulkSubscribe`): daprd POSTs
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

/// One bulk request and daprd's reading of it, per entry.
#[derive(Debug, Clone)]
pub struct BulkPost {
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

impl BulkPost {
    /// Asserts the app answered each of `entries` entries with an explicit
    /// `SUCCESS`, and nothing else.
    pub fn assert_all_success(&self, entries: usize) {
        assert_eq!(self.explicit.len(), entries, "{:?}", self.explicit);
        assert!(
            self.explicit.values().all(|s| s == "SUCCESS"),
            "{:?}",
            self.explicit
        );
    }
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
    ) -> anyhow::Result<BulkPost> {
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
                BulkPost {
                    route,
                    http_status: Some(status),
                    body: response_body,
                    transport_error: None,
                    statuses,
                    explicit,
                }
            }
            Err(e) => BulkPost {
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

/// A subscription's `bulkSubscribe`, read as daprd reads it
/// (`enabled`, `maxMessagesCount` default 100, `maxAwaitDurationMs`
/// default 1000).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkOptions {
    /// Most entries in one bulk.
    pub max_messages: usize,
    /// Longest wait for a bulk to fill.
    pub max_await_ms: u64,
}

impl DaprDriver {
    /// The bulk options of the subscription to `topic`, `None` when it does
    /// not ask for bulk requests (daprd then delivers one event per call).
    pub fn bulk_options(&self, topic: &str) -> anyhow::Result<Option<BulkOptions>> {
        let sub = self.subscription(topic, None)?;
        let Some(bulk) = &sub.bulk_subscribe else {
            return Ok(None);
        };
        if bulk["enabled"] != Value::Bool(true) {
            return Ok(None);
        }
        let number =
            |name: &str, default: u64| bulk.get(name).and_then(Value::as_u64).unwrap_or(default);
        Ok(Some(BulkOptions {
            max_messages: usize::try_from(number("maxMessagesCount", 100))
                .unwrap_or(100)
                .max(1),
            max_await_ms: number("maxAwaitDurationMs", 1000),
        }))
    }

    /// Delivers `datas` (all of `options`' type) as daprd would when they
    /// are waiting on the topic together: in bulks of the subscription's
    /// `maxMessagesCount` when it asks for bulk, else one by one;
    /// entries answered RETRY are delivered again (in the next bulk) until
    /// settled or `max_attempts`. Answers each event's final status, in
    /// order, and the number of requests made.
    pub async fn deliver_all(
        &self,
        topic: &str,
        datas: Vec<Value>,
        options: &DeliverOptions,
        max_attempts: usize,
    ) -> anyhow::Result<(Vec<AppStatus>, usize)> {
        let mut entries = Vec::with_capacity(datas.len());
        for data in datas {
            entries.push(self.bulk_entry(topic, data, options)?);
        }
        let mut settled: Vec<Option<AppStatus>> = vec![None; entries.len()];
        let mut requests = 0;
        let chunk = match self.bulk_options(topic)? {
            Some(bulk) => bulk.max_messages,
            None => 1,
        };
        for attempt in 1..=max_attempts.max(1) {
            let pending: Vec<usize> = (0..entries.len())
                .filter(|at| settled[*at].is_none())
                .collect();
            if pending.is_empty() {
                break;
            }
            for group in pending.chunks(chunk) {
                requests += 1;
                let statuses: Vec<AppStatus> = if chunk == 1 {
                    let entry = &entries[group[0]];
                    let route = self
                        .subscription(topic, None)?
                        .path_for(entry.event["type"].as_str().unwrap_or_default())?;
                    vec![self.deliver_envelope(&route, &entry.event).await.outcome]
                } else {
                    let bulk = self
                        .deliver_bulk(topic, group.iter().map(|at| entries[*at].clone()).collect())
                        .await?;
                    group
                        .iter()
                        .map(|at| {
                            bulk.statuses
                                .get(&entries[*at].entry_id)
                                .copied()
                                .unwrap_or(AppStatus::Retry)
                        })
                        .collect()
                };
                for (at, status) in group.iter().zip(statuses) {
                    if status != AppStatus::Retry || attempt == max_attempts.max(1) {
                        settled[*at] = Some(status);
                    }
                }
            }
        }
        Ok((
            settled
                .into_iter()
                .map(|s| s.unwrap_or(AppStatus::Retry))
                .collect(),
            requests,
        ))
    }
}
