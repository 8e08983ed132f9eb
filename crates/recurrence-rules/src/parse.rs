//! Parsing of `recurrence_rule`: the five keywords and RFC 5545 RRULE text.
//!
//! Strict on purpose: anything the engine would not honour exactly (sub-daily
//! frequencies, BYHOUR, BYWEEKNO, ...) is rejected with a message naming the
//! part, instead of being silently ignored and producing surprising dates.

use std::str::FromStr;

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;

use crate::error::{echo, RuleError};
use crate::rule::{ByDay, Frequency, Rule, Until};

impl Rule {
    /// Parses a keyword (`daily`, `weekdays`, `weekly`, `monthly`, `yearly`,
    /// case-insensitive) or RRULE text, optionally prefixed with `RRULE:`.
    ///
    /// Keywords map to RRULEs, except that `monthly`/`yearly` clamp to the
    /// month's last day (docs/CONTRACT.md, "Recurrence rules") where RRULE text skips invalid
    /// dates (RFC 5545). Errors name the offending part.
    pub fn parse(text: &str) -> Result<Rule, RuleError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(RuleError::Empty);
        }
        if let Some(rule) = keyword(text) {
            return Ok(rule);
        }
        let upper = text.to_ascii_uppercase();
        let body = upper.strip_prefix("RRULE:").unwrap_or(&upper);
        if !body.contains('=') {
            return Err(RuleError::UnknownKeyword(echo(text)));
        }
        parse_rrule(body)
    }
}

impl FromStr for Rule {
    type Err = RuleError;

    /// Same as [`Rule::parse`]; lets callers write `text.parse::<Rule>()`.
    fn from_str(text: &str) -> Result<Rule, RuleError> {
        Rule::parse(text)
    }
}

const WORKDAYS: [Weekday; 5] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
];

fn keyword(text: &str) -> Option<Rule> {
    let lower = text.to_ascii_lowercase();
    let rule = match lower.as_str() {
        "daily" => Rule::with_freq(Frequency::Daily),
        "weekly" => Rule::with_freq(Frequency::Weekly),
        "weekdays" => {
            let mut rule = Rule::with_freq(Frequency::Weekly);
            rule.by_day = WORKDAYS
                .iter()
                .map(|&weekday| ByDay { nth: None, weekday })
                .collect();
            rule.by_day.sort();
            rule
        }
        "monthly" | "yearly" => {
            let freq = if lower == "monthly" {
                Frequency::Monthly
            } else {
                Frequency::Yearly
            };
            let mut rule = Rule::with_freq(freq);
            rule.clamp = true;
            rule
        }
        _ => return None,
    };
    Some(rule)
}

/// The parts seen so far, to reject duplicates and check combinations.
#[derive(Default)]
struct Parts {
    freq: Option<Frequency>,
    interval: Option<u32>,
    by_day: Option<Vec<ByDay>>,
    by_month_day: Option<Vec<i8>>,
    by_month: Option<Vec<i8>>,
    by_set_pos: Option<Vec<i16>>,
    count: Option<u32>,
    until: Option<Until>,
    week_start: Option<Weekday>,
}

/// Stores `value` into `slot`, failing if the part was already given.
fn set_once<T>(slot: &mut Option<T>, name: &'static str, value: T) -> Result<(), RuleError> {
    if slot.is_some() {
        return Err(RuleError::DuplicatePart(name.to_owned()));
    }
    *slot = Some(value);
    Ok(())
}

fn parse_rrule(body: &str) -> Result<Rule, RuleError> {
    let mut parts = Parts::default();
    // A trailing `;` is common in hand-written rules and harmless.
    for piece in body.split(';').filter(|piece| !piece.trim().is_empty()) {
        let Some((name, value)) = piece.split_once('=') else {
            return Err(RuleError::MalformedPart(echo(piece)));
        };
        let (name, value) = (name.trim(), value.trim());
        match name {
            "FREQ" => set_once(&mut parts.freq, "FREQ", freq(value)?)?,
            "INTERVAL" => set_once(
                &mut parts.interval,
                "INTERVAL",
                positive("INTERVAL", value)?,
            )?,
            "COUNT" => set_once(&mut parts.count, "COUNT", positive("COUNT", value)?)?,
            "UNTIL" => set_once(&mut parts.until, "UNTIL", until(value)?)?,
            "WKST" => set_once(&mut parts.week_start, "WKST", weekday("WKST", value)?)?,
            "BYDAY" => set_once(&mut parts.by_day, "BYDAY", list(value, "BYDAY", by_day)?)?,
            "BYMONTHDAY" => {
                let days = list(value, "BYMONTHDAY", |v| signed(v, "BYMONTHDAY", 31))?;
                let days = days.into_iter().map(|d| d as i8).collect();
                set_once(&mut parts.by_month_day, "BYMONTHDAY", days)?
            }
            "BYMONTH" => {
                let months = list(value, "BYMONTH", month)?;
                set_once(&mut parts.by_month, "BYMONTH", months)?
            }
            "BYSETPOS" => {
                let positions = list(value, "BYSETPOS", |v| signed(v, "BYSETPOS", 366))?;
                set_once(&mut parts.by_set_pos, "BYSETPOS", positions)?
            }
            "BYHOUR" | "BYMINUTE" | "BYSECOND" | "BYYEARDAY" | "BYWEEKNO" | "RSCALE" | "SKIP" => {
                return Err(RuleError::UnsupportedPart(name.to_owned()))
            }
            _ => return Err(RuleError::UnknownPart(echo(name))),
        }
    }
    build(parts)
}

