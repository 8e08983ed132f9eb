//! What Dapr POSTs to a subscription route (one CloudEvent, or a bulk
//! delivery, `bulkSubscribe`, of several), parsed; and the app's answer,
//! which decides what Dapr does next.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::rejection::RejectReason;

/// A CloudEvents 1.0 envelope as Dapr delivers it, with Dapr's extensions.
#[derive(Debug, Clone, PartialEq)]
pub struct CloudEvent {
    /// The CloudEvent id (not a business key: publishers may reuse or vary it).
    pub id: String,
    /// Who produced the event.
    pub source: String,
    /// The event type, e.g. `reminder.due`.
    pub event_type: String,
    /// Dapr's `topic` extension.
    pub topic: Option<String>,
    /// Dapr's `pubsubname` extension.
    pub pubsubname: Option<String>,
    /// The W3C trace context its handling continues: as parsed, the
    /// envelope's attribute; a delivery's answerer replaces it with the one
    /// [`crate::trace::continued`] picks, so handlers read the rule's choice.
    pub traceparent: Option<String>,
    /// The payload; a JSON string holding JSON is unwrapped once.
    pub data: Value,
    /// The envelope as received, kept for `rejected_events`.
    pub raw: String,
}

/// One part of a delivery that is answered on its own.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryEntry {
    /// `entryId` of a bulk entry; `None` for a single delivery.
    pub entry_id: Option<String>,
    /// The event, or why it can never be handled (with what is known of it).
    pub event: Result<CloudEvent, (RejectReason, Box<Partial>)>,
}

/// What could be read of an envelope that failed to parse, for the log line
/// and the `rejected_events` row.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Partial {
    /// The CloudEvent id, if one was readable.
    pub id: Option<String>,
    /// `source`, if readable.
    pub source: Option<String>,
    /// `type`, if readable.
    pub event_type: Option<String>,
    /// `topic`, if readable.
    pub topic: Option<String>,
    /// The raw text of what was received.
    pub raw: String,
}

/// Largest delivery body handled event by event: 1 MiB, 16 times the
/// 64 KiB kept of a rejected event and far above any reminder or
/// completion (about 1 KiB each, or 100 KiB for Dapr's default bulk of
/// 100). A larger body is dropped whole and kept once, truncated.
pub const MAX_DELIVERY_BYTES: usize = 1024 * 1024;

/// Most entries of one bulk delivery handled: 1,000 (Dapr's default
/// `maxMessagesCount` is 100). A larger bulk is dropped whole and kept once.
pub const MAX_BULK_ENTRIES: usize = 1000;

/// A whole request body: answered with `{"status"}` or `{"statuses": [...]}`.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryBody {
    /// A plain delivery of one event.
    Single(DeliveryEntry),
    /// A bulk delivery; each entry gets its own status.
    Bulk(Vec<DeliveryEntry>),
    /// Beyond [`MAX_DELIVERY_BYTES`] or [`MAX_BULK_ENTRIES`]: answered DROP
    /// at once (each entry of a bulk, by `entryId`), and kept once.
    Oversize {
        /// The `entryId`s of a bulk, `None` for a single delivery.
        entry_ids: Option<Vec<String>>,
        /// What could be read of it, the raw text cut to the kept size.
        partial: Box<Partial>,
    },
}

/// Reads a delivery body. Never fails: what cannot be parsed becomes an
/// entry carrying a [`RejectReason`], so the caller can DROP it and keep it.
pub fn parse_delivery(body: &[u8]) -> DeliveryBody {
    if body.len() > MAX_DELIVERY_BYTES || bulk_size(body) > MAX_BULK_ENTRIES {
        return oversize(body);
    }
    let text = String::from_utf8_lossy(body).into_owned();
    let value: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) => {
            return DeliveryBody::Single(DeliveryEntry {
                entry_id: None,
                event: Err((RejectReason::MalformedJson, Box::new(salvage(text)))),
            })
        }
    };
    match value {
        Value::Object(map) if is_bulk(&map) => DeliveryBody::Bulk(parse_bulk(map)),
        other => DeliveryBody::Single(DeliveryEntry {
            entry_id: None,
            event: parse_event(other, text),
        }),
    }
}

/// The top of an envelope or bulk body, read without building the rest.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct Head {
    id: Option<String>,
    source: Option<String>,
    #[serde(rename = "type")]
    event_type: Option<String>,
    topic: Option<String>,
    specversion: Option<serde::de::IgnoredAny>,
    entries: Option<Vec<EntryHead>>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct EntryHead {
    #[serde(rename = "entryId")]
    entry_id: Option<String>,
}

fn head(body: &[u8]) -> Option<Head> {
    serde_json::from_slice(body).ok()
}

/// Entries of a bulk body (0 for anything else); only looked at for bodies
/// that could hold more than [`MAX_BULK_ENTRIES`] entries.
fn bulk_size(body: &[u8]) -> usize {
    // An entry takes at least `{"entryId":"x"}`, 16 bytes.
    if body.len() < MAX_BULK_ENTRIES * 16 {
        return 0;
    }
    head(body)
        .filter(|h| h.specversion.is_none())
        .and_then(|h| h.entries)
        .map_or(0, |e| e.len())
}

