//! Instants as microseconds since the Unix epoch, written in UTC. Postgres
//! keeps `timestamptz` at microsecond precision, so this is exact both ways
//! and needs no date library (which would add about 190 KB to components
//! that only stamp log lines or publish reminders): the civil date comes
//! from Howard Hinnant's `civil_from_days` algorithm.

/// Microseconds in a second.
const MICROS: i64 = 1_000_000;

/// The UTC calendar fields of an instant.
struct Civil {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    micro: i64,
}

fn civil(epoch_us: i64) -> Civil {
    let secs = epoch_us.div_euclid(MICROS);
    let micro = epoch_us.rem_euclid(MICROS);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // civil_from_days (proleptic Gregorian), valid for the whole i64 range
    // of days that microseconds can express.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Civil {
        year,
        month,
        day,
        hour: sod / 3600,
        minute: sod % 3600 / 60,
        second: sod % 60,
        micro,
    }
}

/// The form the CloudEvent id hashes: UTC, always six fraction digits and
/// `Z` (`2026-12-01T08:30:00.000000Z`), so the same instant always gives
/// the same id whatever the database session's time zone.
pub fn fixed_micros(epoch_us: i64) -> String {
    let c = civil(epoch_us);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second, c.micro
    )
}

/// Now, in microseconds since the Unix epoch (0 if the clock is before it).
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// RFC 3339 in UTC for payloads: `2026-12-01T08:30:00Z`, with six fraction
/// digits only when the instant has any (so consumers keying reminders at
/// microseconds see the exact `remind_at`).
pub fn rfc3339(epoch_us: i64) -> String {
    let c = civil(epoch_us);
    let base = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    );
    if c.micro == 0 {
        format!("{base}Z")
    } else {
        format!("{base}.{:06}Z", c.micro)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-01T08:30:00Z.
    const DEC_1: i64 = 1_796_113_800 * MICROS;

    #[test]
    fn fixed_form_has_six_digits_and_z() {
        assert_eq!(fixed_micros(DEC_1), "2026-12-01T08:30:00.000000Z");
        assert_eq!(fixed_micros(DEC_1 + 7), "2026-12-01T08:30:00.000007Z");
        assert_eq!(fixed_micros(0), "1970-01-01T00:00:00.000000Z");
    }

    #[test]
    fn before_the_epoch_rounds_towards_the_past() {
        assert_eq!(fixed_micros(-1), "1969-12-31T23:59:59.999999Z");
        assert_eq!(
            fixed_micros(-86_400 * MICROS),
            "1969-12-31T00:00:00.000000Z"
        );
    }

    #[test]
    fn leap_days_and_month_ends() {
        // 2024-02-29T23:59:59Z and one second later.
        let leap = 1_709_251_199 * MICROS;
        assert_eq!(rfc3339(leap), "2024-02-29T23:59:59Z");
        assert_eq!(rfc3339(leap + MICROS), "2024-03-01T00:00:00Z");
        // 2000-12-31T12:00:00Z (a 400-year leap year's last day).
        assert_eq!(rfc3339(978_264_000 * MICROS), "2000-12-31T12:00:00Z");
    }

    #[test]
    fn payload_form_shows_fractions_only_when_present() {
        assert_eq!(rfc3339(DEC_1), "2026-12-01T08:30:00Z");
        assert_eq!(rfc3339(DEC_1 + 123_456), "2026-12-01T08:30:00.123456Z");
        assert_eq!(rfc3339(DEC_1 + 500_000), "2026-12-01T08:30:00.500000Z");
    }

    #[test]
    fn agrees_with_day_counting_over_four_centuries() {
        // Every day from 1900 to 2300: the date advances by exactly one day
        // and the month/day fields stay valid.
        let start = -2_208_988_800_i64; // 1900-01-01T00:00:00Z
        let mut prev = fixed_micros(start * MICROS);
        assert_eq!(prev, "1900-01-01T00:00:00.000000Z");
        for d in 1..146_097 {
            let text = fixed_micros((start + d * 86_400) * MICROS);
            assert!(text > prev, "{text} after {prev}");
            let month: u32 = text[5..7].parse().unwrap();
            let day: u32 = text[8..10].parse().unwrap();
            assert!(
                (1..=12).contains(&month) && (1..=31).contains(&day),
                "{text}"
            );
            prev = text;
        }
        assert_eq!(prev, "2299-12-31T00:00:00.000000Z");
    }
}
