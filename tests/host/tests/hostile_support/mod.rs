//! A seeded, reproducible generator of malformed Dapr requests for both
//! event routes: every envelope attribute and every payload field replaced
//! by a value of the wrong type, empty, huge, with control characters, NUL,
//! invalid UTF-8 or a lone surrogate escape, deeply nested, or a timestamp
//! at or past a range edge; raw bodies that are not JSON; odd content types.
//!
//! Values that `serde_json::Value` cannot hold (a lone surrogate, invalid
//! UTF-8, 10,000 levels of nesting) are spliced into the JSON text as raw
//! bytes in place of a placeholder string.
#![allow(dead_code)] // each test file uses a different part

use serde_json::{json, Value};

/// A small deterministic PRNG (xorshift64*): the same seed, the same cases.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Which route a case goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Reminders,
    TaskEvents,
}

impl Route {
    pub fn path(self) -> &'static str {
        match self {
            Route::Reminders => "/events/reminders",
            Route::TaskEvents => "/events/task-events",
        }
    }
    pub fn topic(self) -> &'static str {
        match self {
            Route::Reminders => "reminders",
            Route::TaskEvents => "task-events",
        }
    }
    fn event_type(self) -> &'static str {
        match self {
            Route::Reminders => "reminder.due",
            Route::TaskEvents => "task.completed",
        }
    }
    fn payload_fields(self) -> &'static [&'static str] {
        match self {
            Route::Reminders => &[
                "task_id",
                "user_id",
                "title",
                "due_at",
                "remind_at",
                "channels",
            ],
            Route::TaskEvents => &["task_id", "user_id", "completed_at", "has_recurrence"],
        }
    }
}

/// One malformed delivery.
#[derive(Debug, Clone)]
pub struct Case {
    pub route: Route,
    /// Input class, for the summary (e.g. `payload.remind_at:nul`).
    pub class: String,
    pub body: Vec<u8>,
    pub content_type: String,
}

/// Replacement values, as raw JSON text.
const HOSTILE: &[(&str, &str)] = &[
    ("null", "null"),
    ("number", "42"),
    ("float", "-1.5e300"),
    ("huge_number", "1e999999"),
    ("bool", "true"),
    ("array", "[1,\"a\",null]"),
    ("object", "{\"a\":{\"b\":[]}}"),
    ("empty", "\"\""),
    ("space", "\" \""),
    ("nul", "\"a\\u0000b\""),
    ("only_nul", "\"\\u0000\""),
    ("control", "\"\\u0001\\u001f\\u007f\""),
    ("crlf", "\"x\\r\\ny: z\""),
    ("lone_surrogate", "\"\\ud800\""),
    ("reversed_surrogates", "\"\\udc00\\ud800\""),
    ("emoji", "\"\\ud83d\\ude00 \u{1F600}\""),
    ("bidi", "\"\u{202E}abc\""),
    ("sql", "\"'; DROP TABLE tasks; --\""),
    ("html", "\"<script>alert(1)</script>\""),
    ("path", "\"../../etc/passwd\""),
];

/// Timestamps at and past every range edge (PostgreSQL: 4713 BC to 294276
/// AD; RFC 3339: four-digit years, offsets within ±23:59).
const TIMESTAMPS: &[&str] = &[
    "0000-01-01T00:00:00Z",
    "0001-01-01T00:00:00+23:59",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59-23:59",
    "10000-01-01T00:00:00Z",
    "-0001-01-01T00:00:00Z",
    "1970-01-01T00:00:00Z",
    "1969-12-31T23:59:59.999999999Z",
    "2026-02-30T00:00:00Z",
    "2026-12-01T24:00:00Z",
    "2016-12-31T23:59:60Z",
    "2026-12-01T08:30:00",
    "2026-12-01T08:30:00+24:00",
    "2026-12-01T08:30:00+0100",
    "2026-12-01 08:30:00Z",
    "2026-12-01t08:30:00z",
    "2026-12-01T08:30:00.1234567891234Z",
    "2026-12-01",
    "tomorrow",
];

const CONTENT_TYPES: &[&str] = &[
    "text/plain",
    "application/octet-stream",
    "",
    "application/json; charset=latin1",
    "multipart/form-data; boundary=x",
    "application/cloudevents-batch+json",
    "application/xml",
];

/// Raw bodies that are not a JSON object.
fn raw_bodies() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("empty_body", Vec::new()),
        ("null_body", b"null".to_vec()),
        ("array_body", b"[]".to_vec()),
        ("string_body", b"\"event\"".to_vec()),
        ("truncated", b"{\"id\":\"x\",\"data\":{".to_vec()),
        (
            "invalid_utf8",
            b"{\"id\":\"\xff\xfe\",\"type\":\"x\"}".to_vec(),
        ),
        ("bom", b"\xef\xbb\xbf{}".to_vec()),
        ("nested_10000", nested(10_000)),
        ("trailing_garbage", b"{}{}".to_vec()),
        ("nul_byte", b"{\"id\":\"a\0b\"}".to_vec()),
    ]
}

fn nested(depth: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(depth * 2 + 16);
    v.extend_from_slice(b"{\"id\":\"deep\",\"data\":");
    v.extend(std::iter::repeat_n(b'[', depth));
    v.extend(std::iter::repeat_n(b']', depth));
    v.push(b'}');
    v
}