/// Checks the combinations RFC 5545 forbids or this engine cannot honour.
fn build(parts: Parts) -> Result<Rule, RuleError> {
    let freq = parts.freq.ok_or(RuleError::MissingFreq)?;
    let mut rule = Rule::with_freq(freq);
    rule.interval = parts.interval.unwrap_or(1);
    rule.week_start = parts.week_start.unwrap_or(Weekday::Monday);
    if parts.count.is_some() && parts.until.is_some() {
        return Err(RuleError::Conflict {
            part: "UNTIL",
            reason: "COUNT and UNTIL cannot both be given",
        });
    }
    rule.count = parts.count;
    rule.until = parts.until;
    if let Some(days) = parts.by_day {
        let has_ordinal = days.iter().any(|d| d.nth.is_some());
        if has_ordinal && matches!(freq, Frequency::Daily | Frequency::Weekly) {
            return Err(RuleError::Conflict {
                part: "BYDAY",
                reason: "ordinals such as 2TU need FREQ=MONTHLY or FREQ=YEARLY",
            });
        }
        rule.by_day = days;
    }
    if let Some(days) = parts.by_month_day {
        if freq == Frequency::Weekly {
            return Err(RuleError::Conflict {
                part: "BYMONTHDAY",
                reason: "not allowed with FREQ=WEEKLY",
            });
        }
        rule.by_month_day = days;
    }
    rule.by_month = parts.by_month.unwrap_or_default();
    if let Some(positions) = parts.by_set_pos {
        if rule.by_day.is_empty() && rule.by_month_day.is_empty() && rule.by_month.is_empty() {
            return Err(RuleError::Conflict {
                part: "BYSETPOS",
                reason: "needs another BYxxx part (BYDAY, BYMONTHDAY or BYMONTH)",
            });
        }
        rule.by_set_pos = positions;
    }
    Ok(rule)
}

/// Parses a comma-separated list; sorted and deduplicated so that the work
/// per period stays bounded whatever the input length.
fn list<T: Ord>(
    value: &str,
    part: &'static str,
    item: impl Fn(&str) -> Result<T, RuleError>,
) -> Result<Vec<T>, RuleError> {
    let mut items = value
        .split(',')
        .map(|v| item(v.trim()))
        .collect::<Result<Vec<T>, RuleError>>()?;
    if items.is_empty() {
        return Err(invalid(part, value, "empty list"));
    }
    items.sort();
    items.dedup();
    Ok(items)
}

fn invalid(part: &'static str, value: &str, reason: &'static str) -> RuleError {
    RuleError::InvalidValue {
        part,
        value: echo(value),
        reason,
    }
}

fn freq(value: &str) -> Result<Frequency, RuleError> {
    match value {
        "DAILY" => Ok(Frequency::Daily),
        "WEEKLY" => Ok(Frequency::Weekly),
        "MONTHLY" => Ok(Frequency::Monthly),
        "YEARLY" => Ok(Frequency::Yearly),
        "HOURLY" | "MINUTELY" | "SECONDLY" => Err(invalid(
            "FREQ",
            value,
            "sub-daily frequencies are not supported",
        )),
        _ => Err(invalid(
            "FREQ",
            value,
            "expected DAILY, WEEKLY, MONTHLY or YEARLY",
        )),
    }
}

/// Only ASCII digits (no sign, no `+`), like the RFC 5545 grammar.
fn digits(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit())
}

fn positive(part: &'static str, value: &str) -> Result<u32, RuleError> {
    match value.parse::<u32>() {
        Ok(n) if n >= 1 && digits(value) => Ok(n),
        _ => Err(invalid(
            part,
            value,
            "expected a whole number from 1 to 4294967295",
        )),
    }
}

