use jiff::Timestamp;

use super::*;

/// 2026-12-01T08:30:00Z.
const DEC_1: i64 = 1_796_113_800_000_000;

fn at(us: i64) -> Timestamp {
    Timestamp::from_microsecond(us).unwrap()
}

#[test]
fn the_fixed_form_has_six_digits_and_z() {
    assert_eq!(micros_text(at(DEC_1)), "2026-12-01T08:30:00.000000Z");
    assert_eq!(micros_text(at(DEC_1 + 7)), "2026-12-01T08:30:00.000007Z");
    assert_eq!(micros_text(at(0)), "1970-01-01T00:00:00.000000Z");
    assert_eq!(micros_text(at(-1)), "1969-12-31T23:59:59.999999Z");
}

#[test]
fn leap_days_and_month_ends() {
    // 2024-02-29T23:59:59Z and one second later.
    let leap = 1_709_251_199_000_000;
    assert_eq!(rfc3339(at(leap)), "2024-02-29T23:59:59Z");
    assert_eq!(rfc3339(at(leap + 1_000_000)), "2024-03-01T00:00:00Z");
    // 2000-12-31T12:00:00Z (a 400-year leap year's last day).
    assert_eq!(rfc3339(at(978_264_000_000_000)), "2000-12-31T12:00:00Z");
}

#[test]
fn payload_form_shows_fractions_only_when_present() {
    assert_eq!(rfc3339(at(DEC_1)), "2026-12-01T08:30:00Z");
    assert_eq!(rfc3339(at(DEC_1 + 123_456)), "2026-12-01T08:30:00.123456Z");
    assert_eq!(rfc3339(at(DEC_1 + 500_000)), "2026-12-01T08:30:00.500000Z");
}

#[test]
fn both_forms_agree_with_jiffs_own_printer() {
    // Every day from 1900 to 2300 at a time with a fraction: the fields
    // written here are the ones jiff's RFC 3339 printer writes.
    let start = -2_208_988_800_i64 * 1_000_000 + 45_296_000_789; // 12:34:56.000789
    for d in (0..146_097).step_by(7) {
        let t = at(start + d * 86_400_000_000);
        assert_eq!(micros_text(t), format!("{t:.6}"));
        assert_eq!(rfc3339(t), format!("{t:.6}"));
    }
    assert_eq!(rfc3339(at(DEC_1)), format!("{:.0}", at(DEC_1)));
}

#[test]
fn now_is_after_this_code_was_written() {
    // 2026-12-07T00:00:00Z.
    assert!(now() > at(1_796_601_600_000_000));
}
