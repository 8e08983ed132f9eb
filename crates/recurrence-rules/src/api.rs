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
    /// time (docs/CONTRACT.md, "Recurrence rules"). This is the column's default.
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
    /// The new task's `occurrence`: its number in the series, as chosen by
    /// [`Numbering`] (by default the completed task's `occurrence + 1`).
    pub occurrence: u32,
}

/// How the new task's `occurrence` is numbered, which is also what `COUNT`
/// counts. The two only differ for [`Anchor::Due`] when a task is completed
/// so late that rule dates were skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Numbering {
    /// `COUNT` counts *tasks*, the first task being occurrence 1: the new task is always the completed one's
    /// `occurrence + 1`, skipped dates consume no number, and the series is
    /// over when `occurrence + 1 > COUNT`. "Every Monday, 4 times" thus
    /// creates four tasks however late each is completed, and occurrence
    /// numbers stay dense (1, 2, 3, ...). This is what the recurrence
    /// service uses, and the default.
    #[default]
    Tasks,
    /// `occurrence` is the RFC 5545 index of the date in the series
    /// (DTSTART = 1): the completed task's number plus the number of rule
    /// dates after its `due_at` up to and including the new one, so skipped
    /// dates keep their numbers and `COUNT` bounds the series *in time*
    /// exactly as RFC 5545 does ("every Monday, 4 times" never runs past the
    /// 4th Monday). For callers that want a calendar's view of the series.
    RfcIndex,
}

/// The task that follows a completed one, numbered the default way
/// ([`Numbering::Tasks`]): `next_occurrence_numbered(.., Numbering::Tasks, ..)`.
pub fn next_occurrence(
    rule: &Rule,
    tz: &TimeZone,
    anchor: Anchor,
    task: &CompletedTask,
) -> Result<Option<Next>, SearchError> {
    next_occurrence_numbered(rule, tz, anchor, Numbering::Tasks, task)
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
/// overdue ones. Its `occurrence`, and what COUNT bounds, follow
/// `numbering` (see [`Numbering`]).
///
/// **[`Anchor::Completion`]**: the series restarts with DTSTART =
/// `completed_at` (its date and wall-clock time in `tz`); the new task is
/// the rule's first date strictly after it, numbered `occurrence + 1`
/// under either numbering (COUNT counts tasks). `due_at` and
/// `series_start` are not used.
///
/// UNTIL is compared with each candidate in the task's zone (a date-only or
/// floating UNTIL as wall-clock time there, a `Z` UNTIL as an instant).
/// Errors only when the search would be unreasonably long (e.g. a daily
/// rule whose `due_at` is thousands of years before `completed_at`) or the
/// occurrence number overflows.
pub fn next_occurrence_numbered(
    rule: &Rule,
    tz: &TimeZone,
    anchor: Anchor,
    numbering: Numbering,
    task: &CompletedTask,
) -> Result<Option<Next>, SearchError> {
    let occurrence = task.occurrence.max(1);
    let following = occurrence
        .checked_add(1)
        .ok_or(SearchError::OccurrenceOverflow)?;
    let past_count = |number: u32| rule.count.is_some_and(|count| number > count);
    match (anchor, numbering) {
        (Anchor::Completion, _) => {
            if past_count(following) {
                return Ok(None);
            }
            let mut series = Series::new(rule, tz, task.completed_at);
            Ok(series.next_occurrence()?.map(|due_at| Next {
                due_at,
                occurrence: following,
            }))
        }
        (Anchor::Due, Numbering::Tasks) => {
            if past_count(following) {
                return Ok(None);
            }
            let threshold = task.due_at.max(task.completed_at);
            let mut series = Series::new(rule, tz, due_series_start(task));
            while let Some(candidate) = series.next_occurrence()? {
                if candidate.timestamp() > threshold {
                    return Ok(Some(Next {
                        due_at: candidate,
                        occurrence: following,
                    }));
                }
            }
            Ok(None)
        }
        (Anchor::Due, Numbering::RfcIndex) => {
            let threshold = task.due_at.max(task.completed_at);
            let mut series = Series::new(rule, tz, due_series_start(task));
            let mut number = occurrence;
            while let Some(candidate) = series.next_occurrence()? {
                if candidate.timestamp() <= task.due_at {
                    continue;
                }
                number = number
                    .checked_add(1)
                    .ok_or(SearchError::OccurrenceOverflow)?;
                if past_count(number) {
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

/// DTSTART of an [`Anchor::Due`] series: the series' first `due_at` when
/// known and not after this task's, else this task's `due_at`.
fn due_series_start(task: &CompletedTask) -> Timestamp {
    match task.series_start {
        Some(start) if start <= task.due_at => start,
        _ => task.due_at,
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
