//! The generic recording server under the fakes: recording, scripted faults,
//! delays, waiting for requests.

use std::sync::Arc;
use std::time::Duration;

use component_host::client;
use component_host::fakes::{CannedResponse, FakeServer, Fault};

async fn echo_server() -> FakeServer {
    FakeServer::start(
        "echo",
        Arc::new(|req| {
            CannedResponse::json(
                200,
                &serde_json::json!({"path": req.path_and_query(), "body": req.text()}),
            )
        }),
    )
    .await
    .expect("start")
}

#[tokio::test]
async fn records_method_path_query_headers_and_body() {
    let server = echo_server().await;
    let url = format!("{}/a/b%20c?x=1&y=two%20words", server.base_url());
    let response = client::send("PUT", &url, &[("x-test", "yes")], "payload")
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.json()["path"], "/a/b%20c?x=1&y=two%20words");

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.method, http::Method::PUT);
    assert_eq!(r.path, "/a/b%20c");
    assert_eq!(r.query_param("y").as_deref(), Some("two words"));
    assert_eq!(r.header("x-test"), Some("yes"));
    assert_eq!(&r.body[..], b"payload");
    assert_eq!(r.answered, Some(http::StatusCode::OK));
    assert!(!r.scripted);
}

#[tokio::test]
async fn scripted_failures_come_first_then_normal_answers() {
    let server = echo_server().await;
    server.fail_next(2, 503, &[("retry-after", "7")], "busy");
    let url = format!("{}/x", server.base_url());
    for _ in 0..2 {
        let r = client::send("GET", &url, &[], "").await.unwrap();
        assert_eq!(r.status, 503);
        assert_eq!(r.header("retry-after"), Some("7"));
        assert_eq!(r.text(), "busy");
    }
    let r = client::send("GET", &url, &[], "").await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(server.pending_faults(), 0);
    let answered: Vec<_> = server
        .requests()
        .iter()
        .map(|r| (r.answered.map(|s| s.as_u16()), r.scripted))
        .collect();
    assert_eq!(
        answered,
        vec![(Some(503), true), (Some(503), true), (Some(200), false)]
    );
}

#[tokio::test]
async fn path_scoped_faults_leave_other_paths_alone() {
    let server = echo_server().await;
    server.fail_next_on(
        "/send",
        1,
        Fault::Respond(CannedResponse::text(500, "boom")),
    );
    let other = client::send("POST", &format!("{}/token", server.base_url()), &[], "")
        .await
        .unwrap();
    assert_eq!(other.status, 200);
    let scoped = client::send("POST", &format!("{}/send", server.base_url()), &[], "")
        .await
        .unwrap();
    assert_eq!(scoped.status, 500);
    let again = client::send("POST", &format!("{}/send", server.base_url()), &[], "")
        .await
        .unwrap();
    assert_eq!(again.status, 200);
}

#[tokio::test]
async fn disconnect_fault_is_a_transport_error() {
    let server = echo_server().await;
    server.fail_next_with(1, Fault::Disconnect);
    let result = client::send("GET", &format!("{}/", server.base_url()), &[], "").await;
    assert!(
        result.is_err(),
        "expected a transport error, got {result:?}"
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].answered, None);
    assert!(requests[0].scripted);
    // The server keeps serving.
    let ok = client::send("GET", &format!("{}/", server.base_url()), &[], "")
        .await
        .unwrap();
    assert_eq!(ok.status, 200);
}

#[tokio::test]
async fn delay_makes_a_client_time_out() {
    let server = echo_server().await;
    server.set_delay(Some(Duration::from_millis(400)));
    let url = format!("{}/slow", server.base_url());
    let slow = tokio::time::timeout(
        Duration::from_millis(100),
        client::send("GET", &url, &[], ""),
    )
    .await;
    assert!(slow.is_err(), "answered before the delay");
    server.set_delay(None);
    let fast = tokio::time::timeout(
        Duration::from_millis(2000),
        client::send("GET", &url, &[], ""),
    )
    .await;
    assert_eq!(fast.expect("in time").unwrap().status, 200);
}

#[tokio::test]
async fn wait_for_requests_returns_when_enough_arrived_and_times_out_otherwise() {
    let server = echo_server().await;
    let url = format!("{}/later", server.base_url());
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        client::send("POST", &url, &[], "1").await.unwrap();
    });
    let got = server
        .wait_for_requests(1, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    let err = server
        .wait_for_requests(2, Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("expected 2 requests"), "{err}");
}

#[tokio::test]
async fn dropping_the_server_closes_the_port() {
    let server = echo_server().await;
    let url = format!("{}/", server.base_url());
    drop(server);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(client::send("GET", &url, &[], "").await.is_err());
}
