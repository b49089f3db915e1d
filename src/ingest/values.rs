//! Parsing of typed fields (durations, timestamps, booleans, numeric labels). Each function
//! returns the message part of an error ("expected …, found …"); the caller adds file:line.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::dataset::Level;

/// A duration in seconds: a finite number >= 0 that fits an f32.
pub fn parse_duration(s: &str) -> Result<f32, String> {
    if let Some(v) = fast_decimal(s) {
        return Ok(v as f32);
    }
    let expected = "field \"duration_s\": expected a number of seconds >= 0";
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 && v <= f32::MAX as f64 => Ok(v as f32),
        Ok(v) if v.is_finite() && v >= 0.0 => Err(format!("{expected}, found {s:?} (too large)")),
        _ => Err(format!("{expected}, found {s:?}")),
    }
}

/// The common shape `digits[.digits]` with at most 15 digits, by hand; `None` for anything
/// else. Such a number is `m / 10^k` with `m < 2^53` and `k <= 15`, both exact in an f64,
/// and IEEE division rounds correctly, so the result is exactly what `str::parse` (which
/// rounds correctly too) gives.
fn fast_decimal(s: &str) -> Option<f64> {
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 16 {
        return None;
    }
    let (mut mantissa, mut fraction_digits, mut point) = (0u64, 0usize, false);
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(c - b'0');
                fraction_digits += usize::from(point);
            }
            // A point between digits only (`5.` and `.5` go to the full parser).
            b'.' if !point && i > 0 && i + 1 < b.len() => point = true,
            _ => return None,
        }
    }
    let digits = b.len() - usize::from(point);
    (digits <= 15).then(|| mantissa as f64 / POW10[fraction_digits])
}

/// An RFC 3339 timestamp as Unix milliseconds; a value without an offset is read as UTC.
pub fn parse_timestamp_ms(s: &str) -> Result<i64, String> {
    let s = super::hygiene::trim(s);
    fast_timestamp_ms(s).map_or_else(|| full_timestamp_ms(s), Ok)
}

