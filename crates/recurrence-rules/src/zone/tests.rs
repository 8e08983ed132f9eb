use super::*;
use jiff::civil::date;

#[test]
fn unknown_zone_is_an_error() {
    for name in [
        "",
        "Mars/Olympus_Mons",
        "Europe/",
        "../etc/passwd",
        "+02:00",
    ] {
        let err = time_zone(name).unwrap_err();
        assert_eq!(err.code(), "unknown_timezone", "{name}");
    }
    assert!(time_zone("UTC").is_ok());
    assert!(time_zone("Australia/Lord_Howe").is_ok());
}

#[test]
fn gap_moves_forward_fold_takes_first() {
    let ny = time_zone("America/New_York").unwrap();
    let gap = resolve(&ny, date(2024, 3, 10).at(2, 30, 0, 0)).unwrap();
    assert_eq!(to_rfc3339(&gap), "2024-03-10T03:30:00-04:00");
    let fold = resolve(&ny, date(2024, 11, 3).at(1, 30, 0, 0)).unwrap();
    assert_eq!(to_rfc3339(&fold), "2024-11-03T01:30:00-04:00");
    assert_eq!(fold.timestamp().to_string(), "2024-11-03T05:30:00Z");
}
