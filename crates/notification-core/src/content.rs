//! What the reminder says: e-mail subject and bodies, push title and body.
//!
//! The due time is rendered in the subscriber's IANA time zone with jiff's
//! bundled tz database (a wasm component has no zoneinfo on disk). Only the
//! task title and due time appear: no ids, tokens or addresses, since e-mails
//! get forwarded and push previews show on lock screens.

use jiff::fmt::strtime;
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// Longest task title shown, in characters; longer titles are cut with `…`
/// so a pathological title cannot blow FCM's 4 KiB payload limit.
pub const MAX_TITLE_CHARS: usize = 200;

/// Shown when the event's title is empty.
const UNTITLED: &str = "Untitled task";

/// The rendered texts of one reminder, for every channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderContent {
    /// E-mail subject (single line).
    pub subject: String,
    /// Plain-text e-mail body.
    pub text: String,
    /// HTML e-mail body; the title is HTML-escaped.
    pub html: String,
    /// Push notification title.
    pub push_title: String,
    /// Push notification body.
    pub push_body: String,
}

/// Renders the reminder for `title`, due at `due_at` (if known), for a
/// subscriber in `time_zone` (IANA name; unknown names fall back to UTC so a
/// bad profile never blocks a reminder).
pub fn render_reminder(title: &str, due_at: Option<Timestamp>, time_zone: &str) -> ReminderContent {
    let title = clean_title(title);
    let due = due_at.map(|at| format_due(at, time_zone));
    let subject = format!("Reminder: {title}");
    let (text, html, push_body) = match &due {
        Some(due) => (
            format!("Reminder: your task \"{title}\" is due {due}.\n"),
            format!(
                "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body><p>Reminder: your task <strong>{}</strong> is due {}.</p></body></html>",
                escape_html(&title),
                escape_html(due)
            ),
            format!("Due {due}"),
        ),
        None => (
            format!("Reminder: your task \"{title}\".\n"),
            format!(
                "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body><p>Reminder: your task <strong>{}</strong>.</p></body></html>",
                escape_html(&title)
            ),
            "Task reminder".to_owned(),
        ),
    };
    ReminderContent {
        subject,
        text,
        html,
        push_title: title,
        push_body,
    }
}

/// Formats `at` as e.g. `Tue, 1 Dec 2026, 10:00 CET (Europe/Berlin)`.
///
/// Unknown zone names fall back to UTC (and say so), because a reminder in
/// the wrong zone is better than none.
pub fn format_due(at: Timestamp, time_zone: &str) -> String {
    let (tz, name) = match TimeZone::get(time_zone.trim()) {
        Ok(tz) => (tz, time_zone.trim()),
        Err(_) => (TimeZone::UTC, "UTC"),
    };
    let zdt = at.to_zoned_datetime(tz);
    match strtime::format("%a, %-d %b %Y, %H:%M %Z", &zdt) {
        Ok(local) => format!("{local} ({name})"),
        // Formatting can only fail on exotic data; RFC 3339 is never wrong.
        Err(_) => format!("{at} (UTC)"),
    }
}

/// Escapes the five HTML-significant characters, so a task titled
/// `<script>` shows as text in the HTML body.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// Single-line, bounded title: control characters (CR/LF in a subject would
/// be header injection on SMTP relays) become spaces.
fn clean_title(title: &str) -> String {
    let flat: String = title
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.is_empty() {
        return UNTITLED.to_owned();
    }
    if flat.chars().count() > MAX_TITLE_CHARS {
        let mut cut: String = flat.chars().take(MAX_TITLE_CHARS).collect();
        cut.push('…');
        return cut;
    }
    flat
}

#[cfg(test)]
mod tests;
