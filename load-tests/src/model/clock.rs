//! Time as the model needs it: epoch milliseconds, UTC calendar days and weekdays, and
//! RFC 3339 text with exactly three fractional digits (`2026-01-15T09:30:00.250Z`).

pub const SECOND_MS: i64 = 1000;
pub const MINUTE_MS: i64 = 60 * SECOND_MS;
pub const HOUR_MS: i64 = 60 * MINUTE_MS;
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// Midnight (UTC) of the day holding `ms`.
pub fn midnight(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS) * DAY_MS
}

/// Day of the week of `ms`, Monday = 0 (1970-01-01 was a Thursday).
pub fn weekday(ms: i64) -> usize {
    (ms.div_euclid(DAY_MS) + 3).rem_euclid(7) as usize
}

/// (year, month, day) of a count of days since 1970-01-01 (H. Hinnant's civil_from_days).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// Days since 1970-01-01 of a civil date (H. Hinnant's days_from_civil).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD` of the day holding `ms`.
pub fn date(ms: i64) -> String {
    let (y, m, d) = civil(ms.div_euclid(DAY_MS));
    format!("{y:04}-{m:02}-{d:02}")
}

/// RFC 3339 in UTC with milliseconds: `2026-01-15T09:30:00.250Z`.
pub fn rfc3339(ms: i64) -> String {
    let (y, mo, d) = civil(ms.div_euclid(DAY_MS));
    let in_day = ms.rem_euclid(DAY_MS);
    let (h, mi, s, milli) =
        (in_day / HOUR_MS, in_day / MINUTE_MS % 60, in_day / SECOND_MS % 60, in_day % 1000);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z")
}

fn digits(text: &str, range: std::ops::Range<usize>) -> Option<i64> {
    let part = text.get(range)?;
    part.bytes().all(|b| b.is_ascii_digit()).then(|| part.parse().ok())?
}

/// Parses RFC 3339 as this model writes it, and the common variants: any number of
/// fractional digits (or none), `Z` or a `±HH:MM` offset.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let (year, month, day) = (digits(text, 0..4)?, digits(text, 5..7)?, digits(text, 8..10)?);
    let (hour, minute, second) = (digits(text, 11..13)?, digits(text, 14..16)?, digits(text, 17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &text[19..];
    let mut millis = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let end = fraction.bytes().position(|b| !b.is_ascii_digit()).unwrap_or(fraction.len());
        if end == 0 {
            return None;
        }
        let padded = format!("{:0<3}", &fraction[..end.min(3)]);
        millis = padded.parse::<i64>().ok()?;
        rest = &fraction[end..];
    }
    let offset_ms = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && matches!(rest.as_bytes()[0], b'+' | b'-') && rest.as_bytes()[3] == b':' => {
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            sign * (digits(rest, 1..3)? * HOUR_MS + digits(rest, 4..6)? * MINUTE_MS)
        }
        _ => return None,
    };
    let days = days_from_civil(year, month as u32, day as u32);
    Some(days * DAY_MS + hour * HOUR_MS + minute * MINUTE_MS + second * SECOND_MS + millis - offset_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_round_trip() {
        for ms in [0, 1_768_469_400_250, 951_782_400_000, 4_102_444_799_999, -86_400_001] {
            let text = rfc3339(ms);
            assert_eq!(parse_rfc3339(&text), Some(ms), "{text}");
            let reference =
                time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap();
            assert_eq!(
                &text[..19],
                &reference.format(&time::format_description::well_known::Rfc3339).unwrap()[..19]
            );
        }
        assert_eq!(rfc3339(1_768_469_400_250), "2026-01-15T09:30:00.250Z");
        assert_eq!(date(1_768_469_400_250), "2026-01-15");
        assert_eq!(weekday(1_768_469_400_250), 3, "2026-01-15 is a Thursday");
    }

    #[test]
    fn parses_offsets_and_precisions() {
        let base = parse_rfc3339("2026-01-15T09:30:00Z").unwrap();
        assert_eq!(parse_rfc3339("2026-01-15T09:30:00.5Z"), Some(base + 500));
        assert_eq!(parse_rfc3339("2026-01-15T09:30:00.123456789Z"), Some(base + 123));
        assert_eq!(parse_rfc3339("2026-01-15T11:30:00+02:00"), Some(base));
        assert_eq!(parse_rfc3339("2026-01-15"), None);
        assert_eq!(parse_rfc3339("2026-13-15T09:30:00Z"), None);
        assert_eq!(parse_rfc3339("2026-01-15T09:30:00.Z"), None);
    }
}
