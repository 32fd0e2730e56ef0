//! RFC 3339 timestamps: the one parser and formatter of the workspace, to
//! and from Unix time, without a date-time dependency (the client library
//! embeds this crate; docs/client.md has the measurement behind that).

/// Parses `2019-01-21T19:43:33.63838+00:00` (or `Z`, or a space instead of
/// `T`) into Unix milliseconds. Fractions beyond milliseconds are truncated.
///
/// ```
/// use sonde_protocol::timefmt::parse_rfc3339_ms;
/// assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:01Z"), Some(1000));
/// assert_eq!(parse_rfc3339_ms("2019-01-21T19:43:33.63838+00:00"), Some(1_548_099_813_638));
/// assert_eq!(parse_rfc3339_ms("2019-01-21T20:43:33+01:00"), Some(1_548_099_813_000));
/// assert_eq!(parse_rfc3339_ms("yesterday"), None);
/// ```
pub fn parse_rfc3339_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b.len() > 40 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=days_in_month(year, month)).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    let mut millis = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 3 {
                millis = millis * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        for _ in (i - start)..3 {
            millis *= 10;
        }
    }
    let offset_min = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let m = num(i + 1..i + 3)? * 60 + num(i + 4..i + 6)?;
            if *sign == b'-' {
                -m
            } else {
                m
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_min * 60;
    Some(secs * 1000 + millis)
}

/// Formats Unix seconds as RFC 3339 in UTC (`2026-11-22T01:02:03Z`);
/// `None` outside the years 0000 to 9999, which RFC 3339 cannot write.
///
/// ```
/// use sonde_protocol::timefmt::format_rfc3339;
/// assert_eq!(format_rfc3339(0).as_deref(), Some("1970-01-01T00:00:00Z"));
/// assert_eq!(format_rfc3339(1_795_309_323).as_deref(), Some("2026-11-22T01:02:03Z"));
/// assert_eq!(format_rfc3339(-1).as_deref(), Some("1969-12-31T23:59:59Z"));
/// assert_eq!(format_rfc3339(i64::MAX), None);
/// ```
pub fn format_rfc3339(secs: i64) -> Option<String> {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    if !(0..=9999).contains(&y) {
        return None;
    }
    let rem = secs.rem_euclid(86_400);
    Some(format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    ))
}

/// Parses an RFC 3339 timestamp (as [`parse_rfc3339_ms`]) into Unix
/// seconds, the fraction dropped.
///
/// ```
/// use sonde_protocol::timefmt::parse_rfc3339;
/// assert_eq!(parse_rfc3339("2023-11-14T22:13:20.9Z"), Some(1_700_000_000));
/// assert_eq!(parse_rfc3339("1969-12-31T23:59:59.5Z"), Some(-1));
/// ```
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    parse_rfc3339_ms(s).map(|ms| ms.div_euclid(1000))
}

/// The UTC calendar date `(year, month, day)` of Unix seconds `secs`.
///
/// ```
/// use sonde_protocol::timefmt::civil_date;
/// assert_eq!(civil_date(0), (1970, 1, 1));
/// assert_eq!(civil_date(1_795_309_323), (2026, 11, 22));
/// assert_eq!(civil_date(-1), (1969, 12, 31));
/// ```
pub fn civil_date(secs: i64) -> (i64, i64, i64) {
    civil_from_days(secs.div_euclid(86_400))
}

/// The number of days in `month` (1 to 12) of `year`, proleptic Gregorian.
fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard
/// Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days.saturating_add(719_468);
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leap_day_and_offsets() {
        assert_eq!(parse_rfc3339_ms("2024-02-29T00:00:00Z"), Some(1_709_164_800_000));
        assert_eq!(parse_rfc3339_ms("2024-02-28T19:00:00-05:00"), Some(1_709_164_800_000));
        assert_eq!(
            parse_rfc3339_ms("2019-01-21T10:00:23.849202+00:00"),
            Some(1_548_064_823_849)
        );
        assert_eq!(parse_rfc3339_ms("2019-13-21T10:00:23Z"), None);
        assert_eq!(parse_rfc3339_ms("2019-01-21T10:00:23"), None);
        assert_eq!(parse_rfc3339_ms("2019-01-21T10:00:23.Z"), None);
        assert_eq!(parse_rfc3339_ms("2023-02-29T00:00:00Z"), None);
        assert_eq!(parse_rfc3339_ms("2026-04-31T00:00:00Z"), None);
    }

    #[test]
    fn formatting_and_parsing_agree() {
        assert_eq!(format_rfc3339(951_782_400).as_deref(), Some("2000-02-29T00:00:00Z"));
        assert_eq!(format_rfc3339(253_402_300_799).as_deref(), Some("9999-12-31T23:59:59Z"));
        assert_eq!(format_rfc3339(253_402_300_800), None);
        assert_eq!(format_rfc3339(-62_167_219_200).as_deref(), Some("0000-01-01T00:00:00Z"));
        assert_eq!(format_rfc3339(-62_167_219_201), None);
        for secs in [-62_167_219_200, -1, 0, 951_782_400, 1_795_309_323, 253_402_300_799] {
            assert_eq!(parse_rfc3339(&format_rfc3339(secs).unwrap()), Some(secs), "{secs}");
        }
    }
}
