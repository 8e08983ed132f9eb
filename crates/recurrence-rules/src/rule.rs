//! The parsed form of a `recurrence_rule`. Parsing lives in `parse.rs`,
//! expansion in `expand.rs`; this module only holds the data they share.

use jiff::civil::{Date, DateTime, Weekday};
use jiff::Timestamp;

/// The supported RFC 5545 `FREQ` values. Sub-daily frequencies are rejected
/// by the parser: a to-do item repeating every few minutes is not a use case,
/// and excluding them keeps every occurrence at DTSTART's wall-clock time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    /// One period per day.
    Daily,
    /// One period per week (weeks start on `WKST`).
    Weekly,
    /// One period per calendar month.
    Monthly,
    /// One period per calendar year.
    Yearly,
}

/// One `BYDAY` entry: a weekday, optionally with an ordinal (`2TU`, `-1FR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ByDay {
    /// `None` = every such weekday in the scope; `Some(n)` = the n-th
    /// (negative: from the end) within the month or year.
    pub(crate) nth: Option<i8>,
    pub(crate) weekday: Weekday,
}

impl ByDay {
    fn key(self) -> (Option<i8>, i8) {
        (self.nth, self.weekday.to_monday_zero_offset())
    }
}

/// Ordered only so that parsed lists can be sorted and deduplicated.
impl Ord for ByDay {
    fn cmp(&self, other: &ByDay) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

impl PartialOrd for ByDay {
    fn partial_cmp(&self, other: &ByDay) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// The `UNTIL` bound in the form it was written, so it can be compared the
/// way RFC 5545 means it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Until {
    /// `UNTIL=20241231`: inclusive through that civil date in the task's zone.
    Date(Date),
    /// `UNTIL=20241231T090000` (floating): civil time in the task's zone.
    Floating(DateTime),
    /// `UNTIL=20241231T090000Z`: an absolute instant.
    Utc(Timestamp),
}

/// A parsed, validated recurrence rule (keyword or RRULE text).
///
/// Obtain one with [`Rule::parse`] or `str::parse`. A `Rule` is independent
/// of any time zone or start date, so it can be parsed once and reused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub(crate) freq: Frequency,
    pub(crate) interval: u32,
    /// Sorted, deduplicated.
    pub(crate) by_day: Vec<ByDay>,
    /// Sorted, deduplicated; never 0; within -31..=31.
    pub(crate) by_month_day: Vec<i8>,
    /// Sorted, deduplicated; within 1..=12.
    pub(crate) by_month: Vec<i8>,
    /// Sorted, deduplicated; never 0; within -366..=366.
    pub(crate) by_set_pos: Vec<i16>,
    pub(crate) count: Option<u32>,
    pub(crate) until: Option<Until>,
    pub(crate) week_start: Weekday,
    /// Keyword `monthly`/`yearly`: a day that does not exist in the target
    /// month clamps to the month's last day instead of being skipped.
    pub(crate) clamp: bool,
}

impl Rule {
    /// A bare rule with RFC 5545 defaults (`INTERVAL=1`, `WKST=MO`).
    pub(crate) fn with_freq(freq: Frequency) -> Rule {
        Rule {
            freq,
            interval: 1,
            by_day: Vec::new(),
            by_month_day: Vec::new(),
            by_month: Vec::new(),
            by_set_pos: Vec::new(),
            count: None,
            until: None,
            week_start: Weekday::Monday,
            clamp: false,
        }
    }

    /// The rule's frequency, e.g. for describing the rule in a UI.
    pub fn frequency(&self) -> Frequency {
        self.freq
    }

    /// The `INTERVAL` (1 when not given), e.g. "every 2 weeks" in a UI.
    pub fn interval(&self) -> u32 {
        self.interval
    }

    /// The `COUNT` bound, if any: the total number of occurrences in the
    /// series, DTSTART (the first task) being occurrence 1.
    pub fn count(&self) -> Option<u32> {
        self.count
    }

    /// Whether this rule is a clamping keyword (`monthly`, `yearly`): a
    /// start on the 29th–31st (or 29 Feb) lands on the last day of shorter
    /// months instead of skipping them as RRULE text does.
    pub fn clamps_to_month_end(&self) -> bool {
        self.clamp
    }
}
