//! FCM HTTP v1 `POST /v1/projects/{project}/messages:send`
//! (firebase.google.com/docs/reference/fcm/rest/v1/projects.messages/send,
//! …/docs/cloud-messaging/error-codes).
//!
//! Errors are `google.rpc.Status` JSON: `{"error": {"code", "message",
//! "status", "details": [...]}}`; FCM-specific causes carry a detail
//! `{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
//! "errorCode": "UNREGISTERED" | ...}`, malformed fields a
//! `google.rpc.BadRequest` with `fieldViolations`.

use serde_json::{json, Map, Value};

use super::{DeviceOwner, Push, State, FCM_SEND_SCOPES};
use crate::fakes::server::{CannedResponse, RecordedRequest};

const FCM_ERROR: &str = "type.googleapis.com/google.firebase.fcm.v1.FcmError";
const BAD_REQUEST: &str = "type.googleapis.com/google.rpc.BadRequest";
const ERROR_INFO: &str = "type.googleapis.com/google.rpc.ErrorInfo";
const REALM: &str = "Bearer realm=\"https://accounts.google.com/\"";

/// A Google API error answer.
pub fn google_error(code: u16, status: &str, message: &str, details: Vec<Value>) -> CannedResponse {
    let mut error = json!({"code": code, "message": message, "status": status});
    if !details.is_empty() {
        error["details"] = Value::Array(details);
    }
    google_json(code, &json!({ "error": error }))
}

/// JSON the way Google's front end sends it.
fn google_json(status: u16, value: &Value) -> CannedResponse {
    CannedResponse::empty(status)
        .with_header("content-type", "application/json; charset=UTF-8")
        .with_body(value.to_string())
}

/// The FCM detail naming the FCM error code.
pub fn fcm_detail(error_code: &str) -> Value {
    json!({"@type": FCM_ERROR, "errorCode": error_code})
}

fn field_violation(field: Option<&str>, description: &str) -> Value {
    let mut violation = json!({ "description": description });
    if let Some(field) = field {
        violation["field"] = json!(field);
    }
    json!({"@type": BAD_REQUEST, "fieldViolations": [violation]})
}

fn error_info(reason: &str) -> Value {
    json!({
        "@type": ERROR_INFO,
        "reason": reason,
        "domain": "googleapis.com",
        "metadata": {"method": "google.firebase.fcm.v1.FcmService.SendMessage", "service": "fcm.googleapis.com"},
    })
}

fn invalid(field: Option<&str>, description: &str) -> CannedResponse {
    google_error(
        400,
        "INVALID_ARGUMENT",
        description,
        vec![field_violation(field, description)],
    )
}

fn invalid_fcm(message: &str) -> CannedResponse {
    google_error(
        400,
        "INVALID_ARGUMENT",
        message,
        vec![fcm_detail("INVALID_ARGUMENT")],
    )
}

/// 401 for a missing (`None`) or unusable access token.
pub fn unauthenticated(reason: Option<&str>) -> CannedResponse {
    let (message, reason, header) = match reason {
        None => (
            "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
            "CREDENTIALS_MISSING",
            REALM.to_owned(),
        ),
        Some(reason) => (
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
            reason,
            format!("{REALM}, error=\"invalid_token\""),
        ),
    };
    google_error(401, "UNAUTHENTICATED", message, vec![error_info(reason)])
        .with_header("www-authenticate", &header)
}

fn unknown_name(name: &str, at: Option<&str>) -> CannedResponse {
    let description = match at {
        Some(at) => format!(
            "Invalid JSON payload received. Unknown name \"{name}\" at '{at}': Cannot find field."
        ),
        None => {
            format!("Invalid JSON payload received. Unknown name \"{name}\": Cannot find field.")
        }
    };
    invalid(at, &description)
}

fn check_known(
    obj: &Map<String, Value>,
    known: &[&str],
    at: Option<&str>,
) -> Result<(), CannedResponse> {
    match obj.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(unknown_name(k, at)),
        None => Ok(()),
    }
}

