//! What can still be read of a body serde refused, so that a DROP is kept
//! with its CloudEvent id whenever the id can be read:
//!
//! - JSON whose only fault is a lone UTF-16 surrogate escape (`"\ud800"`,
//!   legal JSON grammar that Rust strings cannot hold) is read again with
//!   each lone surrogate as U+FFFD;
//! - JSON nested deeper than serde_json's recursion limit (128) is read
//!   again for its top-level attributes only: serde_json skips ignored
//!   values without recursing, so the id is read whatever the depth;
//! - a body in another Unicode encoding (UTF-16 or UTF-32, with or without
//!   byte order mark) is decoded for its id, and kept as base64 of the
//!   received bytes, so the original can be recovered from the row.

use base64ct::Encoding as _;
use serde_json::Value;

use super::Partial;
use super::MAX_KEPT_RAW;

/// serde_json's fixed recursion limit (a document nesting this many
/// arrays or objects is refused), named in the kept `detail`.
const NESTING_LIMIT: usize = 128;

/// What can be read of `raw`, which serde refused with `error`.
pub(super) fn salvage(raw: String, error: &serde_json::Error) -> Partial {
    let detail = error
        .to_string()
        .starts_with("recursion limit exceeded")
        .then(|| format!("JSON nests {NESTING_LIMIT} levels or deeper, past the parser's limit"));
    let repaired = replace_lone_surrogates(&raw);
    let head = head_of(&repaired);
    Partial {
        detail,
        raw,
        ..head
    }
}

/// The top-level `id`, `source`, `type` and `topic` of JSON text, read
/// without building (or recursing into) anything else.
fn head_of(text: &str) -> Partial {
    #[derive(serde::Deserialize, Default)]
    #[serde(default)]
    struct Head {
        id: Option<String>,
        source: Option<String>,
        #[serde(rename = "type")]
        event_type: Option<String>,
        topic: Option<String>,
    }
    let nonempty = |s: Option<String>| s.filter(|s| !s.is_empty());
    if let Ok(value @ Value::Object(_)) = serde_json::from_str::<Value>(text) {
        let text = |key: &str| nonempty(value.get(key).and_then(Value::as_str).map(str::to_owned));
        return Partial {
            id: text("id"),
            source: text("source"),
            event_type: text("type"),
            topic: text("topic"),
            ..Partial::default()
        };
    }
    // Too deep for a `Value`: the attributes alone, the rest skipped.
    match serde_json::from_str::<Head>(text) {
        Ok(h) => Partial {
            id: nonempty(h.id),
            source: nonempty(h.source),
            event_type: nonempty(h.event_type),
            topic: nonempty(h.topic),
            ..Partial::default()
        },
        Err(_) => Partial::default(),
    }
}

/// `text` with every `\uXXXX` escape of an unpaired surrogate replaced by
/// `\ufffd`; escaped backslashes are skipped, so `\\ud800` is untouched.
pub(super) fn replace_lone_surrogates(text: &str) -> String {
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
            out.push_str(text.get(copied..i).unwrap_or_default());
            out.push_str("\\ufffd");
            i += 6;
            copied = i;
        } else {
            i += 6;
        }
    }
    out.push_str(text.get(copied..).unwrap_or_default());
    out
}

/// A Unicode encoding other than UTF-8 that a JSON body can arrive in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForeignEncoding {
    /// UTF-16, little-endian.
    Utf16Le,
    /// UTF-16, big-endian.
    Utf16Be,
    /// UTF-32, little-endian.
    Utf32Le,
    /// UTF-32, big-endian.
    Utf32Be,
}

impl ForeignEncoding {
    /// The name written in the kept `detail`.
    pub fn name(self) -> &'static str {
        match self {
            ForeignEncoding::Utf16Le => "UTF-16LE",
            ForeignEncoding::Utf16Be => "UTF-16BE",
            ForeignEncoding::Utf32Le => "UTF-32LE",
            ForeignEncoding::Utf32Be => "UTF-32BE",
        }
    }

    fn unit(self) -> usize {
        match self {
            ForeignEncoding::Utf16Le | ForeignEncoding::Utf16Be => 2,
            ForeignEncoding::Utf32Le | ForeignEncoding::Utf32Be => 4,
        }
    }
}

