//! RFC 5545 expansion in civil (wall-clock) time, without any time zone.
//!
//! The series is a sequence of *periods* (days, weeks, months or years,
//! `INTERVAL` apart). Period `n` is computed directly from DTSTART
//! (`start + n * interval`), never by stepping from the previous occurrence,
//! so a clamped Feb 29 cannot turn a Jan 31 series into "the 29th". Each
//! period yields the dates selected by the BYxxx parts (RFC 5545 §3.3.10
//! "expand"/"limit" table), then BYSETPOS picks among them. Every occurrence
//! has DTSTART's time of day (no BYHOUR/BYMINUTE/BYSECOND).
//!
//! Termination: a rule whose BYxxx parts can never match (`BYMONTH=2;
//! BYMONTHDAY=30`) is detected because the Gregorian calendar repeats every
//! 400 years: after a full cycle of consecutive empty periods the series is
//! over. A hard cap on examined periods bounds the work for absurd inputs.

use jiff::civil::{Date, DateTime, Weekday};
use jiff::Span;

use crate::error::SearchError;
use crate::rule::{ByDay, Frequency, Rule};

/// Most periods one iterator may examine before giving up with an error.
/// A daily rule spanning 2 700 years stays below it; normal calls use a
/// handful.
pub(crate) const MAX_PERIODS: u64 = 1_000_000;

/// Number of periods after which the calendar repeats (400 Gregorian years
/// = 146 097 days = 20 871 weeks = 4 800 months). The sequence of periods
/// visited with any INTERVAL repeats within this many steps, so this many
/// consecutive empty periods prove that no period will ever match again.
fn cycle(freq: Frequency) -> u64 {
    match freq {
        Frequency::Daily => 146_097,
        Frequency::Weekly => 20_871,
        Frequency::Monthly => 4_800,
        Frequency::Yearly => 400,
    }
}

/// `date + days`, or `None` outside jiff's supported range (years ±9999).
pub(crate) fn add_days(date: Date, days: i64) -> Option<Date> {
    let span = Span::new().try_days(days).ok()?;
    date.checked_add(span).ok()
}

/// Days from `from` forward to the next `to` weekday (0..=6).
fn weekday_distance(from: Weekday, to: Weekday) -> i64 {
    i64::from((to.to_monday_zero_offset() - from.to_monday_zero_offset()).rem_euclid(7))
}

/// Number of days in `year`-`month`, `None` if the month is out of range.
fn days_in_month(year: i16, month: i8) -> Option<i8> {
    Date::new(year, month, 1).ok().map(Date::days_in_month)
}

/// A contiguous run of days (a month or a year) in which BYDAY ordinals
/// such as `2TU` or `-1FR` are counted.
#[derive(Clone, Copy)]
struct Scope {
    first: Date,
    len: i64,
}

impl Scope {
    fn month(year: i16, month: i8) -> Option<Scope> {
        let first = Date::new(year, month, 1).ok()?;
        Some(Scope {
            first,
            len: i64::from(first.days_in_month()),
        })
    }

    fn year(year: i16) -> Option<Scope> {
        let first = Date::new(year, 1, 1).ok()?;
        Some(Scope {
            first,
            len: i64::from(first.days_in_year()),
        })
    }

    /// Appends the dates `entry` selects in this scope.
    fn expand(self, entry: ByDay, out: &mut Vec<Date>) {
        let first_offset = weekday_distance(self.first.weekday(), entry.weekday);
        match entry.nth {
            None => {
                let mut offset = first_offset;
                while offset < self.len {
                    out.extend(add_days(self.first, offset));
                    offset += 7;
                }
            }
            Some(nth) => {
                let nth = i64::from(nth);
                let offset = if nth > 0 {
                    first_offset + 7 * (nth - 1)
                } else {
                    let last_offset = first_offset + 7 * ((self.len - 1 - first_offset) / 7);
                    last_offset - 7 * (-nth - 1)
                };
                if (0..self.len).contains(&offset) {
                    out.extend(add_days(self.first, offset));
                }
            }
        }
    }

    /// Whether `date` (inside this scope) is selected by `entry`.
    fn matches(self, entry: ByDay, date: Date) -> bool {
        if date.weekday() != entry.weekday {
            return false;
        }
        let Some(nth) = entry.nth else {
            return true;
        };
        let index = self
            .first
            .until(date)
            .map_or(-1, |span| span.get_days() as i64);
        if !(0..self.len).contains(&index) {
            return false;
        }
        let forward = index / 7 + 1;
        let backward = -((self.len - 1 - index) / 7 + 1);
        i64::from(nth) == forward || i64::from(nth) == backward
    }
}

