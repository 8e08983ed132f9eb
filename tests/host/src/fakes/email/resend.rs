//! Resend `POST /emails`: `Authorization: Bearer <key>`, JSON
//! `{from, to, subject, html?, text?, ...}`, 200 `{"id": "<uuid>"}`.
//!
//! Errors are `{"statusCode", "name", "message"}` (resend.com/docs/api-reference/errors):
//! 401 `missing_api_key`, 403 `invalid_api_key`, 400 `invalid_idempotency_key`
//! (key not 1-256 chars), 409 `invalid_idempotent_request` (same key, other
//! payload), 422 `missing_required_field` / `validation_error`.
//! Idempotency (…/dashboard/emails/idempotency-keys): the same key with the
//! same request within 24 hours returns the same response without sending again.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{new_id, parse_mailbox, Email, Provider, State};
use crate::fakes::server::{CannedResponse, RecordedRequest};

const IDEMPOTENCY_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);
const ADDRESS_FORMAT: &str =
    "The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.";

fn error(status: u16, name: &str, message: &str) -> CannedResponse {
    CannedResponse::json(
        status,
        &json!({"statusCode": status, "name": name, "message": message}),
    )
}

fn ok(id: &str) -> CannedResponse {
    CannedResponse::json(200, &json!({ "id": id }))
        .with_header("ratelimit-limit", "2")
        .with_header("ratelimit-remaining", "1")
        .with_header("ratelimit-reset", "1")
}

pub(super) fn handle(api_key: &str, state: &mut State, req: &RecordedRequest) -> CannedResponse {
    if req.header("authorization").is_none() {
        return error(
            401,
            "missing_api_key",
            "Missing API key in the authorization header.",
        );
    }
    if req.bearer_token() != Some(api_key) {
        return error(403, "invalid_api_key", "API key is invalid.");
    }
    let idempotency_key = req.header("idempotency-key").map(str::to_owned);
    if let Some(key) = &idempotency_key {
        if key.is_empty() || key.chars().count() > 256 {
            return error(
                400,
                "invalid_idempotency_key",
                "The key must be between 1-256 chars.",
            );
        }
    }
    let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
        return error(
            400,
            "validation_error",
            "The request body is not valid JSON.",
        );
    };
    let email = match validate(&body) {
        Ok(email) => email,
        Err(response) => return response,
    };
    if let Some(key) = &idempotency_key {
        state
            .idempotency
            .retain(|_, (_, _, at)| at.elapsed() < IDEMPOTENCY_WINDOW);
        if let Some((first_body, id, _)) = state.idempotency.get(key) {
            return if *first_body == body {
                ok(id)
            } else {
                error(
                    409,
                    "invalid_idempotent_request",
                    "Same idempotency key used with a different request payload.",
                )
            };
        }
    }
    let id = new_id();
    if let Some(key) = &idempotency_key {
        state
            .idempotency
            .insert(key.clone(), (body.clone(), id.clone(), Instant::now()));
    }
    state.emails.push(Email {
        provider: Provider::Resend,
        message_id: id.clone(),
        idempotency_key,
        traceparent: req.header("traceparent").map(str::to_owned),
        request: body,
        ..email
    });
    ok(&id)
}

/// A string, or a list of strings, as Resend accepts for `to`, `cc`, ….
fn string_or_list(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => None,
    }
}

fn optional_string(body: &Value, field: &str) -> Result<Option<String>, CannedResponse> {
    match &body[field] {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(error(
            422,
            "validation_error",
            &format!("Invalid `{field}` field."),
        )),
    }
}

fn validate(body: &Value) -> Result<Email, CannedResponse> {
    if !body.is_object() {
        return Err(error(
            422,
            "validation_error",
            "The request body must be a JSON object.",
        ));
    }
    for field in ["from", "to", "subject"] {
        if body[field].is_null() {
            return Err(error(
                422,
                "missing_required_field",
                &format!("Missing `{field}` field."),
            ));
        }
    }
    let (from, from_name) = body["from"]
        .as_str()
        .and_then(parse_mailbox)
        .ok_or_else(|| {
            error(
                422,
                "validation_error",
                &format!("Invalid `from` field. {ADDRESS_FORMAT}"),
            )
        })?;
    let invalid_to = || {
        error(
            422,
            "validation_error",
            &format!("Invalid `to` field. {ADDRESS_FORMAT}"),
        )
    };
    let to_values = string_or_list(&body["to"]).ok_or_else(invalid_to)?;
    if to_values.is_empty() {
        return Err(error(422, "missing_required_field", "Missing `to` field."));
    }
    if to_values.len() > 50 {
        return Err(error(
            422,
            "validation_error",
            "Invalid `to` field. You can send to a maximum of 50 recipients.",
        ));
    }
    let to = to_values
        .iter()
        .map(|t| parse_mailbox(t).map(|(addr, _)| addr))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(invalid_to)?;
    for field in ["cc", "bcc", "reply_to"] {
        if !body[field].is_null() {
            let ok = string_or_list(&body[field])
                .is_some_and(|list| list.iter().all(|a| parse_mailbox(a).is_some()));
            if !ok {
                return Err(error(
                    422,
                    "validation_error",
                    &format!("Invalid `{field}` field. {ADDRESS_FORMAT}"),
                ));
            }
        }
    }
    let subject = optional_string(body, "subject")?.unwrap_or_default();
    let text = optional_string(body, "text")?;
    let html = optional_string(body, "html")?;
    if text.is_none() && html.is_none() && body["react"].is_null() && body["template"].is_null() {
        return Err(error(
            422,
            "validation_error",
            "Missing `html` or `text` field.",
        ));
    }
    Ok(Email {
        provider: Provider::Resend,
        message_id: String::new(),
        from,
        from_name,
        to,
        subject,
        text,
        html,
        idempotency_key: None,
        traceparent: None,
        request: Value::Null,
    })
}
