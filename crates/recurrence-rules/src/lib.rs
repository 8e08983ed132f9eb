//! Recurrence engine for recurring tasks (docs/CONTRACT.md, "Recurrence rules").
//!
//! Given a task's `recurrence_rule`, `recurrence_anchor` and `timezone`, it
//! answers two questions: which task follows a completed one
//! ([`next_occurrence`]), and what the next N dates of a rule are
//! ([`preview`]). It is a plain library with no I/O and no clock, so it runs
//! unchanged natively and as a `wasm32-wasip2` Spin component.
//!
//! ```
//! use recurrence_rules::{next_occurrence, time_zone, to_rfc3339, Anchor, CompletedTask, Rule};
//!
//! let rule: Rule = "FREQ=MONTHLY;BYDAY=2TU".parse()?;
//! let tz = time_zone("Europe/Berlin")?;
//! let task = CompletedTask {
//!     due_at: "2026-10-13T07:00:00Z".parse()?, // Tue 13 Oct 09:00 CEST
//!     occurrence: 1,
//!     completed_at: "2026-10-13T08:00:00Z".parse()?,
//!     series_start: None,
//! };
//! let next = next_occurrence(&rule, &tz, Anchor::Due, &task)?.expect("no COUNT/UNTIL");
//! assert_eq!(to_rfc3339(&next.due_at), "2026-11-10T09:00:00+01:00"); // still 09:00, now CET
//! assert_eq!(next.occurrence, 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Rules
//!
//! Keywords `daily`, `weekdays`, `weekly`, `monthly`, `yearly`, and RFC 5545
//! RRULE text (optionally prefixed `RRULE:`) with `FREQ` (DAILY, WEEKLY,
//! MONTHLY, YEARLY), `INTERVAL`, `BYDAY` (ordinals such as `2TU`, `-1FR`
//! with MONTHLY/YEARLY), `BYMONTHDAY` (negatives count from the month's
//! end), `BYMONTH`, `BYSETPOS`, `COUNT`, `UNTIL` and `WKST`. Everything else
//! is a [`RuleError`] naming the offending part. Keyword `monthly`/`yearly`
//! clamp a 29th–31st (or 29 Feb) start to the last day of shorter months;
//! RRULE text skips dates that do not exist, as RFC 5545 requires.
//!
//! # Occurrence numbers and COUNT
//!
//! By default ([`Numbering::Tasks`]) the task created after a completion is
//! always the completed task's `occurrence + 1` and `COUNT` counts tasks,
//! the first being 1. With anchor `due` a late completion skips
//! the dates that already passed *without* consuming numbers, so
//! "every Monday, 4 times" yields four tasks however late they are done.
//! [`next_occurrence_numbered`] with [`Numbering::RfcIndex`] numbers by
//! position in the RFC 5545 series instead (skipped dates consume numbers
//! and COUNT bounds the series in time).
//!
//! # How dates are computed
//!
//! Expansion happens in civil (wall-clock) time in the task's zone and each
//! date is resolved to an instant only at the end: a time inside a
//! spring-forward gap moves forward by the gap, an ambiguous fall-back time
//! takes the earlier instant (RFC 5545 §3.3.5), so 09:00 Europe/Berlin stays
//! 09:00 across DST changes. Occurrence n is computed from the series' DTSTART
//! (`start + n × interval` periods), never by stepping from the previous,
//! possibly clamped, date. Every call does bounded work: rules that can never
//! match end the series after one 400-year calendar cycle of empty periods,
//! and a hard cap turns absurd inputs into a [`SearchError`], never a hang or
//! a panic.
//!
//! # Why jiff, and no RRULE crate
//!
//! * **jiff** (1.x) is the date/time crate. Its "compatible" disambiguation
//!   *is* RFC 5545's gap/fold rule, so zone resolution is one call rather
//!   than hand-written offset arithmetic; it is actively maintained, has
//!   checked (non-panicking) arithmetic, and with the `tzdb-bundle-always`
//!   feature embeds the IANA database (about 230 KB of TZif data and zone
//!   names) — required because the wasm32-wasip2 component has no
//!   `/usr/share/zoneinfo`. Default features are off so that native builds
//!   use the same bundled data as the component (no system zoneinfo, no
//!   `TZ` lookups). Measured cost: a release (`opt-level = "s"`, LTO,
//!   stripped) wasm32-wasip2 program calling `preview` and
//!   `next_occurrence` is about 550 KB larger than the same program
//!   without this crate (66 KB → 618 KB).
//! * **chrono + chrono-tz** was the alternative: chrono-tz compiles the whole
//!   database into Rust code (larger in the component), and chrono's
//!   `LocalResult::None` for gap times leaves the "move forward by the gap"
//!   rule to hand-written code.
//! * **rrule** was rejected: it has open DST bugs (issues #109 and #115),
//!   drags in chrono-tz, and its month-end and late-start behaviour would
//!   still need wrapping. The supported RRULE subset has no sub-daily parts,
//!   so the expansion (`expand.rs`) is a few hundred lines over jiff civil
//!   dates, tested against RFC 5545's own examples and property tests.

mod api;
mod calendar;
mod error;
mod expand;
mod parse;
mod rule;
mod series;
mod zone;

pub use api::{
    next_occurrence, next_occurrence_numbered, preview, Anchor, CompletedTask, Next, Numbering,
};
pub use error::{AnchorError, Error, RuleError, SearchError, TimeZoneError};
pub use rule::{Frequency, Rule};
pub use zone::{time_zone, to_rfc3339};

/// The `jiff` version this crate's API uses (`Timestamp`, `TimeZone`,
/// `ZonedDateTime`), re-exported so callers need no second, possibly
/// mismatched, dependency on it.
pub use jiff;