/// Resolves a BYMONTHDAY value (negative counts from the end) in a month.
fn month_day(year: i16, month: i8, day: i8) -> Option<Date> {
    let len = days_in_month(year, month)?;
    let day = if day < 0 { len + 1 + day } else { day };
    if day < 1 || day > len {
        return None;
    }
    Date::new(year, month, day).ok()
}

/// Iterator state over the civil occurrences of one series.
pub(crate) struct CivilIter<'r> {
    rule: &'r Rule,
    start: DateTime,
    /// Monday-based offset of DTSTART within its `WKST` week.
    week_offset: i64,
    period: u64,
    empty_run: u64,
    pending: std::vec::IntoIter<Date>,
    finished: bool,
}

impl<'r> CivilIter<'r> {
    /// Occurrences of `rule` with DTSTART `start`, strictly after `start`
    /// (DTSTART itself is occurrence 1 by definition and not yielded).
    pub(crate) fn new(rule: &'r Rule, start: DateTime) -> CivilIter<'r> {
        CivilIter {
            rule,
            start,
            week_offset: weekday_distance(rule.week_start, start.weekday()),
            period: 0,
            empty_run: 0,
            pending: Vec::new().into_iter(),
            finished: false,
        }
    }

    /// The next civil occurrence; `Ok(None)` when the series provably has no
    /// more (never matches again, or leaves the year range ±9999).
    pub(crate) fn next_occurrence(&mut self) -> Result<Option<DateTime>, SearchError> {
        loop {
            if let Some(date) = self.pending.next() {
                if date > self.start.date() {
                    return Ok(Some(date.to_datetime(self.start.time())));
                }
                continue;
            }
            if self.finished {
                return Ok(None);
            }
            if self.period >= MAX_PERIODS {
                self.finished = true;
                return Err(SearchError::LimitExceeded {
                    periods: self.period,
                });
            }
            let Some(dates) = self.period_dates(self.period) else {
                self.finished = true;
                return Ok(None);
            };
            self.period += 1;
            if dates.is_empty() {
                self.empty_run += 1;
                if self.empty_run >= cycle(self.rule.freq) {
                    self.finished = true;
                    return Ok(None);
                }
            } else {
                self.empty_run = 0;
            }
            self.pending = dates.into_iter();
        }
    }

    /// The sorted dates of period `n`, after BYSETPOS; `None` when the
    /// period lies outside the supported date range.
    fn period_dates(&self, n: u64) -> Option<Vec<Date>> {
        let step = i64::try_from(n)
            .ok()?
            .checked_mul(i64::from(self.rule.interval))?;
        let mut dates = match self.rule.freq {
            Frequency::Daily => self.daily(step)?,
            Frequency::Weekly => self.weekly(step)?,
            Frequency::Monthly => self.monthly(step)?,
            Frequency::Yearly => self.yearly(step)?,
        };
        dates.sort_unstable();
        dates.dedup();
        Some(self.set_pos(dates))
    }

    fn month_allowed(&self, month: i8) -> bool {
        self.rule.by_month.is_empty() || self.rule.by_month.contains(&month)
    }

    /// BYDAY as a limit, ordinals counted in `scope`.
    fn by_day_allows(&self, scope: Scope, date: Date) -> bool {
        self.rule.by_day.is_empty() || self.rule.by_day.iter().any(|&e| scope.matches(e, date))
    }

    fn daily(&self, step: i64) -> Option<Vec<Date>> {
        let date = add_days(self.start.date(), step)?;
        let rule = self.rule;
        let day_ok = rule.by_month_day.is_empty()
            || rule
                .by_month_day
                .iter()
                .any(|&d| month_day(date.year(), date.month(), d) == Some(date));
        // Ordinals are rejected by the parser for DAILY; the scope is moot.
        let weekday_ok =
            rule.by_day.is_empty() || rule.by_day.iter().any(|e| e.weekday == date.weekday());
        let keep = self.month_allowed(date.month()) && day_ok && weekday_ok;
        Some(if keep { vec![date] } else { Vec::new() })
    }

    fn weekly(&self, step: i64) -> Option<Vec<Date>> {
        let week_start = add_days(self.start.date(), step.checked_mul(7)? - self.week_offset)?;
        let mut dates = Vec::new();
        if self.rule.by_day.is_empty() {
            dates.extend(add_days(week_start, self.week_offset));
        } else {
            for offset in 0..7 {
                if let Some(date) = add_days(week_start, offset) {
                    if self.rule.by_day.iter().any(|e| e.weekday == date.weekday()) {
                        dates.push(date);
                    }
                }
            }
        }
        dates.retain(|d| self.month_allowed(d.month()));
        Some(dates)
    }

    fn monthly(&self, step: i64) -> Option<Vec<Date>> {
        let start = self.start.date();
        let index = i64::from(start.year()) * 12 + i64::from(start.month() - 1) + step;
        let year = i16::try_from(index.div_euclid(12)).ok()?;
        let month = i8::try_from(index.rem_euclid(12) + 1).ok()?;
        let scope = Scope::month(year, month)?;
        if !self.month_allowed(month) {
            return Some(Vec::new());
        }
        Some(self.month_dates(year, month, scope))
    }

    /// The dates of one month for MONTHLY, or for YEARLY with BYMONTH.
    fn month_dates(&self, year: i16, month: i8, ordinal_scope: Scope) -> Vec<Date> {
        let rule = self.rule;
        let start = self.start.date();
        let mut dates = Vec::new();
        if rule.clamp {
            let last = days_in_month(year, month).unwrap_or(28);
            dates.extend(Date::new(year, month, start.day().min(last)).ok());
        } else if !rule.by_month_day.is_empty() {
            dates.extend(
                rule.by_month_day
                    .iter()
                    .filter_map(|&d| month_day(year, month, d)),
            );
            dates.retain(|&d| self.by_day_allows(ordinal_scope, d));
        } else if !rule.by_day.is_empty() {
            if let Some(scope) = Scope::month(year, month) {
                for &entry in &rule.by_day {
                    scope.expand(entry, &mut dates);
                }
            }
        } else {
            dates.extend(Date::new(year, month, start.day()).ok());
        }
        dates
    }

    fn yearly(&self, step: i64) -> Option<Vec<Date>> {
        let rule = self.rule;
        let start = self.start.date();
        let year = i16::try_from(i64::from(start.year()).checked_add(step)?).ok()?;
        let year_scope = Scope::year(year)?;
        let mut dates = Vec::new();
        if rule.clamp {
            let last = days_in_month(year, start.month())?;
            dates.extend(Date::new(year, start.month(), start.day().min(last)).ok());
        } else if !rule.by_month.is_empty() {
            // BYMONTH expands; BYDAY ordinals then count within each month.
            for &month in &rule.by_month {
                if let Some(month_scope) = Scope::month(year, month) {
                    dates.extend(self.month_dates(year, month, month_scope));
                }
            }
        } else if !rule.by_month_day.is_empty() {
            for month in 1..=12 {
                dates.extend(
                    rule.by_month_day
                        .iter()
                        .filter_map(|&d| month_day(year, month, d)),
                );
            }
            dates.retain(|&d| self.by_day_allows(year_scope, d));
        } else if !rule.by_day.is_empty() {
            for &entry in &rule.by_day {
                year_scope.expand(entry, &mut dates);
            }
        } else {
            dates.extend(Date::new(year, start.month(), start.day()).ok());
        }
        Some(dates)
    }

    /// BYSETPOS: 1-based positions in the period's sorted set, negative
    /// from the end.
    fn set_pos(&self, dates: Vec<Date>) -> Vec<Date> {
        if self.rule.by_set_pos.is_empty() {
            return dates;
        }
        let len = dates.len() as i64;
        let mut picked: Vec<Date> = self
            .rule
            .by_set_pos
            .iter()
            .filter_map(|&pos| {
                let pos = i64::from(pos);
                let index = if pos > 0 { pos - 1 } else { len + pos };
                usize::try_from(index)
                    .ok()
                    .and_then(|i| dates.get(i).copied())
            })
            .collect();
        picked.sort_unstable();
        picked.dedup();
        picked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn first_dates(rule: &str, start: Date, n: usize) -> Vec<Date> {
        let rule = Rule::parse(rule).unwrap();
        let mut iter = CivilIter::new(&rule, start.at(9, 0, 0, 0));
        let mut out = Vec::new();
        while out.len() < n {
            match iter.next_occurrence().unwrap() {
                Some(dt) => {
                    assert_eq!(dt.time(), jiff::civil::time(9, 0, 0, 0));
                    out.push(dt.date());
                }
                None => break,
            }
        }
        out
    }

    #[test]
    fn add_days_out_of_range_is_none() {
        assert_eq!(add_days(date(9999, 12, 31), 1), None);
        assert_eq!(add_days(date(2024, 2, 28), 1), Some(date(2024, 2, 29)));
    }

    #[test]
    fn scope_ordinals() {
        // May 2024: Wednesdays are 1, 8, 15, 22, 29; the month has 31 days.
        let may = Scope::month(2024, 5).unwrap();
        let mut out = Vec::new();
        may.expand(
            ByDay {
                nth: Some(-1),
                weekday: Weekday::Wednesday,
            },
            &mut out,
        );
        may.expand(
            ByDay {
                nth: Some(5),
                weekday: Weekday::Wednesday,
            },
            &mut out,
        );
        may.expand(
            ByDay {
                nth: Some(5),
                weekday: Weekday::Tuesday,
            },
            &mut out,
        );
        assert_eq!(out, vec![date(2024, 5, 29), date(2024, 5, 29)]);
        let fifth_wed = ByDay {
            nth: Some(5),
            weekday: Weekday::Wednesday,
        };
        assert!(may.matches(fifth_wed, date(2024, 5, 29)));
        assert!(!may.matches(fifth_wed, date(2024, 5, 22)));
        // 2024 has 366 days; its first Monday is Jan 1, its last Dec 30.
        let year = Scope::year(2024).unwrap();
        let mut out = Vec::new();
        for nth in [1, -1, 53] {
            year.expand(
                ByDay {
                    nth: Some(nth),
                    weekday: Weekday::Monday,
                },
                &mut out,
            );
        }
        assert_eq!(
            out,
            vec![date(2024, 1, 1), date(2024, 12, 30), date(2024, 12, 30)]
        );
    }

    #[test]
    fn rrule_monthly_skips_invalid_dates() {
        assert_eq!(
            first_dates("FREQ=MONTHLY", date(2024, 1, 31), 3),
            vec![date(2024, 3, 31), date(2024, 5, 31), date(2024, 7, 31)]
        );
    }

    #[test]
    fn keyword_monthly_clamps_from_the_anchor() {
        assert_eq!(
            first_dates("monthly", date(2024, 1, 31), 4),
            vec![
                date(2024, 2, 29),
                date(2024, 3, 31),
                date(2024, 4, 30),
                date(2024, 5, 31)
            ]
        );
    }

    #[test]
    fn weekly_interval_uses_wkst_weeks() {
        // RFC 5545 §3.3.10 example: DTSTART 1997-08-05 (Tuesday).
        // WKST=MO -> Aug 5, 10, 19, 24; WKST=SU -> Aug 5, 17, 19, 31.
        let start = date(1997, 8, 5);
        assert_eq!(
            first_dates(
                "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO",
                start,
                3
            ),
            vec![date(1997, 8, 10), date(1997, 8, 19), date(1997, 8, 24)]
        );
        assert_eq!(
            first_dates(
                "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU",
                start,
                3
            ),
            vec![date(1997, 8, 17), date(1997, 8, 19), date(1997, 8, 31)]
        );
    }

    #[test]
    fn yearly_by_month_day_without_by_month_expands_every_month() {
        assert_eq!(
            first_dates("FREQ=YEARLY;BYMONTHDAY=-1", date(2023, 11, 5), 3),
            vec![date(2023, 11, 30), date(2023, 12, 31), date(2024, 1, 31)]
        );
    }

    #[test]
    fn yearly_by_day_ordinal_counts_in_year_or_month() {
        // 20th Monday of the year (RFC example: 1997-05-19, 1998-05-18).
        assert_eq!(
            first_dates("FREQ=YEARLY;BYDAY=20MO", date(1997, 1, 1), 2),
            vec![date(1997, 5, 19), date(1998, 5, 18)]
        );
        // US Thanksgiving: 4th Thursday of November.
        assert_eq!(
            first_dates("FREQ=YEARLY;BYMONTH=11;BYDAY=4TH", date(2024, 1, 1), 2),
            vec![date(2024, 11, 28), date(2025, 11, 27)]
        );
    }

    #[test]
    fn never_matching_rules_end_instead_of_hanging() {
        for rule in [
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
            "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=31",
            "FREQ=DAILY;BYMONTH=4;BYMONTHDAY=31",
            "FREQ=WEEKLY;BYMONTH=2;BYDAY=MO;BYSETPOS=6",
            "FREQ=MONTHLY;BYDAY=6MO",
        ] {
            assert_eq!(first_dates(rule, date(2024, 1, 1), 1), vec![], "{rule}");
        }
    }

    #[test]
    fn series_ends_at_the_end_of_the_calendar() {
        assert_eq!(
            first_dates("FREQ=YEARLY;INTERVAL=5000", date(2024, 6, 1), 5),
            vec![date(7024, 6, 1)]
        );
    }
}