/// A non-zero integer with an optional sign and magnitude at most `max`.
fn signed(value: &str, part: &'static str, max: i16) -> Result<i16, RuleError> {
    let (negative, magnitude) = match value.as_bytes().first() {
        Some(b'-') => (true, &value[1..]),
        Some(b'+') => (false, &value[1..]),
        _ => (false, value),
    };
    let reason = if max == 31 {
        "expected 1..31 or -31..-1"
    } else {
        "expected 1..366 or -366..-1"
    };
    if !digits(magnitude) || magnitude.len() > 3 {
        return Err(invalid(part, value, reason));
    }
    match magnitude.parse::<i16>() {
        Ok(n) if (1..=max).contains(&n) => Ok(if negative { -n } else { n }),
        _ => Err(invalid(part, value, reason)),
    }
}

fn month(value: &str) -> Result<i8, RuleError> {
    match value.parse::<i8>() {
        Ok(m) if (1..=12).contains(&m) && digits(value) => Ok(m),
        _ => Err(invalid("BYMONTH", value, "expected 1..12")),
    }
}

fn weekday(part: &'static str, value: &str) -> Result<Weekday, RuleError> {
    Ok(match value {
        "MO" => Weekday::Monday,
        "TU" => Weekday::Tuesday,
        "WE" => Weekday::Wednesday,
        "TH" => Weekday::Thursday,
        "FR" => Weekday::Friday,
        "SA" => Weekday::Saturday,
        "SU" => Weekday::Sunday,
        _ => {
            return Err(invalid(
                part,
                value,
                "expected MO, TU, WE, TH, FR, SA or SU",
            ))
        }
    })
}

/// `MO`, `2TU`, `+3WE`, `-1FR`: ordinal 1..53 (RFC 5545 grammar).
fn by_day(value: &str) -> Result<ByDay, RuleError> {
    let reason = "expected a weekday (MO..SU) with an optional ordinal such as 2TU or -1FR";
    let split = value.len().saturating_sub(2);
    if !value.is_char_boundary(split) {
        return Err(invalid("BYDAY", value, reason));
    }
    let (ordinal, day) = value.split_at(split);
    let weekday = weekday("BYDAY", day).map_err(|_| invalid("BYDAY", value, reason))?;
    if ordinal.is_empty() {
        return Ok(ByDay { nth: None, weekday });
    }
    let nth = signed(ordinal, "BYDAY", 366).map_err(|_| invalid("BYDAY", value, reason))?;
    if nth.abs() > 53 {
        return Err(invalid(
            "BYDAY",
            value,
            "ordinal must be within 1..53 or -53..-1",
        ));
    }
    // In range by the check above.
    let nth = nth as i8;
    Ok(ByDay {
        nth: Some(nth),
        weekday,
    })
}

/// `YYYYMMDD`, `YYYYMMDDTHHMMSS` (floating) or `YYYYMMDDTHHMMSSZ` (UTC).
fn until(value: &str) -> Result<Until, RuleError> {
    let bad = || invalid("UNTIL", value, "expected YYYYMMDD or YYYYMMDDTHHMMSS[Z]");
    let (date_part, rest) = match value.split_once('T') {
        Some((d, r)) => (d, Some(r)),
        None => (value, None),
    };
    if date_part.len() != 8 || !digits(date_part) {
        return Err(bad());
    }
    let num = |s: &str| s.parse::<i16>().map_err(|_| bad());
    let date = Date::new(
        num(&date_part[0..4])?,
        num(&date_part[4..6])? as i8,
        num(&date_part[6..8])? as i8,
    )
    .map_err(|_| bad())?;
    let Some(rest) = rest else {
        return Ok(Until::Date(date));
    };
    let (time_part, utc) = match rest.strip_suffix('Z') {
        Some(t) => (t, true),
        None => (rest, false),
    };
    if time_part.len() != 6 || !digits(time_part) {
        return Err(bad());
    }
    let time = Time::new(
        num(&time_part[0..2])? as i8,
        num(&time_part[2..4])? as i8,
        num(&time_part[4..6])? as i8,
        0,
    )
    .map_err(|_| bad())?;
    let datetime = DateTime::from_parts(date, time);
    if !utc {
        return Ok(Until::Floating(datetime));
    }
    let instant = TimeZone::UTC.to_timestamp(datetime).map_err(|_| bad())?;
    Ok(Until::Utc(instant))
}

#[cfg(test)]
mod tests;
