//! Providers that echo secrets in their error bodies: the relay quoting its
//! API key and the address, FCM quoting the access token, a device token and
//! a line of the service account's private key. None of it may reach a log
//! line, a stored `last_error`, or the delivery-log API.

mod notification_events_support;

use component_host::fakes::dapr::AppStatus;
use component_host::fakes::email::{RelayFailure, DEFAULT_API_KEY};
use notification_events_support::*;

const PHONE: &str = "ZWNoby1waG9uZS0wMDE6QVBBOTFiSHVuZGVyc2NvcmVfdG9rZW4";

#[tokio::test]
async fn secrets_echoed_by_providers_are_scrubbed_from_logs_rows_and_the_api() {
    let env = Env::start().await;
    env.subscriber(USER, Some(ADDRESS), &["email", "push"])
        .await;
    env.device(USER, PHONE).await;
    env.fcm.register_device(PHONE);

    // A first reminder mints and caches the FCM access token.
    let first = reminder_for(TASK, "2026-12-01T07:00:00Z", Some(&["push"]));
    assert_answer(&env.deliver(first).await, AppStatus::Success);
    let access_token = env
        .fcm
        .send_attempts()
        .last()
        .and_then(|r| r.bearer_token().map(str::to_owned))
        .expect("the push carried a bearer token");
    let pem = env.account.private_key_pem();
    let key_line = pem
        .lines()
        .find(|l| !l.starts_with("-----") && l.len() > 40)
        .expect("a base64 line of the key")
        .to_owned();

    env.relay.fail_next(
        1,
        RelayFailure::Rejected {
            message: format!("API key {DEFAULT_API_KEY} may not send to {ADDRESS}"),
        },
    );
    env.fcm.fail_next_invalid_argument(
        1,
        &format!("token {PHONE} refused for bearer {access_token}; key {key_line}"),
    );
    let second = reminder_for(TASK, "2026-12-01T08:00:00Z", None);
    assert_answer(&env.deliver(second).await, AppStatus::Success);

    let rows = env.deliveries().await;
    let stored: Vec<String> = rows
        .iter()
        .filter_map(|r| r["last_error"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        stored.len(),
        2,
        "both channels failed with an error: {rows:#?}"
    );
    let api = component_host::client::send(
        "GET",
        &format!(
            "{}/notifications/subscribers/{USER}/deliveries",
            env.app.base_url()
        ),
        &[],
        "",
    )
    .await
    .expect("delivery log");
    assert_eq!(api.status, 200);
    let logs = env.app.logs();
    for secret in [
        DEFAULT_API_KEY,
        ADDRESS,
        PHONE,
        access_token.as_str(),
        key_line.as_str(),
    ] {
        for (place, text) in [
            ("log", logs.as_str()),
            ("last_error", &stored.join("\n")),
            ("API", &api.text()),
        ] {
            assert!(
                !text.contains(secret),
                "{secret:?} leaked into the {place}:\n{text}"
            );
        }
    }
    // The provider's words are kept, with the secrets replaced.
    assert!(
        stored
            .iter()
            .any(|e| e.contains("API key [redacted] may not send to a***@example.com")),
        "{stored:?}"
    );
    assert!(
        stored
            .iter()
            .any(|e| e.contains("bearer [redacted]") && e.contains("key [redacted]")),
        "{stored:?}"
    );
}
