//! A brute-force model of RFC 5545 for rules with INTERVAL=1, written
//! independently of the engine: scan every day, keep the days that pass the
//! BYxxx filters (with RFC 5545's defaults taken from DTSTART), group them
//! by period, apply BYSETPOS. For INTERVAL=1 this is exactly the set the
//! expand/limit table describes.

use proptest::prelude::*;
use recurrence_rules::jiff::civil::{Date, Weekday};
use recurrence_rules::jiff::Span;

pub const WEEKDAYS: [(&str, Weekday); 7] = [
    ("MO", Weekday::Monday),
    ("TU", Weekday::Tuesday),
    ("WE", Weekday::Wednesday),
    ("TH", Weekday::Thursday),
    ("FR", Weekday::Friday),
    ("SA", Weekday::Saturday),
    ("SU", Weekday::Sunday),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freq {
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

/// A generated RRULE (without COUNT/UNTIL, which are tested separately).
#[derive(Debug, Clone)]
pub struct Spec {
    pub freq: Freq,
    pub interval: u32,
    pub by_day: Vec<(Option<i8>, usize)>,
    pub by_month_day: Vec<i8>,
    pub by_month: Vec<i8>,
    pub by_set_pos: Vec<i16>,
    pub wkst: usize,
}

fn list<T: ToString>(items: &[T]) -> String {
    items.iter().map(T::to_string).collect::<Vec<_>>().join(",")
}

impl Spec {
    pub fn text(&self) -> String {
        let freq = match self.freq {
            Freq::Daily => "DAILY",
            Freq::Weekly => "WEEKLY",
            Freq::Monthly => "MONTHLY",
            Freq::Yearly => "YEARLY",
        };
        let mut parts = vec![format!("FREQ={freq}")];
        if self.interval != 1 {
            parts.push(format!("INTERVAL={}", self.interval));
        }
        if !self.by_day.is_empty() {
            let days: Vec<String> = self
                .by_day
                .iter()
                .map(|(nth, wd)| {
                    format!(
                        "{}{}",
                        nth.map_or(String::new(), |n| n.to_string()),
                        WEEKDAYS[*wd].0
                    )
                })
                .collect();
            parts.push(format!("BYDAY={}", days.join(",")));
        }
        if !self.by_month_day.is_empty() {
            parts.push(format!("BYMONTHDAY={}", list(&self.by_month_day)));
        }
        if !self.by_month.is_empty() {
            parts.push(format!("BYMONTH={}", list(&self.by_month)));
        }
        if !self.by_set_pos.is_empty() {
            parts.push(format!("BYSETPOS={}", list(&self.by_set_pos)));
        }
        parts.push(format!("WKST={}", WEEKDAYS[self.wkst].0));
        parts.join(";")
    }

    /// Whether `date` passes the BYxxx filters of a series starting `start`.
    pub fn matches(&self, start: Date, date: Date) -> bool {
        let day_parts_given = !self.by_day.is_empty() || !self.by_month_day.is_empty();
        let month_ok = if self.by_month.is_empty() {
            self.freq != Freq::Yearly || day_parts_given || date.month() == start.month()
        } else {
            self.by_month.contains(&date.month())
        };
        let dim = date.days_in_month();
        let month_day_ok = if self.by_month_day.is_empty() {
            !matches!(self.freq, Freq::Monthly | Freq::Yearly)
                || day_parts_given
                || date.day() == start.day()
        } else {
            self.by_month_day
                .iter()
                .any(|&md| date.day() == if md > 0 { md } else { dim + 1 + md })
        };
        let weekday_ok = if self.by_day.is_empty() {
            self.freq != Freq::Weekly || date.weekday() == start.weekday()
        } else {
            self.by_day.iter().any(|&(nth, wd)| {
                date.weekday() == WEEKDAYS[wd].1 && nth.is_none_or(|n| self.ordinal_ok(date, n))
            })
        };
        month_ok && month_day_ok && weekday_ok
    }

    /// `date` is the n-th of its weekday in its month (MONTHLY, or YEARLY
    /// with BYMONTH) or year (YEARLY without BYMONTH).
    fn ordinal_ok(&self, date: Date, n: i8) -> bool {
        let in_month = self.freq == Freq::Monthly || !self.by_month.is_empty();
        let (index, len) = if in_month {
            (i32::from(date.day()) - 1, i32::from(date.days_in_month()))
        } else {
            (
                i32::from(date.day_of_year()) - 1,
                i32::from(date.days_in_year()),
            )
        };
        let n = i32::from(n);
        if n > 0 {
            index / 7 + 1 == n
        } else {
            (len - 1 - index) / 7 + 1 == -n
        }
    }

    /// Identifies the period (day, WKST week, month, year) containing `date`.
    pub fn period(&self, date: Date) -> (i16, i16) {
        match self.freq {
            Freq::Daily => (date.year(), date.day_of_year()),
            Freq::Weekly => {
                let back = (date.weekday().to_monday_zero_offset() - self.wkst as i8).rem_euclid(7);
                let first = date.checked_sub(Span::new().days(back)).unwrap();
                (first.year(), first.day_of_year())
            }
            Freq::Monthly => (date.year(), i16::from(date.month())),
            Freq::Yearly => (date.year(), 0),
        }
    }

    /// All occurrence dates strictly after `start` up to `end` inclusive.
    pub fn brute_force(&self, start: Date, end: Date) -> Vec<Date> {
        // Begin a little before `start` so its whole period is seen (BYSETPOS).
        let mut day = start
            .first_of_year()
            .checked_sub(Span::new().days(7))
            .unwrap();
        let mut out = Vec::new();
        let mut group: Vec<Date> = Vec::new();
        let mut key = self.period(day);
        // Scan to the end of `end`'s period so BYSETPOS sees whole periods.
        let last = self.period(end);
        while day <= end || self.period(day) == last {
            if self.period(day) != key {
                out.extend(self.set_pos(&group));
                group.clear();
                key = self.period(day);
            }
            if self.matches(start, day) {
                group.push(day);
            }
            day = day.tomorrow().unwrap();
        }
        out.extend(self.set_pos(&group));
        out.retain(|&d| d > start && d <= end);
        out
    }

    fn set_pos(&self, group: &[Date]) -> Vec<Date> {
        if self.by_set_pos.is_empty() {
            return group.to_vec();
        }
        let len = group.len() as i16;
        let mut picked: Vec<Date> = self
            .by_set_pos
            .iter()
            .filter_map(|&p| {
                let i = if p > 0 { p - 1 } else { len + p };
                (0..len).contains(&i).then(|| group[i as usize])
            })
            .collect();
        picked.sort();
        picked.dedup();
        picked
    }
}

/// Rules the oracle can check: INTERVAL=1, any mix of BYxxx parts.
pub fn spec() -> impl Strategy<Value = Spec> {
    let freq = prop_oneof![
        Just(Freq::Daily),
        Just(Freq::Weekly),
        Just(Freq::Monthly),
        Just(Freq::Yearly)
    ];
    (
        freq,
        prop::collection::vec((prop::option::weighted(0.5, -5i8..=5), 0usize..7), 0..3),
        prop::collection::vec(prop_oneof![1i8..=31, -31i8..=-1], 0..3),
        prop::collection::vec(1i8..=12, 0..3),
        prop::collection::vec(prop_oneof![1i16..=4, -4i16..=-1], 0..2),
        0usize..7,
    )
        .prop_map(|(freq, by_day, by_month_day, by_month, by_set_pos, wkst)| {
            let ordinals = matches!(freq, Freq::Monthly | Freq::Yearly);
            let by_day = by_day
                .into_iter()
                .map(|(nth, wd)| (nth.filter(|&n| ordinals && n != 0), wd))
                .collect();
            let by_month_day = if freq == Freq::Weekly {
                Vec::new()
            } else {
                by_month_day
            };
            let mut spec = Spec {
                freq,
                interval: 1,
                by_day,
                by_month_day,
                by_month,
                by_set_pos,
                wkst,
            };
            if spec.by_day.is_empty() && spec.by_month_day.is_empty() && spec.by_month.is_empty() {
                spec.by_set_pos.clear();
            }
            spec
        })
}
