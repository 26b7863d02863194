//! Validation of a decoded message against the Segment spec's rules: which fields each
//! type needs, id types, name and id lengths, timestamps. Refusals name the field.

use numu_schemas::{EventType, Message};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::decode::{Hints, Parsed};
use crate::DecodeError;

/// Longest accepted id (user, anonymous, group, message, session).
pub const MAX_ID_CHARS: usize = 256;
/// Longest accepted event name.
pub const MAX_EVENT_NAME_CHARS: usize = 200;

/// A message that passed validation, with its ids as text and its times parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct Valid {
    pub message: Message,
    pub hints: Hints,
    pub kind: EventType,
    /// The name stored in `events.event`.
    pub event: String,
    pub user_id: String,
    pub anonymous_id: String,
    pub previous_id: String,
    pub group_id: String,
    /// Client clock, epoch ms (`timestamp`, else `originalTimestamp`).
    pub timestamp_ms: Option<i64>,
    /// Client clock when sent, epoch ms.
    pub sent_at_ms: Option<i64>,
}

/// Segment ids may be strings or numbers; numbers are stored as their decimal text.
pub fn id_text(value: Option<&Value>, field: &str) -> Result<String, DecodeError> {
    let text = match value {
        None | Some(Value::Null) => return Ok(String::new()),
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => {
            return Err(DecodeError::WrongType {
                field: field.into(),
                message: format!("expected a string or number, got {}", json_kind(other)),
            })
        }
    };
    check_length(&text, field, MAX_ID_CHARS)?;
    Ok(text)
}

fn check_length(text: &str, field: &str, max: usize) -> Result<(), DecodeError> {
    // Byte length bounds char count from above, so most texts skip the count.
    if text.len() > max && text.chars().count() > max {
        return Err(DecodeError::InvalidValue {
            field: field.into(),
            message: format!("longer than {max} characters"),
        });
    }
    Ok(())
}

/// The JSON type name of a value, for error messages.
pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The common shape `YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM)` without a general parser:
/// every Segment library sends it, and this runs for every event. `None` means "not this
/// shape" (the general parser decides), not "invalid".
fn parse_common_time(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = b.get(range)?;
        digits.iter().try_fold(0i64, |n, d| d.is_ascii_digit().then(|| n * 10 + i64::from(d - b'0')))
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let days_in_month = match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    if day < 1 || day > days_in_month || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut at = 19;
    let mut millis = 0;
    if b[at] == b'.' {
        let digits = b[at + 1..].iter().take_while(|d| d.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        millis = b[at + 1..at + 1 + digits.min(3)].iter().fold(0, |n, d| n * 10 + i64::from(d - b'0'))
            * 10i64.pow(3 - digits.min(3) as u32);
        at += 1 + digits;
    }
    let offset_minutes = match &b[at..] {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (h, m) = (num(at + 1..at + 3)?, num(at + 4..at + 6)?);
            if h > 23 || m > 59 {
                return None;
            }
            if *sign == b'+' {
                h * 60 + m
            } else {
                -(h * 60 + m)
            }
        }
        _ => return None,
    };
    let seconds =
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1000 + millis)
}

/// Parses an ISO-8601 / RFC 3339 time to epoch ms; a time without offset is taken as UTC.
pub fn parse_time(text: &str, field: &str) -> Result<i64, DecodeError> {
    if let Some(ms) = parse_common_time(text) {
        return Ok(ms);
    }
    let parsed = OffsetDateTime::parse(text, &Rfc3339).ok().or_else(|| {
        // Some clients omit the offset; such times are UTC by Segment's convention.
        (text.len() < 40).then(|| OffsetDateTime::parse(&format!("{text}Z"), &Rfc3339).ok()).flatten()
    });
    parsed.map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64).ok_or_else(|| DecodeError::InvalidValue {
        field: field.into(),
        message: format!("`{}` is not an ISO-8601 date-time", text.chars().take(60).collect::<String>()),
    })
}

fn optional_time(text: Option<&str>, field: &str) -> Result<Option<i64>, DecodeError> {
    text.map(|t| parse_time(t, field)).transpose()
}

fn required(value: &str, field: &str) -> Result<(), DecodeError> {
    if value.is_empty() {
        return Err(DecodeError::MissingField(field.into()));
    }
    Ok(())
}

