//! `GET /recurrence/preview?rule=&start=&timezone=&count=`: the next N
//! dates of a rule, for a UI ("next: Tue 3 Dec, Tue 17 Dec"). The query is
//! decoded with `form_urlencoded` (percent escapes and `+`), so RRULE text
//! such as `FREQ=WEEKLY;BYDAY=TU` must be percent-encoded by the caller.

use component_kit::respond;
use recurrence_rules::jiff::Timestamp;
use recurrence_rules::{preview, time_zone, to_rfc3339, Rule};
use spin_sdk::http::{Request, Response};

/// Dates returned when `count` is not given.
const DEFAULT_COUNT: usize = 5;
/// Most dates one call may ask for (docs/CONTRACT.md, "Recurrence rules").
const MAX_COUNT: usize = 100;

/// A 400 answer: the contract's error code and a sentence naming the
/// offending parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRequest {
    /// `missing_parameter`, `invalid_rule`, `unknown_timezone`,
    /// `invalid_start` or `invalid_count`.
    pub code: &'static str,
    /// What is wrong, naming the parameter.
    pub message: String,
}

/// Answers the route: 200 `{"occurrences": [...]}` or 400 with the error.
pub fn handle(req: &Request) -> Response {
    match occurrences(req.query()) {
        Ok(dates) => respond::json(200, &serde_json::json!({ "occurrences": dates })),
        Err(e) => respond::error(400, e.code, e.message),
    }
}

/// The first `count` occurrences strictly after `start` (the series'
/// DTSTART) in `timezone`, as RFC 3339 with the zone's offset.
pub fn occurrences(query: &str) -> Result<Vec<String>, BadRequest> {
    let params = Params::decode(query);
    let rule_text = params.required("rule")?;
    let start_text = params.required("start")?;
    let rule = Rule::parse(&rule_text).map_err(|e| bad(e.code(), format!("rule: {e}")))?;
    let start = start_text.parse::<Timestamp>().map_err(|_| {
        bad(
            "invalid_start",
            "start: must be an RFC 3339 time with an offset, e.g. 2026-12-01T09:00:00+01:00".into(),
        )
    })?;
    let zone_name = params.get("timezone").unwrap_or_else(|| "UTC".to_owned());
    let tz = time_zone(&zone_name).map_err(|e| bad(e.code(), format!("timezone: {e}")))?;
    let count = match params.get("count") {
        None => DEFAULT_COUNT,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_COUNT).contains(n))
            .ok_or_else(|| {
                bad(
                    "invalid_count",
                    format!("count: must be an integer from 1 to {MAX_COUNT}"),
                )
            })?,
    };
    let dates =
        preview(&rule, start, &tz, count).map_err(|e| bad(e.code(), format!("rule: {e}")))?;
    Ok(dates.iter().map(to_rfc3339).collect())
}

fn bad(code: &'static str, message: String) -> BadRequest {
    BadRequest { code, message }
}

/// Decoded query parameters; the first of repeated names wins.
struct Params(Vec<(String, String)>);

impl Params {
    fn decode(query: &str) -> Params {
        Params(
            form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        )
    }

    fn get(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    /// A parameter that must be given and non-empty.
    fn required(&self, name: &str) -> Result<String, BadRequest> {
        self.get(name)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| {
                bad(
                    "missing_parameter",
                    format!("query parameter {name} is required"),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(query: &str) -> &'static str {
        occurrences(query).expect_err("rejected").code
    }

    #[test]
    fn decodes_percent_and_plus_and_defaults_to_utc_and_five() {
        let got = occurrences("rule=FREQ%3DMONTHLY%3BBYDAY%3D-1FR&start=2026-01-01T09:00:00%2B01:00&timezone=Europe%2FBerlin&count=2")
            .expect("valid");
        assert_eq!(
            got,
            ["2026-01-30T09:00:00+01:00", "2026-02-27T09:00:00+01:00"]
        );
        let got = occurrences("rule=+daily+&start=2026-01-01T09:00:00Z").expect("valid");
        assert_eq!(got.len(), 5);
        assert_eq!(
            got.first().map(String::as_str),
            Some("2026-01-02T09:00:00+00:00")
        );
    }

    #[test]
    fn each_problem_has_its_code_and_names_the_parameter() {
        assert_eq!(code("start=2026-01-01T09:00:00Z"), "missing_parameter");
        assert_eq!(code("rule=daily"), "missing_parameter");
        assert_eq!(
            code("rule=&start=2026-01-01T09:00:00Z"),
            "missing_parameter"
        );
        assert_eq!(
            code("rule=hourly&start=2026-01-01T09:00:00Z"),
            "invalid_rule"
        );
        assert_eq!(code("rule=daily&start=tomorrow"), "invalid_start");
        assert_eq!(
            code("rule=daily&start=2026-01-01T09:00:00"),
            "invalid_start"
        );
        assert_eq!(
            code("rule=daily&start=2026-01-01T09:00:00Z&timezone=Mars%2FBase"),
            "unknown_timezone"
        );
        for count in ["0", "101", "-1", "x", "", "1.5"] {
            let q = format!("rule=daily&start=2026-01-01T09:00:00Z&count={count}");
            assert_eq!(code(&q), "invalid_count", "{count}");
        }
        let e = occurrences("rule=daily&start=2026-01-01T09:00:00Z&count=500").expect_err("bad");
        assert!(e.message.contains("count"), "{}", e.message);
        let e = occurrences("rule=FREQ%3DDAILY%3BBYHOUR%3D9&start=2026-01-01T09:00:00Z")
            .expect_err("bad");
        assert!(e.message.contains("BYHOUR"), "{}", e.message);
        assert!(occurrences("rule=daily&start=2026-01-01T09:00:00Z&count=100").is_ok());
    }

    #[test]
    fn garbage_never_panics() {
        for q in [
            "",
            "&&&",
            "%",
            "%ZZ",
            "rule=%FF%FE&start=%00",
            "count=99999999999999999999999",
        ] {
            let _ = occurrences(q);
        }
        let far = occurrences("rule=yearly&start=9999-06-01T00:00:00Z&count=100").expect("valid");
        assert!(far.is_empty());
    }
}