/// A valid payload for the route (the base every mutation starts from).
pub fn valid_payload(route: Route, n: u64) -> Value {
    match route {
        Route::Reminders => json!({
            "task_id": uuid_for(n),
            "user_id": "u-hostile",
            "title": "Pay rent",
            "due_at": "2026-12-01T09:00:00Z",
            "remind_at": "2026-12-01T08:30:00Z",
            "channels": ["email"],
        }),
        Route::TaskEvents => json!({
            "task_id": uuid_for(n),
            "user_id": "u-hostile",
            "completed_at": "2026-12-01T10:00:00Z",
            "has_recurrence": true,
        }),
    }
}

/// A UUID that names no task (the generator's cases never hit real rows).
pub fn uuid_for(n: u64) -> String {
    format!("00000000-0000-4000-8000-{n:012x}")
}

/// A valid envelope for the route, with id `id`.
pub fn envelope(route: Route, id: &str, data: Value) -> Value {
    json!({
        "id": id,
        "source": "hostile-generator",
        "type": route.event_type(),
        "specversion": "1.0",
        "datacontenttype": "application/json",
        "data": data,
        "topic": route.topic(),
        "pubsubname": "kafka-pubsub",
        "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    })
}

const PLACEHOLDER: &str = "\u{1}HOSTILE\u{1}";

/// `value` with `field` set to the raw JSON text `raw` (spliced as bytes).
fn splice(mut value: Value, path: &[&str], raw: &[u8]) -> Vec<u8> {
    let mut target = &mut value;
    for (i, key) in path.iter().enumerate() {
        if i + 1 == path.len() {
            target[*key] = Value::String(PLACEHOLDER.to_owned());
        } else {
            target = &mut target[*key];
        }
    }
    let text = value.to_string();
    let quoted = serde_json::to_string(PLACEHOLDER).expect("placeholder");
    let at = text.find(&quoted).expect("placeholder in text");
    let mut out = text.as_bytes()[..at].to_vec();
    out.extend_from_slice(raw);
    out.extend_from_slice(&text.as_bytes()[at + quoted.len()..]);
    out
}

const ENVELOPE_FIELDS: &[&str] = &[
    "id",
    "source",
    "type",
    "specversion",
    "datacontenttype",
    "topic",
    "pubsubname",
    "traceparent",
    "data",
];

/// Generates `count` cases from `seed`; every class is produced in turn,
/// the field, value and route chosen by the PRNG.
pub fn generate(seed: u64, count: usize) -> Vec<Case> {
    let mut rng = Rng::new(seed);
    let raws = raw_bodies();
    let huge = format!("\"{}\"", "x".repeat(100_000));
    let mut cases = Vec::with_capacity(count);
    for n in 0..count as u64 {
        let route = if rng.below(2) == 0 {
            Route::Reminders
        } else {
            Route::TaskEvents
        };
        let id = format!("hostile-{seed}-{n}");
        let base = envelope(route, &id, valid_payload(route, n));
        let mut content_type = "application/cloudevents+json".to_owned();
        let (class, body) = match n % 6 {
            0 | 1 => {
                let field = *rng.pick(ENVELOPE_FIELDS);
                let (name, raw) = pick_value(&mut rng, &huge);
                (
                    format!("envelope.{field}:{name}"),
                    splice(base, &[field], raw.as_bytes()),
                )
            }
            2 | 3 => {
                let field = *rng.pick(route.payload_fields());
                let (name, raw) = pick_value(&mut rng, &huge);
                (
                    format!("payload.{field}:{name}"),
                    splice(base, &["data", field], raw.as_bytes()),
                )
            }
            4 => {
                let field = *rng.pick(match route {
                    Route::Reminders => &["due_at", "remind_at"][..],
                    Route::TaskEvents => &["completed_at"][..],
                });
                let ts = *rng.pick(TIMESTAMPS);
                let raw = serde_json::to_string(ts).expect("string");
                (
                    format!("payload.{field}:timestamp {ts}"),
                    splice(base, &["data", field], raw.as_bytes()),
                )
            }
            _ => match rng.below(3) {
                0 => {
                    let (name, body) = rng.pick(&raws).clone();
                    (format!("raw:{name}"), body)
                }
                1 => {
                    content_type = (*rng.pick(CONTENT_TYPES)).to_owned();
                    (
                        format!("content_type:{content_type:?}"),
                        base.to_string().into_bytes(),
                    )
                }
                _ => {
                    let missing = *rng.pick(route.payload_fields());
                    let mut v = base;
                    if let Some(data) = v["data"].as_object_mut() {
                        data.remove(missing);
                    }
                    (
                        format!("payload.{missing}:missing"),
                        v.to_string().into_bytes(),
                    )
                }
            },
        };
        cases.push(Case {
            route,
            class,
            body,
            content_type,
        });
    }
    cases
}

fn pick_value(rng: &mut Rng, huge: &str) -> (String, String) {
    if rng.below(10) == 0 {
        return ("huge_100k".to_owned(), huge.to_owned());
    }
    let (name, raw) = *rng.pick(HOSTILE);
    (name.to_owned(), raw.to_owned())
}
