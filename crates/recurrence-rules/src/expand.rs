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

use jiff::civil::{Date, DateTime};

use crate::calendar::{add_days, days_in_month, month_day, weekday_distance, Scope};

use crate::error::SearchError;
use crate::rule::{Frequency, Rule};

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
mod tests;
