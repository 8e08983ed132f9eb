//! A series in a real time zone: civil occurrences resolved to instants,
//! bounded by UNTIL, strictly increasing.

use jiff::tz::TimeZone;
use jiff::{Timestamp, ZonedDateTime};

use crate::error::SearchError;
use crate::expand::CivilIter;
use crate::rule::{Rule, Until};
use crate::zone::resolve;

/// Occurrences 2, 3, ... of a series whose DTSTART is a given instant.
/// (COUNT is applied by the callers, which know how occurrences are
/// numbered.)
pub(crate) struct Series<'a> {
    civil: CivilIter<'a>,
    tz: &'a TimeZone,
    until: Option<Until>,
    last: Timestamp,
    finished: bool,
}

impl<'a> Series<'a> {
    /// The series of `rule` whose first occurrence is `start`, with the
    /// wall-clock time and date `start` has in `tz`.
    pub(crate) fn new(rule: &'a Rule, tz: &'a TimeZone, start: Timestamp) -> Series<'a> {
        let civil_start = tz.to_datetime(start);
        Series {
            civil: CivilIter::new(rule, civil_start),
            tz,
            until: rule.until,
            last: start,
            finished: false,
        }
    }

    /// The next occurrence, strictly later than the previous one (and than
    /// DTSTART). `Ok(None)`: the series is over (UNTIL passed, the rule
    /// never matches again, or the calendar's range ends).
    pub(crate) fn next_occurrence(&mut self) -> Result<Option<ZonedDateTime>, SearchError> {
        while !self.finished {
            let Some(civil) = self.civil.next_occurrence()? else {
                break;
            };
            let civil_past_until = match self.until {
                Some(Until::Date(date)) => civil.date() > date,
                Some(Until::Floating(until)) => civil > until,
                _ => false,
            };
            if civil_past_until {
                break;
            }
            let Some(zoned) = resolve(self.tz, civil) else {
                break;
            };
            if let Some(Until::Utc(until)) = self.until {
                if zoned.timestamp() > until {
                    break;
                }
            }
            // Two civil dates can resolve to the same instant when a zone
            // skips a whole day (Pacific/Apia, 2011-12-30): keep one.
            if zoned.timestamp() > self.last {
                self.last = zoned.timestamp();
                return Ok(Some(zoned));
            }
        }
        self.finished = true;
        Ok(None)
    }
}
