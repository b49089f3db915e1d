//! Parsing of typed fields (durations, timestamps, booleans, numeric labels). Each function
//! returns the message part of an error ("expected …, found …"); the caller adds file:line.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::dataset::Level;

/// A duration in seconds: a finite number >= 0 that fits an f32.
pub fn parse_duration(s: &str) -> Result<f32, String> {
    let expected = "field \"duration_s\": expected a number of seconds >= 0";
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 && v <= f32::MAX as f64 => Ok(v as f32),
        Ok(v) if v.is_finite() && v >= 0.0 => Err(format!("{expected}, found {s:?} (too large)")),
        _ => Err(format!("{expected}, found {s:?}")),
    }
}

/// An RFC 3339 timestamp as Unix milliseconds; a value without an offset is read as UTC.
pub fn parse_timestamp_ms(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let at = OffsetDateTime::parse(s, &Rfc3339).or_else(|_| {
        let local = format_description!(
            version = 2,
            "[year]-[month]-[day][first [T] [ ]][hour]:[minute]:[second][optional [.[subsecond]]]"
        );
        PrimitiveDateTime::parse(s, local).map(|t| t.assume_utc())
    });
    match at {
        Ok(t) => Ok((t.unix_timestamp_nanos() / 1_000_000) as i64),
        Err(_) => Err(format!(
            "expected an RFC 3339 timestamp like 2024-05-02T10:05:01Z, found {s:?}"
        )),
    }
}

/// `true/false/1/0/yes/no`, any case.
pub fn parse_bool(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "t" | "y" => Ok(true),
        "false" | "0" | "no" | "f" | "n" => Ok(false),
        _ => Err(format!("expected true or false, found {s:?}")),
    }
}

/// Interval and ratio labels must be numbers; ratio labels must also be >= 0.
pub fn check_numeric_label(label: &str, level: Level) -> Result<(), String> {
    match crate::dataset::parse_number(label) {
        Some(v) if level == Level::Ratio && v < 0.0 => Err(format!(
            "field \"label\": expected a number >= 0 at the ratio level, found {label:?}"
        )),
        Some(_) => Ok(()),
        None => Err(format!(
            "field \"label\": expected a number at the {} level, found {label:?}",
            level.name()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_with_and_without_offset() {
        assert_eq!(parse_timestamp_ms("1970-01-01T00:00:01Z"), Ok(1000));
        assert_eq!(parse_timestamp_ms("1970-01-01T01:00:01+01:00"), Ok(1000));
        assert_eq!(parse_timestamp_ms("1970-01-01T00:00:01.5"), Ok(1500));
        assert_eq!(parse_timestamp_ms("1970-01-01 00:00:02"), Ok(2000));
        assert!(parse_timestamp_ms("02/05/2024 10:00").is_err());
    }

    #[test]
    fn durations_must_be_non_negative_finite_numbers() {
        assert_eq!(parse_duration("19.8"), Ok(19.8));
        assert!(parse_duration("-1").is_err());
        assert!(parse_duration("1e400").is_err());
        assert!(parse_duration("fast").is_err());
    }

    #[test]
    fn interval_labels_must_be_numbers() {
        assert!(check_numeric_label("3.5", Level::Interval).is_ok());
        assert_eq!(
            check_numeric_label("good", Level::Interval).unwrap_err(),
            "field \"label\": expected a number at the interval level, found \"good\""
        );
        assert!(check_numeric_label("-1", Level::Ratio).is_err());
    }
}
