//! A test service account: an RSA key pair the tests generate, and the
//! Google service-account key file (JSON) holding its private half, so the
//! component signs real RS256 JWTs that the fake token endpoint verifies with
//! the public half.
//!
//! 2048-bit keys take a noticeable moment to generate, so each process makes
//! at most two (the account's, and a second one for "signed with the wrong
//! key" tests), once, in a `OnceLock`.

use std::sync::OnceLock;

use base64ct::{Base64UrlUnpadded, Encoding as _};
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{EncodePrivateKey as _, LineEnding};
use rsa::sha2::Sha256;
use rsa::signature::{SignatureEncoding as _, Signer as _};
use rsa::{PrivateKey, PublicKey};
use serde_json::{json, Value};

/// The OAuth2 scope FCM HTTP v1 requires.
pub const FCM_SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";

static PRIMARY: OnceLock<PrivateKey> = OnceLock::new();
static SECONDARY: OnceLock<PrivateKey> = OnceLock::new();

fn generate() -> PrivateKey {
    PrivateKey::new(&mut getrandom::SysRng, 2048).expect("generating a 2048-bit RSA key")
}

/// A service account of a test Firebase project.
#[derive(Clone)]
pub struct TestServiceAccount {
    /// `project_id` (also the FCM project in the send URL).
    pub project_id: String,
    /// `client_email`: the JWT `iss`.
    pub client_email: String,
    /// `private_key_id`: the JWT header `kid`.
    pub private_key_id: String,
    key: PrivateKey,
}

impl std::fmt::Debug for TestServiceAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServiceAccount")
            .field("project_id", &self.project_id)
            .field("client_email", &self.client_email)
            .field("private_key_id", &self.private_key_id)
            .finish_non_exhaustive()
    }
}

impl TestServiceAccount {
    /// The account `fcm-sender@{project_id}.iam.gserviceaccount.com`, with the
    /// process-wide test key.
    pub fn new(project_id: &str) -> Self {
        Self {
            project_id: project_id.to_owned(),
            client_email: format!("fcm-sender@{project_id}.iam.gserviceaccount.com"),
            private_key_id: "0123456789abcdef0123456789abcdef01234567".to_owned(),
            key: PRIMARY.get_or_init(generate).clone(),
        }
    }

    /// The same account (email, key id) holding a different private key, as
    /// an attacker or a stale key file would: its JWTs must be rejected.
    pub fn with_wrong_key(&self) -> Self {
        Self {
            key: SECONDARY.get_or_init(generate).clone(),
            ..self.clone()
        }
    }

    /// The public half, which the fake token endpoint verifies against.
    pub fn public_key(&self) -> PublicKey {
        self.key.to_public_key()
    }

    /// The private key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), like
    /// Google's key files.
    pub fn private_key_pem(&self) -> String {
        self.key
            .to_pkcs8_pem(LineEnding::LF)
            .expect("encoding the key as PKCS#8")
            .to_string()
    }

    /// The service-account key file, as downloaded from the Google Cloud
    /// console, with `token_uri` pointing at the fake token endpoint.
    pub fn json(&self, token_uri: &str) -> String {
        json!({
            "type": "service_account",
            "project_id": self.project_id,
            "private_key_id": self.private_key_id,
            "private_key": self.private_key_pem(),
            "client_email": self.client_email,
            "client_id": "100000000000000000001",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": format!(
                "https://www.googleapis.com/robot/v1/metadata/x509/{}",
                self.client_email.replace('@', "%40")
            ),
            "universe_domain": "googleapis.com",
        })
        .to_string()
    }

    /// Signs `claims` as an RS256 JWT with header
    /// `{"alg": "RS256", "typ": "JWT", "kid": private_key_id}`.
    pub fn sign_jwt(&self, claims: &Value) -> String {
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": self.private_key_id});
        self.sign_jwt_with_header(&header, claims)
    }

    /// Signs `claims` with RS256 under an arbitrary header.
    pub fn sign_jwt_with_header(&self, header: &Value, claims: &Value) -> String {
        let signing_input = format!(
            "{}.{}",
            Base64UrlUnpadded::encode_string(header.to_string().as_bytes()),
            Base64UrlUnpadded::encode_string(claims.to_string().as_bytes())
        );
        let signer = SigningKey::<Sha256>::new(self.key.clone());
        let signature = signer.sign(signing_input.as_bytes()).to_bytes();
        format!(
            "{signing_input}.{}",
            Base64UrlUnpadded::encode_string(&signature)
        )
    }

    /// The claims Google documents for a service-account token request,
    /// issued at `iat` (Unix seconds), valid one hour.
    pub fn claims(&self, token_uri: &str, iat: i64) -> Value {
        json!({
            "iss": self.client_email,
            "scope": FCM_SCOPE,
            "aud": token_uri,
            "iat": iat,
            "exp": iat + 3600,
        })
    }

    /// A correctly signed assertion for `token_uri`, issued now.
    pub fn assertion(&self, token_uri: &str) -> String {
        self.sign_jwt(&self.claims(token_uri, chrono::Utc::now().timestamp()))
    }
}
