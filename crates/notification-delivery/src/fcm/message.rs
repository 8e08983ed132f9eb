//! The FCM HTTP v1 `messages:send` request.
//!
//! One request per device token. The reminder id is used as Android
//! `collapse_key`, Android notification `tag` and the `apns-collapse-id`
//! header, so a duplicate push replaces the notification already on the
//! device instead of stacking a second one. `data` values are strings, as
//! FCM requires.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::json;
use uuid::Uuid;

use super::oauth::AccessToken;
use super::FcmConfig;
use crate::content::ReminderContent;
use crate::http::{post, ProviderRequest, RequestError};
use crate::keys::BusinessKey;

/// One push notification to one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushMessage {
    /// FCM registration token of the device (secret-ish: mask in logs).
    pub token: String,
    /// Notification title.
    pub title: String,
    /// Notification body.
    pub body: String,
    /// Collapse key / tag / `apns-collapse-id` (a UUID: 36 bytes, under APNs' 64).
    pub collapse_id: Uuid,
    /// The `data` payload delivered to the app.
    pub data: BTreeMap<String, String>,
}

impl PushMessage {
    /// The reminder push for the delivery `key` (channel push, recipient =
    /// device token). `data` carries `task_id`, `remind_at`, `due_at` (when
    /// known), `reminder_id` and `delivery_id` so the app can open the task
    /// and de-duplicate on its side too.
    pub fn for_reminder(
        key: &BusinessKey,
        content: &ReminderContent,
        due_at: Option<Timestamp>,
    ) -> Self {
        let reminder_id = key.reminder_id();
        let mut data = BTreeMap::new();
        data.insert("type".to_owned(), "reminder".to_owned());
        data.insert("task_id".to_owned(), key.task_id().to_string());
        data.insert("remind_at".to_owned(), key.remind_at().to_string());
        if let Some(due_at) = due_at {
            data.insert("due_at".to_owned(), due_at.to_string());
        }
        data.insert("reminder_id".to_owned(), reminder_id.to_string());
        data.insert("delivery_id".to_owned(), key.delivery_id().to_string());
        PushMessage {
            token: key.recipient().to_owned(),
            title: content.push_title.clone(),
            body: content.push_body.clone(),
            collapse_id: reminder_id,
            data,
        }
    }
}

/// Builds `POST {fcm_api_base}/v1/projects/{project}/messages:send` for
/// `message`, authorised with `token` (from [`super::parse_token_response`]).
pub fn build_send_request(
    config: &FcmConfig,
    token: &AccessToken,
    message: &PushMessage,
) -> Result<ProviderRequest, RequestError> {
    let collapse = message.collapse_id.to_string();
    let body = json!({
        "message": {
            "token": message.token,
            "notification": {"title": message.title, "body": message.body},
            "data": message.data,
            "android": {
                "collapse_key": collapse,
                "notification": {"tag": collapse},
            },
            "apns": {
                "headers": {"apns-collapse-id": collapse},
            },
        }
    });
    post(
        &config.send_url(),
        &[
            ("Authorization", &format!("Bearer {}", token.secret())),
            ("Content-Type", "application/json; charset=UTF-8"),
        ],
        body.to_string().into_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::Channel;
    use crate::content::render_reminder;

    fn key() -> BusinessKey {
        BusinessKey::new(
            "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b".parse().unwrap(),
            "2026-12-01T08:30:00Z".parse().unwrap(),
            Channel::Push,
            "device-token-AAAAAAAAAAAA",
        )
    }

    fn token() -> AccessToken {
        AccessToken::new("ya29.test-token", "2026-12-01T09:30:00Z".parse().unwrap()).unwrap()
    }

    #[test]
    fn request_shape() {
        let config = FcmConfig::from_variables(
            "todo-app",
            "https://fcm.googleapis.com",
            "https://oauth2.googleapis.com",
        )
        .unwrap()
        .unwrap();
        let due: Timestamp = "2026-12-01T09:00:00Z".parse().unwrap();
        let content = render_reminder("Pay rent", Some(due), "Europe/Berlin");
        let msg = PushMessage::for_reminder(&key(), &content, Some(due));
        let req = build_send_request(&config, &token(), &msg).unwrap();

        assert_eq!(req.method(), ::http::Method::POST);
        assert_eq!(
            req.uri(),
            "https://fcm.googleapis.com/v1/projects/todo-app/messages:send"
        );
        assert_eq!(
            crate::http::header(req.headers(), "authorization"),
            Some("Bearer ya29.test-token")
        );
        assert_eq!(
            crate::http::header(req.headers(), "content-type"),
            Some("application/json; charset=UTF-8")
        );

        let reminder = "fa4d4b92-bc22-53ac-aa5c-dded1fc9d625";
        let body: serde_json::Value = serde_json::from_slice(req.body()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "message": {
                    "token": "device-token-AAAAAAAAAAAA",
                    "notification": {
                        "title": "Pay rent",
                        "body": "Due Tue, 1 Dec 2026, 10:00 CET (Europe/Berlin)",
                    },
                    "data": {
                        "type": "reminder",
                        "task_id": "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b",
                        "remind_at": "2026-12-01T08:30:00Z",
                        "due_at": "2026-12-01T09:00:00Z",
                        "reminder_id": reminder,
                        "delivery_id": key().delivery_id().to_string(),
                    },
                    "android": {"collapse_key": reminder, "notification": {"tag": reminder}},
                    "apns": {"headers": {"apns-collapse-id": reminder}},
                }
            })
        );
    }

    #[test]
    fn due_at_is_omitted_when_unknown() {
        let content = render_reminder("Pay rent", None, "UTC");
        let msg = PushMessage::for_reminder(&key(), &content, None);
        assert!(!msg.data.contains_key("due_at"));
        assert!(msg.collapse_id.to_string().len() <= 64);
    }
}
