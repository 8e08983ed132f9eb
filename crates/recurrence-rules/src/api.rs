//! The two questions the recurrence component asks: "what comes after this
//! completed task?" and "what are the next N dates of this rule?".

use std::str::FromStr;

use jiff::tz::TimeZone;
use jiff::{Timestamp, ZonedDateTime};

use crate::error::{echo, AnchorError, SearchError};
use crate::rule::Rule;
use crate::series::Series;

/// `recurrence_anchor`: what the next occurrence is counted from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Anchor {
    /// The series keeps its schedule: the next task is the first occurrence
    /// after the completed task's `due_at` that is also after the completion
    /// time (contract section 7). This is the column's default.
    #[default]
    Due,
    /// The series restarts at the completion: the rule is applied with
    /// DTSTART = `completed_at` ("water the plants 3 days after I last did").
    Completion,
}

impl FromStr for Anchor {
    type Err = AnchorError;

    /// Parses the `recurrence_anchor` column: exactly `due` or `completion`.
    fn from_str(value: &str) -> Result<Anchor, AnchorError> {
        match value {
            "due" => Ok(Anchor::Due),
            "completion" => Ok(Anchor::Completion),
            _ => Err(AnchorError { value: echo(value) }),
        }
    }
}

/// What the caller knows about the task that was just completed (one row of
/// `tasks`, plus optionally one value from the series' first row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompletedTask {
    /// The completed task's `due_at`. With [`Anchor::Due`] it is the
    /// series anchor: its wall-clock time of day and day of month in the
    /// task's zone are those of every later occurrence (unless
    /// `series_start` is given).
    pub due_at: Timestamp,
    /// The completed task's `occurrence` (1-based; 0 is treated as 1).
    pub occurrence: u32,
    /// When it was completed (`completed_at`).
    pub completed_at: Timestamp,
    /// The `due_at` of the series' first task (occurrence 1), if the caller
    /// has it, e.g. `(SELECT due_at FROM tasks WHERE id = t.series_id)` in
    /// the same query. With [`Anchor::Due`] it makes month ends and DST gaps
    /// exact: a "monthly" series started Jan 31 gives Feb 29 and then Mar 31
    /// from it, while from the Feb 29 task alone only "the 29th" is known.
    /// Likewise 02:30 on a spring-forward day becomes 03:30 for that day
    /// only. Ignored when `None`, when later than `due_at`, and for
    /// [`Anchor::Completion`].
    pub series_start: Option<Timestamp>,
}

/// The task to create after a completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Next {
    /// The new task's `due_at`, in the task's zone (format it with
    /// [`to_rfc3339`](crate::to_rfc3339); store `due_at.timestamp()`). The
    /// caller moves `remind_at` by the same offset itself.
    pub due_at: ZonedDateTime,
    /// The new task's `occurrence`: its index in the series. See
    /// [`next_occurrence`] for how it is numbered.
    pub occurrence: u32,
}

/// The task that follows a completed one, or `None` when the series is over
/// (COUNT reached, UNTIL passed, or the rule has no further dates).
///
/// The result depends only on its inputs (no clock), so redelivered events
/// compute the same `(due_at, occurrence)` and the insert stays idempotent.
///
/// **[`Anchor::Due`]**: the series has DTSTART = `task.series_start` if given
/// (and not after `due_at`), else `task.due_at`. The new task is the first
/// occurrence strictly after both `due_at` and `completed_at`: a task
/// completed three weeks late yields one task in the future, not three
/// overdue ones. Its `occurrence` is the completed task's plus the number of
/// rule dates after `due_at` up to and including the new one, so skipped
/// dates keep their numbers: `occurrence` stays the RFC 5545 index in the
/// series (DTSTART = 1), and COUNT bounds the series in time exactly as
/// RFC 5545 does ("every Monday, 4 times" never runs past the 4th Monday,
/// however late tasks are completed). The series is over when that number
/// would exceed COUNT.
///
/// **[`Anchor::Completion`]**: the series restarts with DTSTART =
/// `completed_at` (its date and wall-clock time in `tz`); the new task is
/// the rule's first date strictly after it, numbered `occurrence + 1`
/// (COUNT then counts tasks). `due_at` and `series_start` are not used.
///
/// UNTIL is compared with each candidate in the task's zone (a date-only or
/// floating UNTIL as wall-clock time there, a `Z` UNTIL as an instant).
/// Errors only when the search would be unreasonably long (e.g. a daily
/// rule whose `due_at` is thousands of years before `completed_at`) or the
/// occurrence number overflows.
pub fn next_occurrence(
    rule: &Rule,
    tz: &TimeZone,
    anchor: Anchor,
    task: &CompletedTask,
) -> Result<Option<Next>, SearchError> {
    let occurrence = task.occurrence.max(1);
    match anchor {
        Anchor::Completion => {
            let number = occurrence
                .checked_add(1)
                .ok_or(SearchError::OccurrenceOverflow)?;
            if rule.count.is_some_and(|count| number > count) {
                return Ok(None);
            }
            let mut series = Series::new(rule, tz, task.completed_at);
            Ok(series.next_occurrence()?.map(|due_at| Next {
                due_at,
                occurrence: number,
            }))
        }
        Anchor::Due => {
            let start = match task.series_start {
                Some(start) if start <= task.due_at => start,
                _ => task.due_at,
            };
            let threshold = task.due_at.max(task.completed_at);
            let mut series = Series::new(rule, tz, start);
            let mut number = occurrence;
            while let Some(candidate) = series.next_occurrence()? {
                if candidate.timestamp() <= task.due_at {
                    continue;
                }
                number = number
                    .checked_add(1)
                    .ok_or(SearchError::OccurrenceOverflow)?;
                if rule.count.is_some_and(|count| number > count) {
                    return Ok(None);
                }
                if candidate.timestamp() > threshold {
                    return Ok(Some(Next {
                        due_at: candidate,
                        occurrence: number,
                    }));
                }
            }
            Ok(None)
        }
    }
}

/// The first `count` occurrences strictly after `start`, treating `start`
/// as the series' DTSTART (occurrence 1, not returned; so with `COUNT=3`
/// at most 2 are returned). For `GET /recurrence/preview`.
///
/// Returns fewer when the series ends first (COUNT, UNTIL, or a rule that
/// never matches such as `FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30`, which
/// yields an empty list quickly rather than searching forever). The caller
/// bounds `count` (the contract allows at most 100); the engine bounds the
/// search.
pub fn preview(
    rule: &Rule,
    start: Timestamp,
    tz: &TimeZone,
    count: usize,
) -> Result<Vec<ZonedDateTime>, SearchError> {
    let remaining = rule.count.map_or(usize::MAX, |c| {
        usize::try_from(c.saturating_sub(1)).unwrap_or(usize::MAX)
    });
    let wanted = count.min(remaining);
    let mut series = Series::new(rule, tz, start);
    let mut out = Vec::new();
    while out.len() < wanted {
        match series.next_occurrence()? {
            Some(occurrence) => out.push(occurrence),
            None => break,
        }
    }
    Ok(out)
}
