//! Requests to the sidecar's publish API (`/v1.0/publish/{pubsub}/{topic}`),
//! described with the `http` crate's types like every outbound call (the
//! caller adds the `traceparent` it continues and sends it with a deadline).

/// What identifies a published event to its consumers.
#[derive(Debug, Clone, Copy)]
pub struct OutgoingEvent<'a> {
    /// Dapr pub/sub component name.
    pub pubsub: &'a str,
    /// Destination topic.
    pub topic: &'a str,
    /// CloudEvent id: deterministic, so consumers can de-duplicate retries.
    pub id: &'a str,
    /// CloudEvent type, e.g. `task.created`.
    pub event_type: &'a str,
}

/// The publish call of the JSON `payload` for a sidecar on `localhost:{port}`; `api_token` is
/// sent as `dapr-api-token` when non-empty. Fails only for a port or token
/// an HTTP stack refuses (a deployment error, never the event's).
pub fn publish_request(
    port: &str,
    event: OutgoingEvent<'_>,
    payload: Vec<u8>,
    api_token: &str,
) -> Result<http::Request<Vec<u8>>, http::Error> {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let url = format!(
        "http://localhost:{port}/v1.0/publish/{}/{}?metadata.cloudevent.id={}&metadata.cloudevent.type={}",
        enc(event.pubsub),
        enc(event.topic),
        enc(event.id),
        enc(event.event_type),
    );
    let mut request = http::Request::post(url)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(payload)?;
    if !api_token.is_empty() {
        let mut token = http::HeaderValue::try_from(api_token)?;
        token.set_sensitive(true);
        request.headers_mut().insert("dapr-api-token", token);
    }
    Ok(request)
}

/// Dapr answers 204 on success; anything else is a transient fault.
pub fn publish_succeeded(status: u16) -> bool {
    status == 204
}

#[cfg(test)]
mod tests;
