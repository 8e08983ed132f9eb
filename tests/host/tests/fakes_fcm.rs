//! The fake FCM HTTP v1 API and Google OAuth2 token endpoint: JWT bearer
//! verification against the test key pair's public key, message validation,
//! Google's error shapes, and scripted failures.

use component_host::client::{self, HttpResponse};
use component_host::fakes::fcm::oauth::{verify_assertion, Expectations};
use component_host::fakes::fcm::{FakeFcm, TestServiceAccount, FCM_SCOPE};
use component_host::fakes::Fault;
use rsa::pkcs8::DecodePrivateKey as _;
use serde_json::{json, Value};

const PROJECT: &str = "todo-test";
const DEVICE: &str = "dXJhbmRvbXRva2Vu:APA91bH-device_1";

async fn setup() -> (TestServiceAccount, FakeFcm) {
    let account = TestServiceAccount::new(PROJECT);
    let fcm = FakeFcm::start(&account).await.unwrap();
    fcm.register_device(DEVICE);
    (account, fcm)
}

async fn token_request(fcm: &FakeFcm, form: &str) -> HttpResponse {
    client::send(
        "POST",
        &fcm.token_url(),
        &[("content-type", "application/x-www-form-urlencoded")],
        form.to_owned(),
    )
    .await
    .unwrap()
}

fn grant(assertion: &str) -> String {
    format!(
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={assertion}"
    )
}

async fn access_token(account: &TestServiceAccount, fcm: &FakeFcm) -> String {
    let r = token_request(fcm, &grant(&account.assertion(&fcm.token_url()))).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["access_token"].as_str().unwrap().to_owned()
}

async fn send(fcm: &FakeFcm, token: Option<&str>, body: &Value) -> HttpResponse {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("content-type", "application/json")];
    if let Some(auth) = &auth {
        headers.push(("authorization", auth.as_str()));
    }
    client::send(
        "POST",
        &format!("{}/v1/projects/{PROJECT}/messages:send", fcm.base_url()),
        &headers,
        body.to_string(),
    )
    .await
    .unwrap()
}

