//! The scheduler's Spin variables (docs/CONTRACT.md, "Configuration"), validated, so a
//! typo in a deployment is an explicit error rather than a silent default.

/// Default of `scheduler_batch`.
pub const DEFAULT_BATCH: usize = 500;
/// Default of `scheduler_max_lateness_seconds` (one day).
pub const DEFAULT_MAX_LATENESS_S: i64 = 86_400;
/// Largest accepted batch: a tick must finish well within Dapr's binding
/// call timeout, and each publish is one HTTP call to the sidecar.
pub const MAX_BATCH: usize = 10_000;

/// A scheduler variable that does not hold a usable value: names the
/// variable and what it must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidSetting {
    /// `scheduler_batch`.
    #[error("scheduler_batch must be an integer from 1 to {MAX_BATCH}")]
    Batch,
    /// `scheduler_max_lateness_seconds`.
    #[error("scheduler_max_lateness_seconds must be a non-negative integer")]
    MaxLateness,
}

/// Validated settings of one tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Publishes (plus a failed one) per tick at most; at least 1.
    pub batch: usize,
    /// Older due reminders are skipped; at least 0 seconds.
    pub max_lateness_s: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            batch: DEFAULT_BATCH,
            max_lateness_s: DEFAULT_MAX_LATENESS_S,
        }
    }
}

impl Settings {
    /// Parses the two variables' text; the error names the variable and
    /// what it must be.
    pub fn parse(batch: &str, max_lateness_s: &str) -> Result<Settings, InvalidSetting> {
        let batch = batch
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|b| (1..=MAX_BATCH).contains(b))
            .ok_or(InvalidSetting::Batch)?;
        let max_lateness_s = max_lateness_s
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|s| *s >= 0)
            .ok_or(InvalidSetting::MaxLateness)?;
        Ok(Settings {
            batch,
            max_lateness_s,
        })
    }
}

#[cfg(test)]
mod tests;