/// The encoding of a body that is not UTF-8 JSON, and whether it starts
/// with a byte order mark: by the BOM, else by where the zero bytes of its
/// first (ASCII) characters fall (RFC 4627, section 3). A UTF-8 body
/// never matches: JSON text cannot start with a zero byte or with
/// `FE`/`FF`, and its first two characters are not NUL.
pub fn detect_encoding(body: &[u8]) -> Option<(ForeignEncoding, bool)> {
    use ForeignEncoding::*;
    match body {
        [0, 0, 0xFE, 0xFF, ..] => Some((Utf32Be, true)),
        [0xFF, 0xFE, 0, 0, ..] => Some((Utf32Le, true)),
        [0xFE, 0xFF, ..] => Some((Utf16Be, true)),
        [0xFF, 0xFE, ..] => Some((Utf16Le, true)),
        [0, 0, 0, x, ..] if *x != 0 => Some((Utf32Be, false)),
        [x, 0, 0, 0, ..] if *x != 0 => Some((Utf32Le, false)),
        [0, x, 0, y, ..] if *x != 0 && *y != 0 => Some((Utf16Be, false)),
        [x, 0, y, 0, ..] if *x != 0 && *y != 0 => Some((Utf16Le, false)),
        _ => None,
    }
}

/// Most received bytes kept as base64: 48 KiB, whose base64 is exactly
/// the 64 KiB kept of a rejected payload, so the kept text is never cut
/// in the middle (and always decodes).
pub const MAX_KEPT_FOREIGN_BYTES: usize = MAX_KEPT_RAW / 4 * 3;

/// The partial of a body in `encoding`: its id, source, type and topic
/// read from the decoded text, the payload kept as base64 of the received
/// bytes (the first [`MAX_KEPT_FOREIGN_BYTES`]), and a detail saying so.
pub(super) fn foreign(body: &[u8], encoding: ForeignEncoding, bom: bool) -> Partial {
    let text = decode(body, encoding, bom);
    let head = head_of(&replace_lone_surrogates(&text));
    let kept = body.get(..MAX_KEPT_FOREIGN_BYTES).unwrap_or(body);
    let mut detail = format!(
        "body is {} ({} byte order mark), not UTF-8; payload is base64 of the received bytes",
        encoding.name(),
        if bom { "with" } else { "without" },
    );
    if kept.len() < body.len() {
        detail.push_str(&format!(" (first {} of {})", kept.len(), body.len()));
    }
    Partial {
        detail: Some(detail),
        raw: base64ct::Base64::encode_string(kept),
        ..head
    }
}

/// `body` decoded from `encoding` (after its BOM), every invalid unit read
/// as U+FFFD.
fn decode(body: &[u8], encoding: ForeignEncoding, bom: bool) -> String {
    let unit = encoding.unit();
    let body = if bom {
        body.get(unit..).unwrap_or_default()
    } else {
        body
    };
    let chunks = body.chunks_exact(unit);
    match encoding {
        ForeignEncoding::Utf16Le | ForeignEncoding::Utf16Be => {
            let units = chunks.map(|c| {
                let pair = [
                    c.first().copied().unwrap_or(0),
                    c.get(1).copied().unwrap_or(0),
                ];
                if encoding == ForeignEncoding::Utf16Le {
                    u16::from_le_bytes(pair)
                } else {
                    u16::from_be_bytes(pair)
                }
            });
            char::decode_utf16(units)
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect()
        }
        ForeignEncoding::Utf32Le | ForeignEncoding::Utf32Be => chunks
            .map(|c| {
                let quad = <[u8; 4]>::try_from(c).unwrap_or_default();
                let code = if encoding == ForeignEncoding::Utf32Le {
                    u32::from_le_bytes(quad)
                } else {
                    u32::from_be_bytes(quad)
                };
                char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER)
            })
            .collect(),
    }
}