fn message(token: &str) -> Value {
    json!({"message": {
        "token": token,
        "notification": {"title": "Pay rent", "body": "Due at 10:00"},
        "data": {"task_id": "t-1", "due_at": "2026-12-01T09:00:00Z"},
        "android": {"collapse_key": "r-1", "priority": "high", "ttl": "3600s", "notification": {"tag": "r-1"}},
        "apns": {"headers": {"apns-collapse-id": "r-1"}, "payload": {"aps": {"sound": "default"}}},
    }})
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

// ---- service account and key pair ----

#[tokio::test]
async fn service_account_json_is_a_google_key_file() {
    let (account, fcm) = setup().await;
    let file: Value = serde_json::from_str(&account.json(&fcm.token_url())).unwrap();
    assert_eq!(file["type"], "service_account");
    assert_eq!(file["project_id"], PROJECT);
    assert_eq!(file["client_email"], account.client_email);
    assert_eq!(file["private_key_id"], account.private_key_id);
    assert_eq!(file["token_uri"], fcm.token_url());
    let pem = file["private_key"].as_str().unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    let parsed = rsa::PrivateKey::from_pkcs8_pem(pem).expect("PKCS#8 PEM");
    assert_eq!(parsed.to_public_key(), account.public_key());
    assert_ne!(account.with_wrong_key().public_key(), account.public_key());

    let vars: std::collections::HashMap<_, _> = fcm.spin_variables(&account).into_iter().collect();
    assert_eq!(vars["fcm_project_id"], PROJECT);
    assert_eq!(vars["fcm_api_base"], fcm.base_url());
    assert_eq!(vars["fcm_oauth_base"], fcm.base_url());
    let embedded: Value = serde_json::from_str(&vars["fcm_service_account_json"]).unwrap();
    assert_eq!(embedded, file);
}

// ---- token endpoint ----

#[tokio::test]
async fn correctly_signed_assertion_gets_a_bearer_token() {
    let (account, fcm) = setup().await;
    let r = token_request(&fcm, &grant(&account.assertion(&fcm.token_url()))).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    assert!(body["access_token"].as_str().is_some_and(|t| !t.is_empty()));
    assert_eq!(body["expires_in"], 3599);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!((fcm.token_requests(), fcm.tokens_issued()), (1, 1));
}

#[tokio::test]
async fn assertion_signed_with_another_key_is_rejected() {
    let (account, fcm) = setup().await;
    let r = token_request(
        &fcm,
        &grant(&account.with_wrong_key().assertion(&fcm.token_url())),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
    );
    assert_eq!((fcm.token_requests(), fcm.tokens_issued()), (1, 0));
}

#[tokio::test]
async fn claims_are_checked() {
    let (account, fcm) = setup().await;
    let url = fcm.token_url();
    let base = account.claims(&url, now());
    let with = |field: &str, value: Value| {
        let mut c = base.clone();
        c[field] = value;
        c
    };
    let cases: Vec<(Value, &str)> = vec![
        (
            with("aud", json!("https://oauth2.googleapis.com/token")),
            "invalid_grant",
        ),
        (with("exp", json!(now() - 10)), "invalid_grant"),
        (
            with("iat", json!(now() - 7200)).tap_exp(now() - 3600),
            "invalid_grant",
        ),
        (
            with("exp", json!(now() + 3601)).tap_iat(now()),
            "invalid_grant",
        ),
        (
            with("iat", json!(now() + 3600)).tap_exp(now() + 4000),
            "invalid_grant",
        ),
        (
            with("iss", json!("someone@else.iam.gserviceaccount.com")),
            "invalid_grant",
        ),
        (with("scope", json!("")), "invalid_scope"),
        (
            with("scope", json!("https://example.com/not-a-scope")),
            "invalid_scope",
        ),
    ];
    for (claims, error) in cases {
        let r = token_request(&fcm, &grant(&account.sign_jwt(&claims))).await;
        assert_eq!(r.status, 400, "{claims}: {}", r.text());
        assert_eq!(r.json()["error"], error, "{claims}");
        assert!(r.json()["error_description"].is_string());
    }
    let expired = token_request(
        &fcm,
        &grant(&account.sign_jwt(&with("exp", json!(now() - 10)))),
    )
    .await;
    assert!(expired.json()["error_description"]
        .as_str()
        .unwrap()
        .starts_with("Invalid JWT: Token must be a short-lived token (60 minutes)"));
    assert_eq!(fcm.tokens_issued(), 0);
}

trait TapClaims {
    fn tap_exp(self, exp: i64) -> Self;
    fn tap_iat(self, iat: i64) -> Self;
}

impl TapClaims for Value {
    fn tap_exp(mut self, exp: i64) -> Self {
        self["exp"] = json!(exp);
        self
    }
    fn tap_iat(mut self, iat: i64) -> Self {
        self["iat"] = json!(iat);
        self
    }
}

#[tokio::test]
async fn header_algorithm_and_key_id_are_checked() {
    let (account, fcm) = setup().await;
    let claims = account.claims(&fcm.token_url(), now());
    for header in [
        json!({"alg": "HS256", "typ": "JWT"}),
        json!({"alg": "RS256", "typ": "JWT", "kid": "another-key-id"}),
    ] {
        let r = token_request(
            &fcm,
            &grant(&account.sign_jwt_with_header(&header, &claims)),
        )
        .await;
        assert_eq!(r.status, 400);
        assert_eq!(r.json()["error_description"], "Invalid JWT Signature.");
    }
    // No kid at all is fine.
    let r = token_request(
        &fcm,
        &grant(&account.sign_jwt_with_header(&json!({"alg": "RS256"}), &claims)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
}

#[tokio::test]
async fn malformed_token_requests() {
    let (account, fcm) = setup().await;
    let r = token_request(&fcm, "assertion=x").await;
    assert_eq!(r.json()["error"], "invalid_request");
    let r = token_request(&fcm, "grant_type=client_credentials").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "unsupported_grant_type");
    let r = token_request(
        &fcm,
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer",
    )
    .await;
    assert_eq!(r.json()["error"], "invalid_request");
    let r = token_request(&fcm, &grant("not.a.jwt")).await;
    assert_eq!(
        (r.status, r.json()["error"].clone()),
        (400, json!("invalid_grant"))
    );
    let tampered = {
        let jwt = account.assertion(&fcm.token_url());
        let mut parts: Vec<String> = jwt.split('.').map(str::to_owned).collect();
        let other = account.sign_jwt(&account.claims(&fcm.token_url(), now() - 5));
        parts[1] = other.split('.').nth(1).unwrap().to_owned();
        parts.join(".")
    };
    let r = token_request(&fcm, &grant(&tampered)).await;
    assert_eq!(r.json()["error_description"], "Invalid JWT Signature.");
    assert_eq!(fcm.token_requests(), 5);
}

#[test]
fn verify_assertion_directly() {
    let account = TestServiceAccount::new(PROJECT);
    let public = account.public_key();
    let url = "http://127.0.0.1:1/token";
    let expected = Expectations {
        client_email: &account.client_email,
        private_key_id: &account.private_key_id,
        public_key: &public,
        token_url: url,
    };
    let scopes = verify_assertion(&account.assertion(url), &expected, now()).unwrap();
    assert_eq!(scopes, vec![FCM_SCOPE]);
    // Valid now, but judged an hour and a bit later it has expired.
    assert!(verify_assertion(&account.assertion(url), &expected, now() + 3700).is_err());
}

// ---- messages:send ----

#[tokio::test]
async fn send_to_a_registered_device() {
    let (account, fcm) = setup().await;
    let token = access_token(&account, &fcm).await;
    let r = send(&fcm, Some(&token), &message(DEVICE)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let name = r.json()["name"].as_str().unwrap().to_owned();
    assert!(
        name.starts_with(&format!("projects/{PROJECT}/messages/")),
        "{name}"
    );
    let pushes = fcm.pushes_to(DEVICE);
    assert_eq!(pushes.len(), 1);
    assert_eq!(pushes[0].name, name);
    assert_eq!(pushes[0].data("task_id"), Some("t-1"));
    assert_eq!(pushes[0].message["android"]["collapse_key"], "r-1");
    assert_eq!(pushes[0].access_token, token);
}

#[tokio::test]
async fn send_requires_a_minted_unexpired_token() {
    let (account, fcm) = setup().await;
    let missing = send(&fcm, None, &message(DEVICE)).await;
    assert_eq!(missing.status, 401);
    assert_eq!(missing.json()["error"]["status"], "UNAUTHENTICATED");
    assert_eq!(missing.json()["error"]["code"], 401);
    assert!(missing
        .header("www-authenticate")
        .unwrap()
        .starts_with("Bearer"));

    let forged = send(&fcm, Some("ya29.forged"), &message(DEVICE)).await;
    assert_eq!(forged.status, 401);
    assert_eq!(forged.json()["error"]["status"], "UNAUTHENTICATED");

    let token = access_token(&account, &fcm).await;
    assert_eq!(send(&fcm, Some(&token), &message(DEVICE)).await.status, 200);
    fcm.expire_all_tokens();
    let expired = send(&fcm, Some(&token), &message(DEVICE)).await;
    assert_eq!(expired.status, 401);
    let fresh = access_token(&account, &fcm).await;
    assert_ne!(fresh, token);
    assert_eq!(send(&fcm, Some(&fresh), &message(DEVICE)).await.status, 200);
    assert_eq!(fcm.pushes().len(), 2);
    assert_eq!(fcm.tokens_issued(), 2);
}

#[tokio::test]
async fn unknown_token_is_unregistered_in_googles_exact_shape() {
    let (account, fcm) = setup().await;
    let token = access_token(&account, &fcm).await;
    fcm.unregister_device(DEVICE);
    let r = send(&fcm, Some(&token), &message(DEVICE)).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.json(),
        json!({"error": {
            "code": 404,
            "message": "Requested entity was not found.",
            "status": "NOT_FOUND",
            "details": [{
                "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                "errorCode": "UNREGISTERED"
            }]
        }})
    );
    assert!(fcm.pushes().is_empty());
}

#[tokio::test]
async fn invalid_messages_are_400_invalid_argument() {
    let (account, fcm) = setup().await;
    let token = access_token(&account, &fcm).await;
    let mut two_targets = message(DEVICE);
    two_targets["message"]["topic"] = json!("news");
    let mut no_target = message(DEVICE);
    no_target["message"]
        .as_object_mut()
        .unwrap()
        .remove("token");
    let mut number_data = message(DEVICE);
    number_data["message"]["data"]["attempt"] = json!(2);
    let mut unknown_field = message(DEVICE);
    unknown_field["message"]["priority"] = json!("high");
    let mut bad_ttl = message(DEVICE);
    bad_ttl["message"]["android"]["ttl"] = json!(3600);
    let mut reserved_key = message(DEVICE);
    reserved_key["message"]["data"]["from"] = json!("me");
    let cases = [
        (two_targets, "oneof field 'target' is already set"),
        (no_target, "Recipient of the message is not set."),
        (number_data, "(TYPE_STRING), 2"),
        (unknown_field, "Unknown name \"priority\" at 'message'"),
        (bad_ttl, "message.android.ttl"),
        (reserved_key, "from"),
        (
            message("bad token with spaces"),
            "not a valid FCM registration token",
        ),
        (
            json!({"message": message(DEVICE)["message"], "extra": 1}),
            "Unknown name \"extra\"",
        ),
    ];
    for (body, needle) in cases {
        let r = send(&fcm, Some(&token), &body).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        let error = &r.json()["error"];
        assert_eq!(error["status"], "INVALID_ARGUMENT");
        assert_eq!(error["code"], 400);
        assert!(
            error["message"].as_str().unwrap().contains(needle),
            "{needle:?} not in {}",
            error["message"]
        );
        assert!(error["details"][0]["@type"]
            .as_str()
            .unwrap()
            .starts_with("type.googleapis.com/"));
    }
    let not_json = client::send(
        "POST",
        &format!("{}/v1/projects/{PROJECT}/messages:send", fcm.base_url()),
        &[("authorization", &format!("Bearer {token}"))],
        "{",
    )
    .await
    .unwrap();
    assert_eq!(not_json.status, 400);
    assert!(fcm.pushes().is_empty());
}

#[tokio::test]
async fn data_value_error_names_the_field() {
    let (account, fcm) = setup().await;
    let token = access_token(&account, &fcm).await;
    let body = json!({"message": {"token": DEVICE, "data": {"a": 12}}});
    let r = send(&fcm, Some(&token), &body).await;
    assert_eq!(
        r.json()["error"]["details"][0],
        json!({
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [{
                "field": "message.data[0].value",
                "description": "Invalid value at 'message.data[0].value' (TYPE_STRING), 12"
            }]
        })
    );
}

#[tokio::test]
async fn topic_and_validate_only() {
    let (account, fcm) = setup().await;
    let token = access_token(&account, &fcm).await;
    let dry = json!({"validate_only": true, "message": message(DEVICE)["message"]});
    let r = send(&fcm, Some(&token), &dry).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json()["name"],
        format!("projects/{PROJECT}/messages/fake_message_id")
    );
    assert!(fcm.pushes().is_empty(), "validate_only must not deliver");
    let topic = send(
        &fcm,
        Some(&token),
        &json!({"message": {"topic": "reminders"}}),
    )
    .await;
    assert_eq!(topic.status, 200);
    assert_eq!(fcm.pushes()[0].topic.as_deref(), Some("reminders"));
}

#[tokio::test]
async fn wrong_project_and_insufficient_scope_are_403() {
    let (account, fcm) = setup().await;
    let token = access_token(&account, &fcm).await;
    let r = client::send(
        "POST",
        &format!("{}/v1/projects/other-project/messages:send", fcm.base_url()),
        &[("authorization", &format!("Bearer {token}"))],
        message(DEVICE).to_string(),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["error"]["status"], "PERMISSION_DENIED");

    let mut claims = account.claims(&fcm.token_url(), now());
    claims["scope"] = json!("https://www.googleapis.com/auth/userinfo.email");
    let minted = token_request(&fcm, &grant(&account.sign_jwt(&claims))).await;
    assert_eq!(minted.status, 200, "a valid scope still gets a token");
    let narrow = minted.json()["access_token"].as_str().unwrap().to_owned();
    let r = send(&fcm, Some(&narrow), &message(DEVICE)).await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.json()["error"]["message"],
        "Request had insufficient authentication scopes."
    );
    assert!(fcm.pushes().is_empty());
}

