//! Known secret values, scrubbed from everything the notification service
//! logs or stores, including provider error bodies that echo them (an
//! invalid-key message quoting the key, an error naming the access token).
//!
//! The service knows its secrets: the relay API key, the FCM access token
//! in use, the service account's private key, and each delivery's address
//! or device token. Whatever text leaves through a log line or `last_error`
//! passes [`Secrets::scrub_json`] last, so no new provider message format
//! can leak one.

use serde_json::Value;

/// Shorter values are not scrubbed: replacing common short strings would
/// mangle messages without protecting anything (real keys are long).
const MIN_SECRET_CHARS: usize = 8;

/// What a secret is replaced by.
pub const REDACTED: &str = "[redacted]";

/// The secret values of one request.
#[derive(Debug, Default, Clone)]
pub struct Secrets {
    values: Vec<String>,
}

impl Secrets {
    /// No secrets yet.
    pub fn new() -> Self {
        Secrets::default()
    }

    /// Adds a secret value (ignored when shorter than 8 characters).
    pub fn add(&mut self, value: &str) {
        let value = value.trim();
        if value.chars().count() >= MIN_SECRET_CHARS && !self.values.iter().any(|v| v == value) {
            self.values.push(value.to_owned());
            // Longest first, so a secret containing another goes whole.
            self.values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        }
    }

    /// Adds a PEM private key: the whole text and each base64 line of it,
    /// since a provider may quote any part.
    pub fn add_key_material(&mut self, pem: &str) {
        self.add(pem);
        for line in pem.lines().filter(|l| !l.starts_with("-----")) {
            self.add(line);
        }
    }

    /// Adds the `private_key` of a service-account key file's JSON.
    pub fn add_service_account(&mut self, json: &str) {
        if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(json) {
            if let Some(Value::String(pem)) = map.get("private_key") {
                self.add_key_material(pem);
            }
            if let Some(Value::String(id)) = map.get("private_key_id") {
                self.add(id);
            }
        }
    }

    /// `text` with every known secret replaced by [`REDACTED`].
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.values {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        out
    }

    /// Scrubs every string (and object key) inside `value`, in place.
    pub fn scrub_json(&self, value: &mut Value) {
        if self.values.is_empty() {
            return;
        }
        match value {
            Value::String(s) if self.values.iter().any(|v| s.contains(v.as_str())) => {
                *s = self.scrub(s);
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.scrub_json(v)),
            Value::Object(map) => {
                let keys: Vec<String> = map.keys().cloned().collect();
                for key in keys {
                    if let Some(mut v) = map.remove(&key) {
                        self.scrub_json(&mut v);
                        map.insert(self.scrub(&key), v);
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn echoed_secrets_are_redacted_everywhere() {
        let mut s = Secrets::new();
        s.add("re_live_0123456789abcdef");
        s.add("ya29.a0AfH6SMBx-access-token");
        s.add("short");
        let mut v = json!({
            "last_error": "API key re_live_0123456789abcdef is invalid",
            "nested": ["Bearer ya29.a0AfH6SMBx-access-token rejected", "short stays"],
        });
        s.scrub_json(&mut v);
        let text = v.to_string();
        assert!(!text.contains("re_live_0123456789abcdef"), "{text}");
        assert!(!text.contains("ya29.a0AfH6SMBx"), "{text}");
        assert!(text.contains("short stays"));
        assert_eq!(v["last_error"], "API key [redacted] is invalid");
    }

    #[test]
    fn any_line_of_the_private_key_is_redacted() {
        let pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n-----END PRIVATE KEY-----\n";
        let mut s = Secrets::new();
        s.add_service_account(
            &json!({"private_key": pem, "private_key_id": "0123456789abcdef0123"}).to_string(),
        );
        let out =
            s.scrub("bad key near BKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj (id 0123456789abcdef0123)");
        assert_eq!(out, "bad key near [redacted] (id [redacted])");
        assert_eq!(
            s.scrub("-----BEGIN PRIVATE KEY-----"),
            "-----BEGIN PRIVATE KEY-----"
        );
    }
}