fn oversize(body: &[u8]) -> DeliveryBody {
    let head = head(body).unwrap_or_default();
    let cut = body
        .get(..crate::rejection::MAX_KEPT_PAYLOAD)
        .unwrap_or(body);
    let partial = Partial {
        id: head.id.filter(|s| !s.is_empty()),
        source: head.source,
        event_type: head.event_type,
        topic: head.topic,
        raw: String::from_utf8_lossy(cut).into_owned(),
    };
    let entry_ids = match (head.specversion, head.entries) {
        (None, Some(entries)) => Some(
            entries
                .into_iter()
                .enumerate()
                .map(|(i, e)| e.entry_id.unwrap_or_else(|| i.to_string()))
                .collect(),
        ),
        _ => None,
    };
    DeliveryBody::Oversize {
        entry_ids,
        partial: Box::new(partial),
    }
}

fn is_bulk(map: &Map<String, Value>) -> bool {
    map.get("entries").is_some_and(Value::is_array) && !map.contains_key("specversion")
}

fn parse_bulk(mut map: Map<String, Value>) -> Vec<DeliveryEntry> {
    let topic = map.get("topic").and_then(Value::as_str).map(str::to_owned);
    let Some(Value::Array(entries)) = map.remove("entries") else {
        return Vec::new();
    };
    entries
        .into_iter()
        .enumerate()
        .map(|(i, entry)| {
            let entry_id = entry
                .get("entryId")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| i.to_string());
            let event = entry.get("event").cloned().unwrap_or(Value::Null);
            let raw = event.to_string();
            let mut parsed = parse_event(event, raw);
            if let Ok(ev) = &mut parsed {
                ev.topic = ev.topic.take().or_else(|| topic.clone());
            }
            DeliveryEntry {
                entry_id: Some(entry_id),
                event: parsed,
            }
        })
        .collect()
}

fn parse_event(value: Value, raw: String) -> Result<CloudEvent, (RejectReason, Box<Partial>)> {
    let Value::Object(mut map) = value else {
        return Err((RejectReason::NotACloudEvent, Box::new(Partial::raw(raw))));
    };
    let text = |map: &Map<String, Value>, key: &str| {
        map.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let partial = Partial {
        id: text(&map, "id"),
        source: text(&map, "source"),
        event_type: text(&map, "type"),
        topic: text(&map, "topic"),
        raw: raw.clone(),
    };
    let (Some(id), Some(event_type)) = (partial.id.clone(), partial.event_type.clone()) else {
        return Err((RejectReason::NotACloudEvent, Box::new(partial)));
    };
    let data = match map.remove("data") {
        Some(Value::String(s)) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
        Some(v) => v,
        None => Value::Null,
    };
    if holds_nul(&Value::Object(map.clone())) || holds_nul(&data) {
        return Err((RejectReason::UnstorableText, Box::new(partial)));
    }
    Ok(CloudEvent {
        id,
        source: partial.source.clone().unwrap_or_default(),
        event_type,
        topic: partial.topic,
        pubsubname: text(&map, "pubsubname"),
        traceparent: text(&map, "traceparent"),
        data,
        raw,
    })
}

/// True when a key or string anywhere in `value` holds U+0000, which no
/// PostgreSQL `text` column can store: such an event can never be handled.
fn holds_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)),
        _ => false,
    }
}

/// What can be read of a body serde refused: JSON whose only fault is a
/// lone UTF-16 surrogate escape (`"\ud800"`, legal JSON grammar that Rust
/// strings cannot hold) still names its CloudEvent id, source, type and
/// topic once each lone surrogate is read as U+FFFD.
fn salvage(raw: String) -> Partial {
    let repaired = replace_lone_surrogates(&raw);
    match serde_json::from_str::<Value>(&repaired) {
        Ok(value @ Value::Object(_)) => {
            let text = |key: &str| {
                value
                    .get(key)
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
            };
            Partial {
                id: text("id"),
                source: text("source"),
                event_type: text("type"),
                topic: text("topic"),
                raw,
            }
        }
        _ => Partial::raw(raw),
    }
}

/// `text` with every `\uXXXX` escape of an unpaired surrogate replaced by
/// `\ufffd`; escaped backslashes are skipped, so `\\ud800` is untouched.
fn replace_lone_surrogates(text: &str) -> String {
    let hex = |at: usize| {
        text.get(at..at + 4)
            .and_then(|h| u16::from_str_radix(h, 16).ok())
    };
    let is_high = |u: u16| (0xD800..0xDC00).contains(&u);
    let is_low = |u: u16| (0xDC00..0xE000).contains(&u);
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        if bytes.get(i) != Some(&b'\\') {
            i += 1;
            continue;
        }
        if bytes.get(i + 1) != Some(&b'u') {
            i += 2;
            continue;
        }
        let Some(unit) = hex(i + 2) else {
            i += 2;
            continue;
        };
        let paired = is_high(unit)
            && bytes.get(i + 6) == Some(&b'\\')
            && bytes.get(i + 7) == Some(&b'u')
            && hex(i + 8).is_some_and(is_low);
        if paired {
            i += 12;
        } else if is_high(unit) || is_low(unit) {
            out.push_str(&text[copied..i]);
            out.push_str("\\ufffd");
            i += 6;
            copied = i;
        } else {
            i += 6;
        }
    }
    out.push_str(&text[copied..]);
    out
}

impl Partial {
    fn raw(raw: String) -> Self {
        Partial {
            raw,
            ..Partial::default()
        }
    }
}

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
mod tests;
