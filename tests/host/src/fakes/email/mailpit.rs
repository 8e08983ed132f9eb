//! Mailpit `POST /api/v1/send` (axllent/mailpit `server/apiv1/send.go`): JSON
//! `{From: {Email, Name}, To: [{Email, Name}], Cc, Bcc: [string], ReplyTo,
//! Subject, Text, HTML, Headers, Tags}` decoded by Go's `encoding/json` (so
//! key names match case-insensitively and unknown keys are ignored);
//! 200 `{"ID": "..."}`; every error is a 400 `{"Error": "..."}`. No
//! authentication by default.

use serde_json::{json, Map, Value};

use super::{Email, Provider, State};
use crate::fakes::server::{CannedResponse, RecordedRequest};

const RESTRICTED_HEADERS: [&str; 9] = [
    "To",
    "From",
    "Cc",
    "Bcc",
    "Reply-To",
    "Date",
    "Subject",
    "Content-Type",
    "Mime-Version",
];

/// Mailpit's error answer.
pub(super) fn error(message: &str) -> CannedResponse {
    CannedResponse::json(400, &json!({ "Error": message }))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_error(v: &Value, field: &str, go_type: &str) -> String {
    format!(
        "json: cannot unmarshal {} into Go struct field .{field} of type {go_type}",
        kind(v)
    )
}

/// Go's case-insensitive field lookup: exact name first, then any case.
fn field<'a>(obj: &'a Map<String, Value>, name: &str) -> &'a Value {
    obj.get(name)
        .or_else(|| {
            obj.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })
        .unwrap_or(&Value::Null)
}

fn string(obj: &Map<String, Value>, name: &str, path: &str) -> Result<String, String> {
    match field(obj, name) {
        Value::Null => Ok(String::new()),
        Value::String(s) => Ok(s.clone()),
        other => Err(type_error(other, path, "string")),
    }
}

#[derive(Debug, Default)]
struct Mailbox {
    email: String,
    name: String,
}

fn mailbox(v: &Value, path: &str) -> Result<Mailbox, String> {
    match v {
        Value::Null => Ok(Mailbox::default()),
        Value::Object(obj) => Ok(Mailbox {
            email: string(obj, "Email", &format!("{path}.Email"))?,
            name: string(obj, "Name", &format!("{path}.Name"))?,
        }),
        other => Err(type_error(other, path, "struct")),
    }
}

fn list<T>(
    v: &Value,
    path: &str,
    go_type: &str,
    each: impl Fn(&Value) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items.iter().map(each).collect(),
        other => Err(type_error(other, path, go_type)),
    }
}

/// Go's `net/mail.ParseAddress`, reduced: `addr` or `Name <addr>`, where
/// `addr` is `local@domain` without spaces.
fn parses_as_address(value: &str) -> bool {
    let value = value.trim();
    let addr = match value.rfind('<') {
        Some(open) => match value[open + 1..].strip_suffix('>') {
            Some(a) => a,
            None => return false,
        },
        None => value,
    };
    match addr.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !addr
                    .chars()
                    .any(|c| c.is_whitespace() || c == '<' || c == '>')
        }
        None => false,
    }
}

pub(super) fn handle(state: &mut State, req: &RecordedRequest) -> CannedResponse {
    let body: Value = match serde_json::from_slice(&req.body) {
        Ok(v) => v,
        Err(e) => return error(&e.to_string()),
    };
    match build(&body) {
        Ok(email) => {
            let id = message_id();
            state.emails.push(Email {
                message_id: id.clone(),
                traceparent: req.header("traceparent").map(str::to_owned),
                request: body,
                ..email
            });
            // json.Encoder ends the document with a newline.
            CannedResponse::json(200, &json!({ "ID": id }))
                .with_body(format!("{}\n", json!({ "ID": id })))
        }
        Err(message) => error(&message),
    }
}

fn build(body: &Value) -> Result<Email, String> {
    let obj = match body {
        Value::Object(obj) => obj,
        Value::Null => &Map::new(),
        other => return Err(type_error(other, "", "struct")),
    };
    let from = mailbox(field(obj, "From"), "From")?;
    let to = list(field(obj, "To"), "To", "[]struct", |v| mailbox(v, "To"))?;
    let cc = list(field(obj, "Cc"), "Cc", "[]struct", |v| mailbox(v, "Cc"))?;
    let bcc = list(field(obj, "Bcc"), "Bcc", "[]string", |v| match v {
        Value::String(s) => Ok(s.clone()),
        other => Err(type_error(other, "Bcc", "string")),
    })?;
    let reply_to = list(field(obj, "ReplyTo"), "ReplyTo", "[]struct", |v| {
        mailbox(v, "ReplyTo")
    })?;
    let subject = string(obj, "Subject", "Subject")?;
    let text = string(obj, "Text", "Text")?;
    let html = string(obj, "HTML", "HTML")?;
    let headers = match field(obj, "Headers") {
        Value::Null => Map::new(),
        Value::Object(h) => h.clone(),
        other => return Err(type_error(other, "Headers", "map[string]string")),
    };

    for a in &to {
        if !parses_as_address(&a.email) {
            return Err(format!("invalid To address: {}", a.email));
        }
    }
    for a in &cc {
        if !parses_as_address(&a.email) {
            return Err(format!("invalid Cc address: {}", a.email));
        }
    }
    for a in &bcc {
        if !parses_as_address(a) {
            return Err(format!("invalid Bcc address: {a}"));
        }
    }
    for a in &reply_to {
        if !parses_as_address(&a.email) {
            return Err(format!("invalid Reply-To address: {}", a.email));
        }
    }
    for (name, value) in &headers {
        if !value.is_string() {
            return Err(type_error(value, "Headers", "string"));
        }
        if RESTRICTED_HEADERS.contains(&name.as_str()) {
            return Err(format!("cannot overwrite header: \"{name}\""));
        }
    }
    // enmime's MailBuilder.Build validations, in its order.
    if from.email.is_empty() {
        return Err("error building message: from not set".to_owned());
    }
    if subject.is_empty() {
        return Err("error building message: subject not set".to_owned());
    }
    if to.len() + cc.len() + bcc.len() == 0 {
        return Err("error building message: no recipients (to, cc, bcc) set".to_owned());
    }
    Ok(Email {
        provider: Provider::Mailpit,
        message_id: String::new(),
        from: from.email,
        from_name: (!from.name.is_empty()).then_some(from.name),
        to: to.into_iter().map(|a| a.email).collect(),
        subject,
        text: (!text.is_empty()).then_some(text),
        html: (!html.is_empty()).then_some(html),
        idempotency_key: None,
        traceparent: None,
        request: Value::Null,
    })
}

/// Mailpit ids are 22 alphanumeric characters.
fn message_id() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut n = uuid::Uuid::new_v4().as_u128();
    let mut out = Vec::with_capacity(22);
    for _ in 0..22 {
        out.push(ALPHABET[(n % 62) as usize]);
        n /= 62;
    }
    String::from_utf8(out).expect("ASCII alphabet")
}
