//! W3C Trace Context: the `traceparent` a delivery carries (in the
//! CloudEvent envelope or the HTTP header) is forwarded to every outbound
//! call and publish of its handling, but only when it is well formed: the
//! value comes from an untrusted event, and a malformed one (including a
//! header-injection attempt) is dropped silently.

/// `true` for a W3C Trace Context `traceparent` value (version 00 layout;
/// later versions may append fields after the flags).
pub fn is_traceparent(value: &str) -> bool {
    let mut parts = value.split('-');
    let hex = |s: Option<&str>, len: usize| {
        s.is_some_and(|s| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    let version = parts.next();
    hex(version, 2)
        && version != Some("ff")
        && hex(parts.next(), 32)
        && hex(parts.next(), 16)
        && hex(parts.next(), 2)
        && (version == Some("00") && parts.next().is_none() || version != Some("00"))
        && value.bytes().all(|b| (0x21..0x7f).contains(&b))
}

/// The value to forward: `value` trimmed, if it is a valid `traceparent`.
pub fn valid_traceparent(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| is_traceparent(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_values_are_forwarded() {
        let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(valid_traceparent(Some(good)), Some(good));
        assert_eq!(valid_traceparent(Some(&format!(" {good} "))), Some(good));
        assert_eq!(valid_traceparent(None), None);
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\nX-Evil: 1",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-xyz92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert_eq!(valid_traceparent(Some(bad)), None, "{bad}");
        }
    }
}