fn type_name(v: &Value) -> String {
    match v {
        Value::String(s) => format!("\"{s}\""),
        other => other.to_string(),
    }
}

/// A `map<string, string>` field: every value must be a string.
fn check_string_map(v: &Value, path: &str) -> Result<(), CannedResponse> {
    match v {
        Value::Null => Ok(()),
        Value::Object(map) => {
            for (i, (_, value)) in map.iter().enumerate() {
                if !value.is_string() {
                    let field = format!("{path}[{i}].value");
                    return Err(invalid(
                        Some(&field),
                        &format!(
                            "Invalid value at '{field}' (TYPE_STRING), {}",
                            type_name(value)
                        ),
                    ));
                }
            }
            Ok(())
        }
        other => Err(invalid(
            Some(path),
            &format!(
                "Invalid value at '{path}' (type.googleapis.com/google.protobuf.Map), {}",
                type_name(other)
            ),
        )),
    }
}

fn check_string(v: &Value, path: &str) -> Result<(), CannedResponse> {
    if v.is_null() || v.is_string() {
        Ok(())
    } else {
        Err(invalid(
            Some(path),
            &format!("Invalid value at '{path}' (TYPE_STRING), {}", type_name(v)),
        ))
    }
}

fn object<'a>(v: &'a Value, path: &str) -> Result<Option<&'a Map<String, Value>>, CannedResponse> {
    match v {
        Value::Null => Ok(None),
        Value::Object(map) => Ok(Some(map)),
        other => Err(invalid(
            Some(path),
            &format!(
                "Invalid value at '{path}' (type.googleapis.com/google.firebase.fcm.v1.{}), {}",
                path.rsplit('.').next().unwrap_or(path),
                type_name(other)
            ),
        )),
    }
}

/// A protobuf `Duration` in JSON: `"3.5s"`.
fn is_duration(s: &str) -> bool {
    let Some(number) = s.strip_suffix('s') else {
        return false;
    };
    let number = number.strip_prefix('-').unwrap_or(number);
    let (secs, frac) = number.split_once('.').unwrap_or((number, "0"));
    !secs.is_empty()
        && secs.chars().all(|c| c.is_ascii_digit())
        && !frac.is_empty()
        && frac.len() <= 9
        && frac.chars().all(|c| c.is_ascii_digit())
}

fn validate_android(android: &Map<String, Value>) -> Result<(), CannedResponse> {
    check_known(
        android,
        &[
            "collapse_key",
            "collapseKey",
            "priority",
            "ttl",
            "restricted_package_name",
            "restrictedPackageName",
            "data",
            "notification",
            "fcm_options",
            "fcmOptions",
            "direct_boot_ok",
            "directBootOk",
            "bandwidth_constrained_ok",
            "bandwidthConstrainedOk",
            "restricted_satellite_ok",
            "restrictedSatelliteOk",
        ],
        Some("message.android"),
    )?;
    for key in ["collapse_key", "collapseKey"] {
        check_string(
            android.get(key).unwrap_or(&Value::Null),
            "message.android.collapse_key",
        )?;
    }
    check_string_map(
        android.get("data").unwrap_or(&Value::Null),
        "message.android.data",
    )?;
    if let Some(ttl) = android.get("ttl") {
        if !ttl.as_str().is_some_and(is_duration) {
            return Err(invalid(
                Some("message.android.ttl"),
                &format!("Invalid value at 'message.android.ttl' (type.googleapis.com/google.protobuf.Duration), {}", type_name(ttl)),
            ));
        }
    }
    if let Some(priority) = android.get("priority") {
        let ok = priority
            .as_str()
            .is_some_and(|p| ["NORMAL", "HIGH", "normal", "high"].contains(&p));
        if !ok {
            return Err(invalid(
                Some("message.android.priority"),
                &format!("Invalid value at 'message.android.priority' (type.googleapis.com/google.firebase.fcm.v1.AndroidMessagePriority), {}", type_name(priority)),
            ));
        }
    }
    object(
        android.get("notification").unwrap_or(&Value::Null),
        "message.android.notification",
    )?;
    Ok(())
}

