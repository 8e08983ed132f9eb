//! Reads the `host:port` out of a libpq connection string, to compare it
//! with `database_host` (the allow-list entry): a mismatch would otherwise
//! surface only as an opaque "not permitted" on every query.

/// `host:port` of a `postgres://` URL or a `key=value` string; the port
/// defaults to 5432. `None` when no TCP host is given.
pub fn host_port(url: &str) -> Option<String> {
    let url = url.trim();
    let (host, port) = if let Some(rest) = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
    {
        let authority = rest.split(['/', '?']).next().unwrap_or("");
        let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let hostport = hostport.split(',').next().unwrap_or("");
        split_host_port(hostport)
    } else {
        let mut host = None;
        let mut port = None;
        for pair in url.split_whitespace() {
            match pair.split_once('=') {
                Some(("host", v)) => host = Some(v.trim_matches('\'').to_owned()),
                Some(("port", v)) => port = Some(v.trim_matches('\'').to_owned()),
                _ => {}
            }
        }
        (host?, port)
    };
    if host.is_empty() || host.starts_with('/') {
        return None;
    }
    Some(format!("{host}:{}", port.unwrap_or_else(|| "5432".into())))
}

fn split_host_port(hostport: &str) -> (String, Option<String>) {
    if let Some(rest) = hostport.strip_prefix('[') {
        if let Some((h, p)) = rest.split_once(']') {
            return (h.to_owned(), p.strip_prefix(':').map(str::to_owned));
        }
    }
    match hostport.rsplit_once(':') {
        Some((h, p)) => (h.to_owned(), Some(p.to_owned())),
        None => (hostport.to_owned(), None),
    }
}

/// Compares two `host:port` strings, treating a missing port as 5432 and
/// host names case-insensitively.
pub fn same_host(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        let s = s.trim().to_ascii_lowercase();
        if s.rsplit_once(':')
            .is_some_and(|(_, p)| p.chars().all(|c| c.is_ascii_digit()))
        {
            s
        } else {
            format!("{s}:5432")
        }
    };
    norm(a) == norm(b)
}

#[cfg(test)]
mod tests;