/// [`parse_timestamp_ms`] by the `time` crate's parsers: RFC 3339, else the same without an
/// offset (read as UTC).
fn full_timestamp_ms(s: &str) -> Result<i64, String> {
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

/// The common export shapes `YYYY-MM-DD(T| )HH:MM:SS[.f{1,9}][Z|±HH:MM]` (RFC 3339 as most
/// platforms write it, pandas' and SQL's space-separated form, and either without an
/// offset), parsed by hand (the general parser dominates ingest otherwise); `None` for
/// anything else, which [`full_timestamp_ms`] then decides. Gives exactly what it gives.
fn fast_timestamp_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        b.get(r)?.iter().try_fold(0i64, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
        })
    };
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    // Leap seconds and out-of-range fields go to the full parser.
    if hour > 23 || minute > 59 || second > 59 || !(1..=12).contains(&month) {
        return None;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [
        31,
        28 + i64::from(leap),
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if day < 1 || day > month_days[month as usize - 1] {
        return None;
    }
    let mut i = 19;
    let mut nanos = 0i64;
    if b.get(i) == Some(&b'.') {
        let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if !(1..=9).contains(&digits) {
            return None;
        }
        nanos = num(i + 1..i + 1 + digits)? * 10i64.pow(9 - digits as u32);
        i += 1 + digits;
    }
    let offset_s = match (b.get(i), b.len() - i) {
        // Without an offset the full parser takes `T` or a space, not `t`.
        (None, _) if b[10] != b't' => 0,
        (Some(b'Z' | b'z'), 1) => 0,
        (Some(&sign @ (b'+' | b'-')), 6) if b[i + 3] == b':' => {
            let (h, m) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
            if h > 23 || m > 59 {
                return None;
            }
            let v = h * 3600 + m * 60;
            if sign == b'-' {
                -v
            } else {
                v
            }
        }
        _ => return None,
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_s;
    // Milliseconds truncated toward zero, as the full parser's nanoseconds / 10^6.
    let round_up = secs < 0 && nanos % 1_000_000 != 0;
    Some(secs * 1000 + nanos / 1_000_000 + i64::from(round_up))
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
    fn fast_timestamps_equal_the_full_parser() {
        let full = |s: &str| full_timestamp_ms(s).ok();
        let cases = [
            "2026-01-01T06:49:34.94Z",
            "2026-01-01T06:08:56.743Z",
            "1970-01-01T00:00:00Z",
            "1969-12-31T23:59:59.9995Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999999Z",
            "2024-02-29T12:00:00+05:30",
            "2023-02-29T12:00:00Z",
            "2024-03-01T00:00:00-23:59",
            "1900-03-01T00:00:00.1-00:00",
            "2000-02-29T23:59:60Z",
            "2024-13-01T00:00:00Z",
            "2024-04-31T00:00:00Z",
            "2024-04-30T24:00:00Z",
            "2024-04-30T10:00:00.Z",
            "2024-04-30T10:00:00.1234567891Z",
            "2024-04-30T10:00:00+0530",
            "2024-04-30t10:00:00z",
            "2024-04-30 10:00:00Z",
            "2026-01-01 06:49:34.940000+00:00",
            "2026-01-01 06:49:34",
            "2026-01-01T06:49:34.5",
            "2026-01-01t06:49:34",
            "2026-01-01t06:49:34.5",
            "2026-01-01 06:49:34.",
            "2026-01-01 06:49:34 ",
            "2026-01-01 06:49",
            "2026-01-01_06:49:34Z",
            "2026-02-30 06:49:34",
        ];
        for s in cases {
            let fast = fast_timestamp_ms(s);
            if fast.is_some() {
                assert_eq!(fast, full(s), "{s}");
            }
        }
        for s in [
            "2026-01-01T06:49:34.94Z",
            "2024-02-29T12:00:00+05:30",
            "2026-01-01 06:49:34.940000+00:00",
            "2026-01-01 06:49:34",
            "2026-01-01T06:49:34.5",
            "2026-01-01t06:49:34z",
        ] {
            assert!(fast_timestamp_ms(s).is_some(), "{s}");
        }
        // Every day of a few years, at several times, separators and offsets.
        for day in 0..(3 * 366) {
            let t = OffsetDateTime::UNIX_EPOCH + time::Duration::days(day * 97 - 40_000);
            for (sep, suffix, frac) in [
                ('T', "Z", ""),
                ('T', "+01:30", ".5"),
                (' ', "-11:00", ".000001"),
                (' ', "", ".25"),
                ('T', "", ""),
                ('t', "z", ".123456789"),
            ] {
                let s = format!(
                    "{:04}-{:02}-{:02}{sep}{:02}:{:02}:{:02}{frac}{suffix}",
                    t.year(),
                    u8::from(t.month()),
                    t.day(),
                    day % 24,
                    day % 60,
                    (day * 7) % 60
                );
                assert_eq!(fast_timestamp_ms(&s), full(&s), "{s}");
                assert!(fast_timestamp_ms(&s).is_some(), "{s}");
            }
        }
    }

    #[test]
    fn fast_decimals_equal_the_full_parser() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let full = |s: &str| s.parse::<f64>().ok();
        let mut fast_taken = 0;
        for _ in 0..200_000 {
            let digits = rng.random_range(1..=16);
            let mut s: String = (0..digits)
                .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
                .collect();
            if rng.random_range(0..4) > 0 {
                let at = rng.random_range(0..=s.len());
                s.insert(at, '.');
            }
            let fast = fast_decimal(&s);
            if fast.is_some() {
                fast_taken += 1;
                assert_eq!(fast.map(f64::to_bits), full(&s).map(f64::to_bits), "{s}");
            }
            assert_eq!(
                parse_duration(&s).ok().map(f32::to_bits),
                full(&s).map(|v| (v as f32).to_bits()),
                "{s}"
            );
        }
        assert!(fast_taken > 100_000);
        for s in [
            "8.252",
            "17.217",
            "0.1",
            "999999999999999",
            "0.00000000000001",
        ] {
            assert_eq!(fast_decimal(s), full(s), "{s}");
        }
        for s in [
            "",
            ".",
            "5.",
            ".5",
            "1.2.3",
            "-1",
            "+1",
            " 1",
            "1e3",
            "1234567890123456",
        ] {
            assert_eq!(fast_decimal(s), None, "{s:?}");
        }
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
