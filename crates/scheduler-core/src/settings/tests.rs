use super::*;

#[test]
fn parses_defaults_and_bounds() {
    assert_eq!(Settings::parse("500", "86400"), Ok(Settings::default()));
    assert_eq!(Settings::parse(" 1 ", "0").map(|s| s.batch), Ok(1));
    assert_eq!(Settings::parse("0", "10"), Err(InvalidSetting::Batch));
    assert!(InvalidSetting::Batch
        .to_string()
        .contains("scheduler_batch"));
    assert!(Settings::parse("10001", "10").is_err());
    assert!(Settings::parse("ten", "10").is_err());
    assert_eq!(Settings::parse("5", "-1"), Err(InvalidSetting::MaxLateness));
    assert!(Settings::parse("5", "").is_err());
}