fn validate_apns(apns: &Map<String, Value>) -> Result<(), CannedResponse> {
    check_known(
        apns,
        &[
            "headers",
            "payload",
            "fcm_options",
            "fcmOptions",
            "live_activity_token",
            "liveActivityToken",
        ],
        Some("message.apns"),
    )?;
    check_string_map(
        apns.get("headers").unwrap_or(&Value::Null),
        "message.apns.headers",
    )?;
    if let Some(payload) = apns.get("payload") {
        if !payload.is_object() {
            return Err(invalid(
                Some("message.apns.payload"),
                &format!("Invalid value at 'message.apns.payload' (type.googleapis.com/google.protobuf.Struct), {}", type_name(payload)),
            ));
        }
    }
    Ok(())
}

/// What the message is addressed to.
enum Target {
    Token(String),
    Topic(String),
    Condition(String),
}

fn validate_message(body: &Value) -> Result<(Target, Value, bool), CannedResponse> {
    let Value::Object(request) = body else {
        return Err(invalid(
            None,
            "Invalid JSON payload received. Unknown name \"\": Root element must be a message.",
        ));
    };
    check_known(request, &["message", "validate_only", "validateOnly"], None)?;
    let validate_only = request
        .get("validate_only")
        .or_else(|| request.get("validateOnly"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let message = request.get("message").cloned().unwrap_or_else(|| json!({}));
    let Some(msg) = object(&message, "message")? else {
        return Err(recipient_not_set());
    };
    check_known(
        msg,
        &[
            "name",
            "data",
            "notification",
            "android",
            "webpush",
            "apns",
            "fcm_options",
            "fcmOptions",
            "token",
            "topic",
            "condition",
        ],
        Some("message"),
    )?;
    let mut set = Vec::new();
    for target in ["token", "topic", "condition"] {
        if let Some(v) = msg.get(target) {
            if !v.is_null() {
                if !set.is_empty() {
                    return Err(invalid(
                        Some("message"),
                        &format!("Invalid value at 'message' (oneof), oneof field 'target' is already set. Cannot set '{target}'"),
                    ));
                }
                check_string(v, &format!("message.{target}"))?;
                set.push((target, v.as_str().unwrap_or_default().to_owned()));
            }
        }
    }
    let data = msg.get("data").unwrap_or(&Value::Null);
    check_string_map(data, "message.data")?;
    if let Some(data) = data.as_object() {
        if let Some(key) = data
            .keys()
            .find(|k| *k == "from" || *k == "gcm" || k.starts_with("google"))
        {
            return Err(invalid_fcm(&format!("Invalid data message key: {key}")));
        }
        let size: usize = data
            .iter()
            .map(|(k, v)| k.len() + v.as_str().map_or(0, str::len))
            .sum();
        if size > 4096 {
            return Err(invalid_fcm("Message is too big"));
        }
    }
    if let Some(notification) = object(
        msg.get("notification").unwrap_or(&Value::Null),
        "message.notification",
    )? {
        check_known(
            notification,
            &["title", "body", "image"],
            Some("message.notification"),
        )?;
        for key in ["title", "body", "image"] {
            check_string(
                notification.get(key).unwrap_or(&Value::Null),
                &format!("message.notification.{key}"),
            )?;
        }
    }
    if let Some(android) = object(
        msg.get("android").unwrap_or(&Value::Null),
        "message.android",
    )? {
        validate_android(android)?;
    }
    if let Some(apns) = object(msg.get("apns").unwrap_or(&Value::Null), "message.apns")? {
        validate_apns(apns)?;
    }
    object(
        msg.get("webpush").unwrap_or(&Value::Null),
        "message.webpush",
    )?;
    let target = match set.pop() {
        None => return Err(recipient_not_set()),
        Some(("token", t)) => Target::Token(t),
        Some(("topic", t)) => Target::Topic(t),
        Some((_, c)) => Target::Condition(c),
    };
    Ok((target, message, validate_only))
}

fn recipient_not_set() -> CannedResponse {
    invalid(Some("message"), "Recipient of the message is not set.")
}

fn valid_token_syntax(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= 4096
        && token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
}

fn valid_topic(topic: &str) -> bool {
    !topic.is_empty()
        && topic
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '%'))
}

