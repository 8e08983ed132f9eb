//! SendGrid v3 `POST /v3/mail/send`: `Authorization: Bearer <key>`, JSON
//! `{personalizations: [{to: [{email, name?}], subject?}], from: {email, name?},
//! subject, content: [{type, value}]}`; 202 with no body and an `X-Message-Id`
//! header. Every validation error is a 400 with
//! `{"errors": [{"message", "field", "help"}]}` listing all problems found
//! (twilio.com/docs/sendgrid/api-reference/mail-send/errors); authentication
//! failures are 401 with the same shape.

use serde_json::{json, Value};

use super::{is_plain_address, Email, Provider, State};
use crate::fakes::server::{CannedResponse, RecordedRequest};

const HELP: &str = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html";

/// One entry of SendGrid's `errors` array.
pub(super) fn error(message: &str, field: Option<&str>, anchor: Option<&str>) -> Value {
    json!({
        "message": message,
        "field": field,
        "help": anchor.map(|a| format!("{HELP}#{a}")),
    })
}

/// A SendGrid error answer.
pub(super) fn errors(status: u16, list: &[Value]) -> CannedResponse {
    CannedResponse::json(status, &json!({ "errors": list }))
}

pub(super) fn handle(api_key: &str, state: &mut State, req: &RecordedRequest) -> CannedResponse {
    if req.header("authorization").is_none() {
        return errors(401, &[error("authorization required", None, None)]);
    }
    if req.bearer_token() != Some(api_key) {
        return errors(
            401,
            &[error(
                "The provided authorization grant is invalid, expired, or revoked",
                None,
                None,
            )],
        );
    }
    let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
        return errors(400, &[error("Bad Request", None, None)]);
    };
    let email = match validate(&body) {
        Ok(email) => email,
        Err(list) => return errors(400, &list),
    };
    let id = message_id();
    state.emails.push(Email {
        message_id: id.clone(),
        traceparent: req.header("traceparent").map(str::to_owned),
        request: body,
        ..email
    });
    CannedResponse::empty(202).with_header("x-message-id", &id)
}

/// SendGrid message ids look like `W86EgYT6SQKk0lRflfLRsA` (22 characters).
fn message_id() -> String {
    use base64ct::Encoding as _;
    let raw = uuid::Uuid::new_v4();
    base64ct::Base64UrlUnpadded::encode_string(raw.as_bytes())
}

fn validate(body: &Value) -> Result<Email, Vec<Value>> {
    let mut problems = Vec::new();
    let mut to = Vec::new();
    let mut personal_subjects = Vec::new();
    match body["personalizations"].as_array() {
        Some(list) if !list.is_empty() => {
            for (i, p) in list.iter().enumerate() {
                personal_subjects.push(
                    p["subject"]
                        .as_str()
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned),
                );
                match p["to"].as_array() {
                    Some(tos) if !tos.is_empty() => {
                        for (j, t) in tos.iter().enumerate() {
                            match t["email"].as_str() {
                                Some(addr) if is_plain_address(addr) => to.push(addr.to_owned()),
                                _ => problems.push(error(
                                    "Does not contain a valid address.",
                                    Some(&format!("personalizations.{i}.to.{j}.email")),
                                    Some("message.personalizations.to"),
                                )),
                            }
                        }
                    }
                    _ => problems.push(error(
                        "The to array is required for all personalization objects, and must have at least one email object with a valid email address.",
                        Some(&format!("personalizations.{i}.to")),
                        Some("message.personalizations.to"),
                    )),
                }
            }
        }
        _ => problems.push(error(
            "The personalizations field is required and must have at least 1 item.",
            Some("personalizations"),
            Some("message.personalizations"),
        )),
    }
    let from = match body["from"]["email"].as_str() {
        Some(addr) if is_plain_address(addr) => Some(addr.to_owned()),
        Some(_) => {
            problems.push(error(
                "The from email does not contain a valid address.",
                Some("from.email"),
                Some("message.from"),
            ));
            None
        }
        None => {
            problems.push(error(
                "The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.  e.g. {\"email\" : \"example@example.com\"}  or {\"email\" : \"example@example.com\", \"name\" : \"Example Recipient\"}.",
                Some("from.email"),
                Some("message.from"),
            ));
            None
        }
    };
    let has_template = body["template_id"].as_str().is_some_and(|t| !t.is_empty());
    let subject = body["subject"]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let every_personal_subject =
        !personal_subjects.is_empty() && personal_subjects.iter().all(Option::is_some);
    if subject.is_none() && !every_personal_subject && !has_template {
        problems.push(error(
            "The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.",
            Some("subject"),
            Some("message.subject"),
        ));
    }
    let (mut text, mut html) = (None, None);
    match body["content"].as_array() {
        Some(blocks) if !blocks.is_empty() => {
            for (k, block) in blocks.iter().enumerate() {
                let kind = block["type"].as_str().filter(|t| !t.is_empty());
                let value = block["value"].as_str().filter(|v| !v.is_empty());
                if kind.is_none() {
                    problems.push(error(
                        "The content type must be a string at least one character in length.",
                        Some(&format!("content.{k}.type")),
                        Some("message.content.type"),
                    ));
                }
                if value.is_none() {
                    problems.push(error(
                        "The content value must be a string at least one character in length.",
                        Some(&format!("content.{k}.value")),
                        Some("message.content.value"),
                    ));
                }
                match (kind, value) {
                    (Some("text/plain"), Some(v)) => {
                        if k != 0 {
                            problems.push(error(
                                "If present, text/plain content must be first, followed by text/html, followed by any other content.",
                                Some("content"),
                                Some("message.content"),
                            ));
                        }
                        text = Some(v.to_owned());
                    }
                    (Some("text/html"), Some(v)) => html = Some(v.to_owned()),
                    _ => {}
                }
            }
        }
        _ if has_template => {}
        _ => problems.push(error(
            "Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block. We typically suggest both text/plain and text/html blocks are included, but only one block is required.",
            Some("content"),
            Some("message.content"),
        )),
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Email {
        provider: Provider::SendGrid,
        message_id: String::new(),
        from: from.unwrap_or_default(),
        from_name: body["from"]["name"].as_str().map(str::to_owned),
        to,
        subject: subject
            .or_else(|| personal_subjects.into_iter().flatten().next())
            .unwrap_or_default(),
        text,
        html,
        idempotency_key: None,
        traceparent: None,
        request: Value::Null,
    })
}
