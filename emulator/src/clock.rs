//! Time: the (possibly skewed) server clock and the two date formats OSS uses.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The server's idea of "now": the system clock plus the configured skew.
pub(crate) fn server_now(skew_seconds: i64) -> SystemTime {
    let now = SystemTime::now();
    if skew_seconds >= 0 {
        now + Duration::from_secs(skew_seconds as u64)
    } else {
        now - Duration::from_secs(skew_seconds.unsigned_abs())
    }
}

/// Seconds since the Unix epoch (negative before it).
pub(crate) fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

/// RFC 1123 GMT (`Wed, 28 Dec 2022 10:27:41 GMT`).
pub(crate) fn http_date(t: SystemTime) -> String {
    httpdate::fmt_http_date(t)
}

/// Parses an HTTP `Date` value. Only the IMF-fixdate form (RFC 1123, GMT) is accepted, as OSS
/// requires; the obsolete RFC 850 and asctime forms are refused.
pub(crate) fn parse_http_date(value: &str) -> Option<SystemTime> {
    let t = httpdate::parse_http_date(value).ok()?;
    // Round-trip to reject the obsolete forms that httpdate also accepts.
    if httpdate::fmt_http_date(t) == value {
        Some(t)
    } else {
        None
    }
}

/// Parses the V4 `x-oss-date` form `YYYYMMDDTHHMMSSZ` (UTC) into Unix seconds.
pub(crate) fn parse_v4_datetime(value: &str) -> Option<i64> {
    let b = value.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let s = &value[range];
        if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    let (year, month, day) = (digits(0..4)?, digits(4..6)?, digits(6..8)?);
    let (hour, minute, second) = (digits(9..11)?, digits(11..13)?, digits(13..15)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4_datetime() {
        assert_eq!(parse_v4_datetime("20231216T162057Z"), Some(1_702_743_657));
        assert_eq!(parse_v4_datetime("19700101T000000Z"), Some(0));
        assert_eq!(parse_v4_datetime("20240229T000000Z"), Some(1_709_164_800));
        for bad in [
            "20230229T000000Z",
            "20231216T246000Z",
            "20231216 162057Z",
            "2023121T162057Z",
            "20231216T162057",
            "+0231216T162057Z",
            "",
        ] {
            assert_eq!(parse_v4_datetime(bad), None, "{bad}");
        }
    }

    #[test]
    fn http_dates() {
        let t = parse_http_date("Wed, 28 Dec 2022 10:27:41 GMT").unwrap();
        assert_eq!(unix_seconds(t), 1_672_223_261);
        assert_eq!(http_date(t), "Wed, 28 Dec 2022 10:27:41 GMT");
        assert!(parse_http_date("Wednesday, 28-Dec-22 10:27:41 GMT").is_none());
        assert!(parse_http_date("20221228T102741Z").is_none());
    }

    #[test]
    fn skew() {
        let a = unix_seconds(server_now(0));
        let b = unix_seconds(server_now(3600));
        let c = unix_seconds(server_now(-3600));
        assert!((b - a - 3600).abs() <= 1 && (a - c - 3600).abs() <= 1);
    }
}
