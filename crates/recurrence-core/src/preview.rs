//! The query of `GET /recurrence/preview?rule=&start=&timezone=&count=`:
//! the next N dates of a rule, for a UI ("next: Tue 3 Dec, Tue 17 Dec").
//! The query is decoded with `form_urlencoded` (percent escapes and `+`),
//! so RRULE text such as `FREQ=WEEKLY;BYDAY=TU` must be percent-encoded by
//! the caller.

use recurrence_rules::{preview, time_zone, to_rfc3339, Rule};
use todo_contract::parse_event_time;
use todo_contract::ApiError;

/// Dates returned when `count` is not given.
const DEFAULT_COUNT: usize = 5;
/// Most dates one call may ask for (docs/CONTRACT.md, "Recurrence rules").
const MAX_COUNT: usize = 100;

/// The first `count` occurrences strictly after `start` (the series'
/// DTSTART) in `timezone`, as RFC 3339 with the zone's offset. Errors are
/// 400s with the contract's codes (`missing_parameter`, `invalid_rule`,
/// `unknown_timezone`, `invalid_start`, `invalid_count`), naming the
/// parameter; a parameter given twice is refused with its own code, as in
/// the subscriber API. `start` follows the events' time rule.
pub fn occurrences(query: &str) -> Result<Vec<String>, ApiError> {
    let params = Params::decode(query);
    let rule_text = params.required("rule", "invalid_rule")?;
    let start_text = params.required("start", "invalid_start")?;
    let rule = Rule::parse(&rule_text).map_err(|e| bad(e.code(), format!("rule: {e}")))?;
    let start = parse_event_time(&start_text).map_err(|why| {
        bad(
            "invalid_start",
            format!("start: {why}; e.g. 2026-12-01T09:00:00+01:00"),
        )
    })?;
    let zone_name = params
        .optional("timezone", "unknown_timezone")?
        .unwrap_or_else(|| "UTC".to_owned());
    let tz = time_zone(&zone_name).map_err(|e| bad(e.code(), format!("timezone: {e}")))?;
    let count = match params.optional("count", "invalid_count")? {
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

fn bad(code: &'static str, message: String) -> ApiError {
    ApiError::bad_request(code, message)
}

/// Decoded query parameters.
struct Params(Vec<(String, String)>);

impl Params {
    fn decode(query: &str) -> Params {
        Params(
            form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// The parameter's value if given once; given twice is refused with
    /// `code`, the parameter's own error code.
    fn optional(&self, name: &str, code: &'static str) -> Result<Option<String>, ApiError> {
        let mut values = self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v);
        let first = values.next().cloned();
        if values.next().is_some() {
            return Err(bad(code, format!("{name} is given more than once")));
        }
        Ok(first)
    }

    /// A parameter that must be given once and non-empty.
    fn required(&self, name: &str, code: &'static str) -> Result<String, ApiError> {
        self.optional(name, code)?
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
mod tests;
