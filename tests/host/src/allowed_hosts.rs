//! `allowed_outbound_hosts`, checked the way Spin 3.6.3 does
//! (`spin-outbound-networking-config`): `scheme://host[:port]`, `*` for any
//! scheme, host or port, `*.domain` subdomains, `a..b` port ranges, and the
//! scheme's well-known port when none is written.

use anyhow::{bail, Context as _};

/// The parsed list of one component (after variable templates are resolved).
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts {
    entries: Vec<Entry>,
}

#[derive(Debug, Clone)]
struct Entry {
    scheme: Option<String>,
    host: HostRule,
    ports: Option<std::ops::Range<u32>>,
}

#[derive(Debug, Clone)]
enum HostRule {
    Any,
    Subdomain(String),
    Literal(String),
}

impl AllowedHosts {
    /// Parses resolved entries; a malformed entry fails the app like Spin.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> anyhow::Result<Self> {
        let entries = entries
            .iter()
            .map(|e| {
                Entry::parse(e.as_ref()).with_context(|| {
                    format!("invalid allowed_outbound_hosts entry {:?}", e.as_ref())
                })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Self { entries })
    }

    /// True if `url` may be reached. A URL without a scheme gets `scheme`
    /// prepended first, as Spin does for Postgres addresses.
    pub fn allows(&self, url: &str, scheme: &str) -> bool {
        let parsed = url::Url::parse(url)
            .ok()
            .filter(|u| u.has_host())
            .or_else(|| url::Url::parse(&format!("{scheme}://{url}")).ok());
        let Some(u) = parsed else { return false };
        let Some(host) = u.host_str() else {
            return false;
        };
        let port = u
            .port()
            .map(u32::from)
            .or_else(|| well_known_port(u.scheme()));
        self.entries
            .iter()
            .any(|e| e.allows(u.scheme(), host, port))
    }
}

impl Entry {
    fn parse(text: &str) -> anyhow::Result<Self> {
        let text = text.trim();
        let Some((scheme, rest)) = text.split_once("://") else {
            bail!("{text:?} does not contain a scheme (e.g., 'http://' or '*://')");
        };
        let (host, port) = rest.rsplit_once(':').unwrap_or((rest, ""));
        let port = port.strip_suffix('/').unwrap_or(port);
        if port.contains('/') || host.trim_end_matches('/').contains('/') {
            bail!("{text:?} has a path but is not allowed to");
        }
        let scheme = match scheme {
            "*" => None,
            s if s.chars().all(char::is_alphabetic) && !s.is_empty() => Some(s.to_owned()),
            s => bail!("invalid allowed host scheme {s:?}"),
        };
        let ports = match port {
            "*" => None,
            "" => {
                let p = scheme
                    .as_deref()
                    .and_then(well_known_port)
                    .with_context(|| format!("no port was provided and the scheme {scheme:?} does not have a known default port number"))?;
                Some(p..p + 1)
            }
            p => Some(parse_ports(p)?),
        };
        let host = host.trim().trim_end_matches('/');
        let host = match host {
            "*" => HostRule::Any,
            h if h.starts_with("*.") => HostRule::Subdomain(h[1..].to_ascii_lowercase()),
            h if h.contains('*') => bail!("wildcards are allowed only as subdomains"),
            "" => bail!("empty host"),
            h => HostRule::Literal(h.to_ascii_lowercase()),
        };
        Ok(Entry {
            scheme,
            host,
            ports,
        })
    }

    fn allows(&self, scheme: &str, host: &str, port: Option<u32>) -> bool {
        let scheme_ok = self.scheme.as_deref().is_none_or(|s| s == scheme);
        let host = host.to_ascii_lowercase();
        let host_ok = match &self.host {
            HostRule::Any => true,
            HostRule::Subdomain(suffix) => host.ends_with(suffix.as_str()),
            HostRule::Literal(l) => *l == host,
        };
        let port_ok = match (&self.ports, port) {
            (None, _) => true,
            (Some(r), Some(p)) => r.contains(&p),
            (Some(_), None) => false,
        };
        scheme_ok && host_ok && port_ok
    }
}

fn parse_ports(p: &str) -> anyhow::Result<std::ops::Range<u32>> {
    if let Some((a, b)) = p.split_once("..") {
        let a: u16 = a
            .parse()
            .with_context(|| format!("port range {p:?} contains non-number"))?;
        let b: u16 = b
            .parse()
            .with_context(|| format!("port range {p:?} contains non-number"))?;
        return Ok(u32::from(a)..u32::from(b));
    }
    let n: u16 = p
        .parse()
        .with_context(|| format!("port {p:?} is not a number"))?;
    Ok(u32::from(n)..u32::from(n) + 1)
}

fn well_known_port(scheme: &str) -> Option<u32> {
    match scheme {
        "postgres" => Some(5432),
        "mysql" => Some(3306),
        "redis" => Some(6379),
        "mqtt" => Some(1883),
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_hosts_ports_and_defaults() {
        let a = AllowedHosts::parse(&[
            "postgres://localhost:5432",
            "http://localhost:3500",
            "https://api.resend.com",
        ])
        .unwrap();
        assert!(a.allows("localhost:5432", "postgres"));
        assert!(!a.allows("localhost:5433", "postgres"));
        assert!(a.allows("http://localhost:3500/v1.0/publish/p/t", "http"));
        assert!(!a.allows("http://localhost:3501/", "http"));
        assert!(a.allows("https://api.resend.com/emails", "https"));
        assert!(!a.allows("http://api.resend.com/emails", "http"));
        assert!(!a.allows("https://evil.example/", "https"));
    }

    #[test]
    fn wildcards_and_ranges() {
        let a =
            AllowedHosts::parse(&["*://*.example.com:8000..8010", "http://127.0.0.1:*"]).unwrap();
        assert!(a.allows("https://x.example.com:8005", "https"));
        assert!(!a.allows("https://x.example.com:8010", "https"));
        assert!(!a.allows("https://example.com:8005", "https"));
        assert!(a.allows("http://127.0.0.1:1234", "http"));
    }

    #[test]
    fn malformed_entries_fail_like_spin() {
        let err = AllowedHosts::parse(&["localhost:5432"]).unwrap_err();
        assert!(format!("{err:#}").contains("does not contain a scheme"));
        assert!(AllowedHosts::parse(&["https://host/path"]).is_err());
        assert!(AllowedHosts::parse(&["ftp://host"]).is_err());
    }
}
