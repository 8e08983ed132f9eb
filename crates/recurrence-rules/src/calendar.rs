//! Calendar arithmetic the expansion needs: day offsets, month lengths,
//! negative month days and BYDAY ordinals within a month or a year. All of
//! it is total: out-of-range results are `None`, never a panic.

use jiff::civil::{Date, Weekday};
use jiff::Span;

use crate::rule::ByDay;

/// `date + days`, or `None` outside jiff's supported range (years ±9999).
pub(crate) fn add_days(date: Date, days: i64) -> Option<Date> {
    let span = Span::new().try_days(days).ok()?;
    date.checked_add(span).ok()
}

/// Days from `from` forward to the next `to` weekday (0..=6).
pub(crate) fn weekday_distance(from: Weekday, to: Weekday) -> i64 {
    i64::from((to.to_monday_zero_offset() - from.to_monday_zero_offset()).rem_euclid(7))
}

/// Number of days in `year`-`month`, `None` if the month is out of range.
pub(crate) fn days_in_month(year: i16, month: i8) -> Option<i8> {
    Date::new(year, month, 1).ok().map(Date::days_in_month)
}

/// A contiguous run of days (a month or a year) in which BYDAY ordinals
/// such as `2TU` or `-1FR` are counted.
#[derive(Clone, Copy)]
pub(crate) struct Scope {
    first: Date,
    len: i64,
}

impl Scope {
    pub(crate) fn month(year: i16, month: i8) -> Option<Scope> {
        let first = Date::new(year, month, 1).ok()?;
        Some(Scope {
            first,
            len: i64::from(first.days_in_month()),
        })
    }

    pub(crate) fn year(year: i16) -> Option<Scope> {
        let first = Date::new(year, 1, 1).ok()?;
        Some(Scope {
            first,
            len: i64::from(first.days_in_year()),
        })
    }

    /// Appends the dates `entry` selects in this scope.
    pub(crate) fn expand(self, entry: ByDay, out: &mut Vec<Date>) {
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
    pub(crate) fn matches(self, entry: ByDay, date: Date) -> bool {
        if date.weekday() != entry.weekday {
            return false;
        }
        let Some(nth) = entry.nth else {
            return true;
        };
        // Civil days have no DST: always 86 400 s apart.
        let index = self.first.duration_until(date).as_secs() / 86_400;
        if !(0..self.len).contains(&index) {
            return false;
        }
        let forward = index / 7 + 1;
        let backward = -((self.len - 1 - index) / 7 + 1);
        i64::from(nth) == forward || i64::from(nth) == backward
    }
}

/// Resolves a BYMONTHDAY value (negative counts from the end) in a month.
pub(crate) fn month_day(year: i16, month: i8, day: i8) -> Option<Date> {
    let len = days_in_month(year, month)?;
    let day = if day < 0 { len + 1 + day } else { day };
    if day < 1 || day > len {
        return None;
    }
    Date::new(year, month, day).ok()
}

#[cfg(test)]
mod tests;
