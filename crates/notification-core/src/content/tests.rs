use super::*;

fn due() -> Timestamp {
    "2026-12-01T09:00:00Z".parse().unwrap()
}

#[test]
fn due_time_in_subscriber_zone() {
    assert_eq!(
        format_due(due(), "Europe/Berlin"),
        "Tue, 1 Dec 2026, 10:00 CET (Europe/Berlin)"
    );
    assert_eq!(
        format_due("2026-07-01T09:00:00Z".parse().unwrap(), "America/New_York"),
        "Wed, 1 Jul 2026, 05:00 EDT (America/New_York)"
    );
}

#[test]
fn unknown_zone_falls_back_to_utc() {
    assert_eq!(
        format_due(due(), "Mars/Olympus_Mons"),
        "Tue, 1 Dec 2026, 09:00 UTC (UTC)"
    );
}

#[test]
fn bodies_name_title_and_due_time() {
    let c = render_reminder("Pay rent", Some(due()), "Europe/Berlin");
    assert_eq!(c.subject, "Reminder: Pay rent");
    assert!(c
        .text
        .contains("\"Pay rent\" is due Tue, 1 Dec 2026, 10:00 CET"));
    assert!(c
        .html
        .contains("<strong>Pay rent</strong> is due Tue, 1 Dec 2026, 10:00 CET"));
    assert_eq!(c.push_title, "Pay rent");
    assert_eq!(
        c.push_body,
        "Due Tue, 1 Dec 2026, 10:00 CET (Europe/Berlin)"
    );
}

#[test]
fn html_escapes_the_title() {
    let c = render_reminder("<script>alert('x')</script> & \"co\"", None, "UTC");
    assert!(c
        .html
        .contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;co&quot;"));
    assert!(!c.html.contains("<script>"));
    assert_eq!(c.push_body, "Task reminder");
}

#[test]
fn titles_are_single_line_and_bounded() {
    let c = render_reminder("Pay\r\nBcc: evil@example.com", None, "UTC");
    assert_eq!(c.subject, "Reminder: Pay  Bcc: evil@example.com");
    let long = "x".repeat(MAX_TITLE_CHARS + 50);
    let c = render_reminder(&long, None, "UTC");
    assert_eq!(c.push_title.chars().count(), MAX_TITLE_CHARS + 1);
    assert_eq!(
        render_reminder("   ", None, "UTC").push_title,
        "Untitled task"
    );
}