/// Checks one message. `require_identity` is set for the Segment endpoints, which need a
/// `userId` or `anonymousId` as Segment does; the snippet and pixel may send neither and
/// get a cookieless visitor id instead.
pub fn validate(parsed: Parsed, require_identity: bool) -> Result<Valid, DecodeError> {
    let Parsed { message, hints } = parsed;
    let kind = message.kind.ok_or_else(|| DecodeError::MissingField("type".into()))?;
    let user_id = id_text(message.user_id.as_ref(), "userId")?;
    let anonymous_id = id_text(message.anonymous_id.as_ref(), "anonymousId")?;
    let previous_id = id_text(message.previous_id.as_ref(), "previousId")?;
    let group_id = id_text(message.group_id.as_ref(), "groupId")?;
    if let Some(id) = &message.message_id {
        check_length(id, "messageId", MAX_ID_CHARS)?;
    }
    let event = match kind {
        EventType::Track => {
            let name = message.event.as_deref().map(str::trim).unwrap_or_default();
            required(name, "event")?;
            check_length(name, "event", MAX_EVENT_NAME_CHARS)?;
            name.to_string()
        }
        other => other.stored_name().unwrap_or_default().to_string(),
    };
    match kind {
        EventType::Alias => {
            required(&user_id, "userId")?;
            required(&previous_id, "previousId")?;
        }
        EventType::Group => required(&group_id, "groupId")?,
        _ if require_identity && user_id.is_empty() && anonymous_id.is_empty() => {
            return Err(DecodeError::MissingField("userId or anonymousId".into()));
        }
        _ => {}
    }
    let timestamp_ms = match hints.timestamp_ms {
        Some(ms) => Some(ms),
        None => match optional_time(message.timestamp.as_deref(), "timestamp")? {
            Some(ms) => Some(ms),
            None => optional_time(message.original_timestamp.as_deref(), "originalTimestamp")?,
        },
    };
    let sent_at_ms = match hints.sent_at_ms {
        Some(ms) => Some(ms),
        None => optional_time(message.sent_at.as_deref(), "sentAt")?,
    };
    Ok(Valid {
        message,
        hints,
        kind,
        event,
        user_id,
        anonymous_id,
        previous_id,
        group_id,
        timestamp_ms,
        sent_at_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(json: &str, require_identity: bool) -> Result<Valid, DecodeError> {
        let message: Message = serde_json::from_str(json).unwrap();
        validate(Parsed { message, hints: Hints::default() }, require_identity)
    }

    #[test]
    fn required_fields_per_type() {
        assert_eq!(
            check(r#"{"type":"track","userId":"u"}"#, true).unwrap_err(),
            DecodeError::MissingField("event".into())
        );
        assert_eq!(
            check(r#"{"type":"track","event":"e"}"#, true).unwrap_err(),
            DecodeError::MissingField("userId or anonymousId".into())
        );
        assert!(check(r#"{"type":"track","event":"e"}"#, false).is_ok());
        assert_eq!(
            check(r#"{"type":"alias","userId":"u"}"#, true).unwrap_err(),
            DecodeError::MissingField("previousId".into())
        );
        assert_eq!(
            check(r#"{"type":"group","userId":"u"}"#, true).unwrap_err(),
            DecodeError::MissingField("groupId".into())
        );
        let page = check(r#"{"type":"page","userId":42}"#, true).unwrap();
        assert_eq!((page.event.as_str(), page.user_id.as_str()), ("$pageview", "42"));
    }

    #[test]
    fn wrong_types_and_bad_values_are_named() {
        let err = check(r#"{"type":"track","event":"e","userId":{"a":1}}"#, true).unwrap_err();
        assert_eq!(
            err,
            DecodeError::WrongType {
                field: "userId".into(),
                message: "expected a string or number, got an object".into()
            }
        );
        let err =
            check(r#"{"type":"track","event":"e","userId":"u","timestamp":"yesterday"}"#, true).unwrap_err();
        assert!(matches!(err, DecodeError::InvalidValue { field, .. } if field == "timestamp"));
        let long = format!(r#"{{"type":"track","event":"{}","userId":"u"}}"#, "é".repeat(201));
        assert!(
            matches!(check(&long, true).unwrap_err(), DecodeError::InvalidValue { field, .. } if field == "event")
        );
    }

    #[test]
    fn the_fast_time_path_agrees_with_the_general_parser() {
        let general = |text: &str| {
            OffsetDateTime::parse(text, &Rfc3339).ok().map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        };
        let samples = [
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:00.250Z",
            "1969-12-31T23:59:59.999Z",
            "2024-02-29T12:30:45.1+05:30",
            "2000-03-01T00:00:00.123456789-08:00",
            "1900-01-01T00:00:00Z",
            "2026-11-25t10:11:12z",
            "2399-12-31T23:59:59Z",
        ];
        for text in samples {
            assert_eq!(parse_common_time(text), general(text), "{text}");
            assert!(parse_common_time(text).is_some(), "{text}");
        }
        for text in [
            "2023-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00+5:00",
            "2026-01-01 00:00:00Z",
            "2026-01-01T00:00:00",
        ] {
            assert_eq!(parse_common_time(text), None, "{text}");
        }
    }

    #[test]
    fn times_parse_with_and_without_offset() {
        assert_eq!(parse_time("2026-01-01T00:00:00.250Z", "t").unwrap(), 1_767_225_600_250);
        assert_eq!(parse_time("2026-01-01T01:00:00+01:00", "t").unwrap(), 1_767_225_600_000);
        assert_eq!(parse_time("2026-01-01T00:00:00", "t").unwrap(), 1_767_225_600_000);
        let valid = check(r#"{"type":"identify","userId":"u","sentAt":"2026-01-01T00:00:01Z","originalTimestamp":"2026-01-01T00:00:00Z"}"#, true).unwrap();
        assert_eq!(valid.timestamp_ms, Some(1_767_225_600_000));
        assert_eq!(valid.sent_at_ms, Some(1_767_225_601_000));
    }
}
