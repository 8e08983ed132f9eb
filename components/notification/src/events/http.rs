//! Performs the provider calls described by `notification-delivery`, with a
//! deadline.
//!
//! Spin's `send` has no timeout of its own, and Dapr gives a delivery 30 s
//! before it redelivers: a hung relay must become a transient failure
//! (RETRY) well before that, not a handler still blocked when the
//! redelivery arrives.

use std::time::Duration;

use futures::future::{select, Either};
use notification_delivery::{Method, OutboundRequest, ProviderResponse};
use spin_sdk::http::{Request, Response};

use super::deadline::Deadline;

/// Deadline of one provider call (relay, FCM send, token endpoint).
pub const PROVIDER_TIMEOUT: Duration = Duration::from_secs(8);

/// Sends `request`; `Err` is a transport failure (refused, denied, timed
/// out) described without secrets: provider URLs and error codes only.
pub async fn call(request: OutboundRequest) -> Result<ProviderResponse, String> {
    let url_host = host_of(&request.url).to_owned();
    let mut builder = Request::builder();
    builder.method(match request.method {
        Method::Post => spin_sdk::http::Method::Post,
    });
    builder.uri(request.url);
    for (name, value) in request.headers {
        builder.header(name, value);
    }
    let outgoing = builder.body(request.body).build();
    let send = Box::pin(spin_sdk::http::send::<_, Response>(outgoing));
    match select(send, Deadline::after(PROVIDER_TIMEOUT)).await {
        Either::Left((Ok(response), _)) => Ok(ProviderResponse {
            status: *response.status(),
            headers: response
                .headers()
                .map(|(name, value)| (name.to_owned(), value.as_str().unwrap_or("").to_owned()))
                .collect(),
            body: response.into_body(),
        }),
        Either::Left((Err(e), _)) => Err(format!("request to {url_host} failed: {e}")),
        Either::Right(_) => Err(format!(
            "request to {url_host} timed out after {}s",
            PROVIDER_TIMEOUT.as_secs()
        )),
    }
}

/// `scheme://host[:port]` of a URL, for error messages (paths carry ids).
fn host_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url
        .get(after_scheme..)
        .and_then(|rest| rest.find('/'))
        .map_or(url.len(), |i| after_scheme + i);
    url.get(..end).unwrap_or(url)
}

#[cfg(test)]
mod tests {
    use super::host_of;

    #[test]
    fn host_of_urls() {
        assert_eq!(
            host_of("https://api.resend.com/emails"),
            "https://api.resend.com"
        );
        assert_eq!(
            host_of("http://127.0.0.1:80/v1/projects/p/messages:send"),
            "http://127.0.0.1:80"
        );
        assert_eq!(host_of("weird"), "weird");
    }
}
