//! What Dapr POSTs to a subscription route (one CloudEvent, or a bulk
//! request, `bulkSubscribe`, of several), parsed; and the app's answer,
//! which decides what Dapr does next.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

mod salvage;

#[cfg(test)]
use salvage::replace_lone_surrogates;
use salvage::{detect_encoding, foreign, salvage};

/// Why an entry of an inbound request is not a CloudEvent this crate can
/// hand over: the protocol's own faults. What the product calls them (its
/// reason codes) is the product's business (`todo_contract::RejectReason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The body or the bulk entry is not JSON (or is JSON nested deeper
    /// than the parser reads, or text in another Unicode encoding).
    MalformedJson,
    /// JSON, but not a CloudEvent (no `id` or `type`).
    NotACloudEvent,
}

/// The most of an unreadable envelope's text a [`Partial`] carries: the
/// 64 KiB `rejected_events` keeps (docs/CONTRACT.md), so what is kept is
/// never cut twice.
pub const MAX_KEPT_RAW: usize = 64 * 1024;

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
    /// envelope's attribute; the request's answerer replaces it with the one
    /// [`crate::trace::continued`] picks, so handlers read the rule's choice.
    pub traceparent: Option<String>,
    /// The payload; a JSON string holding JSON is unwrapped once.
    pub data: Value,
    /// The envelope as received, kept for `rejected_events`.
    pub raw: String,
}

/// One part of a request that is answered on its own.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundEntry {
    /// `entryId` of a bulk entry; `None` for a single request.
    pub entry_id: Option<String>,
    /// The event, or why it can never be handled (with what is known of it).
    pub event: Result<CloudEvent, (Fault, Box<Partial>)>,
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
    /// The raw text of what was received (for a body in another Unicode
    /// encoding, base64 of its bytes: see `detail`).
    pub raw: String,
    /// What an operator needs to read the kept row, when the reason code
    /// alone does not say it (too deep, another encoding).
    pub detail: Option<String>,
}

/// Largest request body handled event by event: 1 MiB, 16 times the
/// 64 KiB kept of a rejected event and far above any reminder or
/// completion (about 1 KiB each, or 100 KiB for Dapr's default bulk of
/// 100). A larger body is dropped whole and kept once, truncated.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Most entries of one bulk request handled: 1,000 (Dapr's default
/// `maxMessagesCount` is 100). A larger bulk is dropped whole and kept once.
pub const MAX_BULK_ENTRIES: usize = 1000;

/// A whole request body: answered with `{"status"}` or `{"statuses": [...]}`.
#[derive(Debug, Clone, PartialEq)]
pub enum InboundBody {
    /// A plain request of one event.
    Single(InboundEntry),
    /// A bulk request; each entry gets its own status.
    Bulk(Vec<InboundEntry>),
    /// Beyond [`MAX_BODY_BYTES`] or [`MAX_BULK_ENTRIES`]: answered DROP
    /// at once (each entry of a bulk, by `entryId`), and kept once.
    Oversize {
        /// The `entryId`s of a bulk, `None` for a single request.
        entry_ids: Option<Vec<String>>,
        /// What could be read of it, the raw text cut to the kept size.
        partial: Box<Partial>,
    },
}

/// Reads a request body. Never fails: what cannot be parsed becomes an
/// entry carrying a [`Fault`], so the caller can DROP it and keep it.
pub fn parse_inbound(body: &[u8]) -> InboundBody {
    if body.len() > MAX_BODY_BYTES || bulk_size(body) > MAX_BULK_ENTRIES {
        return oversize(body);
    }
    let value: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(error) => return refused(body, &error),
    };
    let text = String::from_utf8_lossy(body).into_owned();
    match value {
        Value::Object(map) if is_bulk(&map) => InboundBody::Bulk(parse_bulk(map)),
        other => InboundBody::Single(InboundEntry {
            entry_id: None,
            event: parse_event(other, text),
        }),
    }
}

/// A body serde refused: another Unicode encoding, a bulk whose entries
/// can be read one by one (one too deep or holding a lone surrogate is
/// dropped alone), or one malformed event with what [`salvage()`] reads.
fn refused(body: &[u8], error: &serde_json::Error) -> InboundBody {
    let malformed = |partial: Partial| InboundEntry {
        entry_id: None,
        event: Err((Fault::MalformedJson, Box::new(partial))),
    };
    if let Some((encoding, bom)) = detect_encoding(body) {
        return InboundBody::Single(malformed(foreign(body, encoding, bom)));
    }
    if let Some(entries) = raw_bulk(body) {
        return InboundBody::Bulk(entries);
    }
    let text = String::from_utf8_lossy(body).into_owned();
    InboundBody::Single(malformed(salvage(text, error)))
}

