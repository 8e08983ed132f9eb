//! Incoming-request authentication (docs/CONTRACT.md, "Authentication").

use spin_sdk::http::Request;
use subtle::ConstantTimeEq;

/// The header Dapr sends when its sidecar runs with `APP_API_TOKEN`.
pub const TOKEN_HEADER: &str = "dapr-api-token";

/// True when `app_api_token` is empty (auth off) or the request carries it.
/// Compared in constant time so the token cannot be guessed byte by byte.
pub fn is_authorised(req: &Request, app_api_token: &str) -> bool {
    if app_api_token.is_empty() {
        return true;
    }
    let given = req
        .header(TOKEN_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or(&[]);
    given.ct_eq(app_api_token.as_bytes()).into()
}