#[tokio::test]
async fn sender_id_mismatch_for_a_foreign_token() {
    let (account, fcm) = setup().await;
    let token = access_token(&account, &fcm).await;
    fcm.register_foreign_device("foreign:token");
    let r = send(&fcm, Some(&token), &message("foreign:token")).await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.json()["error"]["details"][0]["errorCode"],
        "SENDER_ID_MISMATCH"
    );
}

// ---- scripted failures ----

#[tokio::test]
async fn scripted_send_failures_then_success() {
    let (account, fcm) = setup().await;
    let token = access_token(&account, &fcm).await;
    fcm.fail_next_unavailable(1);
    fcm.fail_next_quota_exceeded(1, 30);
    fcm.fail_next_internal(1);
    fcm.fail_next_bad_gateway_html(1);
    fcm.fail_next_sender_id_mismatch(1);
    fcm.fail_next_unauthenticated(1);
    let mut seen = Vec::new();
    for _ in 0..6 {
        let r = send(&fcm, Some(&token), &message(DEVICE)).await;
        let detail = r.json()["error"]["details"][0]["errorCode"]
            .as_str()
            .map(str::to_owned);
        seen.push((
            r.status,
            r.json()["error"]["status"].as_str().map(str::to_owned),
            detail,
            r.header("retry-after").map(str::to_owned),
        ));
    }
    let s = |x: &str| Some(x.to_owned());
    assert_eq!(
        seen,
        vec![
            (503, s("UNAVAILABLE"), s("UNAVAILABLE"), None),
            (429, s("RESOURCE_EXHAUSTED"), s("QUOTA_EXCEEDED"), s("30")),
            (500, s("INTERNAL"), s("INTERNAL"), None),
            (502, None, None, None),
            (403, s("PERMISSION_DENIED"), s("SENDER_ID_MISMATCH"), None),
            (401, s("UNAUTHENTICATED"), None, None),
        ]
    );
    assert!(fcm.pushes().is_empty());
    assert_eq!(send(&fcm, Some(&token), &message(DEVICE)).await.status, 200);
    assert_eq!(fcm.send_attempts().len(), 7);
}

#[tokio::test]
async fn send_failures_do_not_touch_the_token_endpoint_and_vice_versa() {
    let (account, fcm) = setup().await;
    fcm.fail_next_unavailable(1);
    let token = access_token(&account, &fcm).await;
    fcm.fail_next_token_requests(1, Fault::Disconnect);
    assert!(client::send(
        "POST",
        &fcm.token_url(),
        &[],
        grant(&account.assertion(&fcm.token_url()))
    )
    .await
    .is_err());
    assert_eq!(send(&fcm, Some(&token), &message(DEVICE)).await.status, 503);
    assert_eq!(send(&fcm, Some(&token), &message(DEVICE)).await.status, 200);
}

#[tokio::test]
async fn html_bad_gateway_is_not_json() {
    let (account, fcm) = setup().await;
    let token = access_token(&account, &fcm).await;
    fcm.fail_next_bad_gateway_html(1);
    let r = send(&fcm, Some(&token), &message(DEVICE)).await;
    assert_eq!(r.status, 502);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(r.text().contains("Error 502"));
}