/// A bulk body whose entries are held as their raw text, so one that
/// cannot be parsed does not take the others with it (serde_json skips a
/// raw value without recursing, whatever its depth).
#[derive(serde::Deserialize)]
struct RawBulk<'a> {
    #[serde(borrow)]
    entries: Vec<RawEntry<'a>>,
    #[serde(borrow, default)]
    topic: Option<&'a serde_json::value::RawValue>,
    #[serde(default)]
    specversion: Option<serde::de::IgnoredAny>,
}

#[derive(serde::Deserialize)]
struct RawEntry<'a> {
    #[serde(rename = "entryId", default)]
    entry_id: Option<String>,
    #[serde(borrow, default)]
    event: Option<&'a serde_json::value::RawValue>,
}

fn raw_bulk(body: &[u8]) -> Option<Vec<InboundEntry>> {
    let bulk: RawBulk = serde_json::from_slice(body).ok()?;
    if bulk.specversion.is_some() {
        return None;
    }
    let topic: Option<String> = bulk.topic.and_then(|t| serde_json::from_str(t.get()).ok());
    let entries = bulk
        .entries
        .into_iter()
        .enumerate()
        .map(|(i, entry)| {
            let raw = entry.event.map_or("null", |e| e.get());
            let mut event = match serde_json::from_str::<Value>(raw) {
                Ok(value) => parse_event(value, raw.to_owned()),
                Err(error) => Err((
                    Fault::MalformedJson,
                    Box::new(salvage(raw.to_owned(), &error)),
                )),
            };
            if let Ok(ev) = &mut event {
                ev.topic = ev.topic.take().or_else(|| topic.clone());
            }
            InboundEntry {
                entry_id: Some(entry.entry_id.unwrap_or_else(|| i.to_string())),
                event,
            }
        })
        .collect();
    Some(entries)
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

fn oversize(body: &[u8]) -> InboundBody {
    let head = head(body).unwrap_or_default();
    let cut = body.get(..MAX_KEPT_RAW).unwrap_or(body);
    let partial = Partial {
        id: head.id.filter(|s| !s.is_empty()),
        source: head.source,
        event_type: head.event_type,
        topic: head.topic,
        raw: String::from_utf8_lossy(cut).into_owned(),
        detail: None,
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
    InboundBody::Oversize {
        entry_ids,
        partial: Box::new(partial),
    }
}

fn is_bulk(map: &Map<String, Value>) -> bool {
    map.get("entries").is_some_and(Value::is_array) && !map.contains_key("specversion")
}

fn parse_bulk(mut map: Map<String, Value>) -> Vec<InboundEntry> {
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
            InboundEntry {
                entry_id: Some(entry_id),
                event: parsed,
            }
        })
        .collect()
}

fn parse_event(value: Value, raw: String) -> Result<CloudEvent, (Fault, Box<Partial>)> {
    let Value::Object(mut map) = value else {
        return Err((Fault::NotACloudEvent, Box::new(Partial::raw(raw))));
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
        detail: None,
    };
    let (Some(id), Some(event_type)) = (partial.id.clone(), partial.event_type.clone()) else {
        return Err((Fault::NotACloudEvent, Box::new(partial)));
    };
    let data = match map.remove("data") {
        Some(Value::String(s)) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
        Some(v) => v,
        None => Value::Null,
    };
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

impl CloudEvent {
    /// The part of the event its handler would store that holds U+0000,
    /// which no PostgreSQL `text` column can store: its `id`, its `source`
    /// or its `data`. Such an event of the handled type can never be
    /// handled (it is dropped, and kept escaped). The attributes no
    /// handler uses (`traceparent`, `time`, extensions, and the `type` of
    /// an event that is only acknowledged) are not looked at, so junk in
    /// them never turns a good or ignorable event into a DROP.
    pub fn unstorable(&self) -> Option<&'static str> {
        if self.id.contains('\0') {
            Some("id")
        } else if self.source.contains('\0') {
            Some("source")
        } else if holds_nul(&self.data) {
            Some("data")
        } else {
            None
        }
    }
}

/// True when a key or string anywhere in `value` holds U+0000.
fn holds_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)),
        _ => false,
    }
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

/// One entry's answer within a bulk request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryStatus {
    /// The `entryId` Dapr gave the entry.
    #[serde(rename = "entryId")]
    pub entry_id: String,
    /// What Dapr should do with that entry.
    pub status: AppStatus,
}

/// The answer to a bulk request: one status per entry.
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