pub(super) fn handle(state: &mut State, project: &str, req: &RecordedRequest) -> CannedResponse {
    if req.method != http::Method::POST {
        return google_error(405, "METHOD_NOT_ALLOWED", "Method not allowed.", Vec::new());
    }
    let Some(token) = req.bearer_token() else {
        return unauthenticated(None);
    };
    let scopes = match state.access_tokens.get(token) {
        None => return unauthenticated(Some("ACCESS_TOKEN_TYPE_UNSUPPORTED")),
        Some(t) if t.expires_at <= std::time::Instant::now() => {
            return unauthenticated(Some("ACCESS_TOKEN_EXPIRED"));
        }
        Some(t) => t.scopes.clone(),
    };
    if !scopes.iter().any(|s| FCM_SEND_SCOPES.contains(&s.as_str())) {
        return google_error(
            403,
            "PERMISSION_DENIED",
            "Request had insufficient authentication scopes.",
            vec![error_info("ACCESS_TOKEN_SCOPE_INSUFFICIENT")],
        )
        .with_header(
            "www-authenticate",
            &format!(
                "{REALM}, error=\"insufficient_scope\", scope=\"{}\"",
                super::keys::FCM_SCOPE
            ),
        );
    }
    if project != state.project_id {
        return google_error(
            403,
            "PERMISSION_DENIED",
            &format!("Permission 'cloudmessaging.messages.create' denied on resource '//cloudresourcemanager.googleapis.com/projects/{project}' (or it may not exist)."),
            vec![error_info("IAM_PERMISSION_DENIED")],
        );
    }
    let body: Value = match serde_json::from_slice(&req.body) {
        Ok(v) => v,
        Err(e) => {
            return invalid(None, &format!("Invalid JSON payload received. {e}"));
        }
    };
    let (target, message, validate_only) = match validate_message(&body) {
        Ok(v) => v,
        Err(response) => return response,
    };
    let (mut token_target, mut topic, mut condition) = (None, None, None);
    match target {
        Target::Token(t) => {
            if !valid_token_syntax(&t) {
                return invalid_fcm("The registration token is not a valid FCM registration token");
            }
            match state.devices.get(&t) {
                Some(DeviceOwner::ThisSender) => {}
                Some(DeviceOwner::OtherSender) => {
                    return google_error(
                        403,
                        "PERMISSION_DENIED",
                        "SenderId mismatch",
                        vec![fcm_detail("SENDER_ID_MISMATCH")],
                    );
                }
                None => {
                    return google_error(
                        404,
                        "NOT_FOUND",
                        "Requested entity was not found.",
                        vec![fcm_detail("UNREGISTERED")],
                    );
                }
            }
            token_target = Some(t);
        }
        Target::Topic(t) => {
            let bare = t.strip_prefix("/topics/").unwrap_or(&t).to_owned();
            if !valid_topic(&bare) {
                return invalid_fcm("Invalid topic name");
            }
            topic = Some(bare);
        }
        Target::Condition(c) => condition = Some(c),
    }
    if validate_only {
        return google_json(
            200,
            &json!({"name": format!("projects/{project}/messages/fake_message_id")}),
        );
    }
    state.next_message += 1;
    let name = format!(
        "projects/{project}/messages/0:{}%{:016x}",
        chrono::Utc::now().timestamp_millis(),
        state.next_message
    );
    state.pushes.push(Push {
        name: name.clone(),
        token: token_target,
        topic,
        condition,
        message,
        access_token: token.to_owned(),
        traceparent: req.header("traceparent").map(str::to_owned),
    });
    google_json(200, &json!({ "name": name }))
}
