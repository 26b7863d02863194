//! Date ranges in a time zone, intervals, and the time buckets of a range.
//!
//! A zone is an IANA name checked against the tz database (`chrono-tz`) and then *bound* as a
//! parameter like any other value: ClickHouse substitutes query parameters as constants, so
//! `toDate(timestamp, ?)` works where the zone must be constant. Nothing is spliced. Buckets
//! are computed twice on purpose: in SQL (the label each event falls into) and here (every
//! label of the range, so empty buckets show as zero); both use the same label format.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use numu_warehouse::{Sql, Value};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::QueryError;
use crate::limits::Limits;
use crate::template::value;

const DAY_MS: i64 = 86_400_000;

/// The period a query covers, in its time zone.
///
/// Each end is a date (`2024-03-01`: local midnight; as `to` the whole day is included), a
/// local date-time (`2024-03-01T08:00`), an instant with offset (`2024-03-01T08:00:00Z`),
/// `now`, `today`, `-7d` (the start of the day 7 days ago) or `-24h` (24 hours ago).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DateRange {
    #[schema(example = "2024-03-01")]
    pub from: String,
    /// Defaults to `now`.
    #[serde(default)]
    #[schema(example = "2024-03-31")]
    pub to: Option<String>,
}

/// The width of a time bucket. Weeks start on Monday.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    Hour,
    #[default]
    Day,
    Week,
    Month,
}

/// A checked IANA time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Zone(Tz);

impl Zone {
    /// Accepts IANA names only (`Europe/Berlin`, `UTC`); `None` is UTC.
    pub fn parse(field: &str, name: Option<&str>) -> Result<Zone, QueryError> {
        let name = name.unwrap_or("UTC");
        name.parse::<Tz>().map(Zone).map_err(|_| {
            QueryError::bad(
                field,
                format!("unknown time zone {name:?}: use an IANA name such as Europe/Berlin"),
            )
        })
    }

    pub fn tz(self) -> Tz {
        self.0
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The zone as a bound parameter.
    pub fn sql(self) -> Sql {
        value(self.name())
    }
}

/// A resolved half-open range `[from_ms, to_ms)` in a zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub from_ms: i64,
    pub to_ms: i64,
    pub zone: Zone,
}

impl DateRange {
    /// Resolves both ends at `now_ms`, checking order and the configured length limit.
    pub fn resolve(&self, zone: Zone, now_ms: i64, limits: &Limits) -> Result<Window, QueryError> {
        let from = parse_end("date_range.from", &self.from, zone, now_ms, false)?;
        let to = match &self.to {
            Some(to) => parse_end("date_range.to", to, zone, now_ms, true)?,
            None => now_ms,
        };
        if from >= to {
            return Err(QueryError::bad("date_range", "`from` must be before `to`"));
        }
        if to - from > i64::from(limits.max_range_days) * DAY_MS {
            return Err(QueryError::bad(
                "date_range",
                format!("longer than {} days (the configured limit)", limits.max_range_days),
            ));
        }
        Ok(Window { from_ms: from, to_ms: to, zone })
    }
}

fn parse_end(field: &str, text: &str, zone: Zone, now_ms: i64, is_end: bool) -> Result<i64, QueryError> {
    let bad = || {
        QueryError::bad(
            field,
            format!("{text:?} is not a date (2024-03-01), date-time, `now`, `today`, `-7d` or `-24h`"),
        )
    };
    let today = local_date(now_ms, zone);
    let text = text.trim();
    if text == "now" {
        return Ok(now_ms);
    }
    if text == "today" {
        return Ok(day_start(today, zone));
    }
    if let Some(count) = text.strip_prefix('-') {
        let (number, unit) = count.split_at(count.len().saturating_sub(1));
        let n: i64 = number.parse().map_err(|_| bad())?;
        return match unit {
            "d" if n <= 100_000 => Ok(day_start(today - Duration::days(n), zone)),
            "h" if n <= 1_000_000 => Ok(now_ms - n * 3_600_000),
            _ => Err(bad()),
        };
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let date = if is_end { date.succ_opt().ok_or_else(bad)? } else { date };
        return Ok(day_start(date, zone));
    }
    if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
        return Ok(instant.timestamp_millis());
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(local) = NaiveDateTime::parse_from_str(text, format) {
            return local_instant(local, zone).ok_or_else(bad);
        }
    }
    Err(bad())
}

/// The local calendar date of an instant.
pub fn local_date(ms: i64, zone: Zone) -> NaiveDate {
    instant(ms).with_timezone(&zone.tz()).date_naive()
}

fn instant(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// The first instant of a local date (midnight, or the first valid time after a DST gap).
pub fn day_start(date: NaiveDate, zone: Zone) -> i64 {
    let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    local_instant(midnight, zone).unwrap_or_else(|| Utc.from_utc_datetime(&midnight).timestamp_millis())
}

/// The instant of a local time; the earlier one when ambiguous, the first valid one after a gap.
fn local_instant(local: NaiveDateTime, zone: Zone) -> Option<i64> {
    (0..4).find_map(|step| {
        let shifted = local + Duration::minutes(30 * step);
        let found = zone.tz().from_local_datetime(&shifted).earliest()?;
        Some(if step == 0 {
            found.timestamp_millis()
        } else {
            found.timestamp_millis() - found.timestamp_millis() % 1_800_000
        })
    })
}

impl Window {
    /// The period of equal length just before this one.
    pub fn previous(&self) -> Window {
        let length = self.to_ms - self.from_ms;
        Window { from_ms: self.from_ms - length, to_ms: self.from_ms, ..*self }
    }

    pub fn from_sql(&self) -> Value {
        Value::TimestampMs(self.from_ms)
    }

    pub fn to_sql(&self) -> Value {
        Value::TimestampMs(self.to_ms)
    }

    /// The local dates of the first and the last instant of the range.
    pub fn days(&self) -> (NaiveDate, NaiveDate) {
        (local_date(self.from_ms, self.zone), local_date(self.to_ms - 1, self.zone))
    }

    /// Every bucket label of the range, in order, refused beyond the configured count.
    pub fn buckets(&self, interval: Interval, limits: &Limits) -> Result<Vec<String>, QueryError> {
        let hours = (self.to_ms - self.from_ms) / 3_600_000;
        if interval == Interval::Hour && hours > i64::from(limits.max_buckets) {
            return Err(too_many_buckets(limits));
        }
        let labels = match interval {
            Interval::Hour => self.hour_labels(),
            _ => self.date_labels(interval),
        };
        if labels.len() > limits.max_buckets as usize {
            return Err(too_many_buckets(limits));
        }
        Ok(labels)
    }

    fn date_labels(&self, interval: Interval) -> Vec<String> {
        let (first, last) = self.days();
        let mut labels: Vec<String> = Vec::new();
        for date in first.iter_days().take_while(|d| *d <= last) {
            let label = date_bucket(date, interval).format("%Y-%m-%d").to_string();
            if labels.last() != Some(&label) {
                labels.push(label);
            }
        }
        labels
    }

    fn hour_labels(&self) -> Vec<String> {
        let tz = self.zone.tz();
        let start = instant(self.from_ms).with_timezone(&tz);
        let into_hour = i64::from(start.minute()) * 60_000 + (self.from_ms % 60_000 + 60_000) % 60_000;
        let mut at = self.from_ms - into_hour;
        let mut labels: Vec<String> = Vec::new();
        while at < self.to_ms {
            let label = hour_label(at, self.zone);
            if labels.last() != Some(&label) {
                labels.push(label);
            }
            at += 3_600_000;
        }
        labels
    }
}

fn too_many_buckets(limits: &Limits) -> QueryError {
    QueryError::bad(
        "interval",
        format!(
            "the range has more than {} buckets (the configured limit): use a wider interval",
            limits.max_buckets
        ),
    )
}

/// The first day of the bucket holding `date`.
pub fn date_bucket(date: NaiveDate, interval: Interval) -> NaiveDate {
    match interval {
        Interval::Week => date - Duration::days(i64::from(date.weekday().num_days_from_monday())),
        Interval::Month => date.with_day(1).unwrap_or(date),
        Interval::Hour | Interval::Day => date,
    }
}

/// The label of the local hour holding instant `ms`: `2024-03-31T03:00+0200`.
pub fn hour_label(ms: i64, zone: Zone) -> String {
    instant(ms).with_timezone(&zone.tz()).format("%Y-%m-%dT%H:00%z").to_string()
}

impl Interval {
    /// SQL giving the bucket label of `column` (a `DateTime64`) in `zone`, as [`Window::buckets`] writes it.
    pub fn bucket_sql(self, column: &str, zone: Zone) -> Sql {
        let (head, tail) = match self {
            Interval::Hour => ("formatDateTime(toStartOfHour(toTimeZone(", ")), '%Y-%m-%dT%H:00%z')"),
            Interval::Day => ("toString(toDate(", "))"),
            Interval::Week => ("toString(toStartOfWeek(toDate(", "), 1))"),
            Interval::Month => ("toString(toStartOfMonth(toDate(", ")))"),
        };
        Sql::new(format!("{head}{column}, ")).append(zone.sql()).push(tail)
    }

    /// SQL standing for the bucket of `column` (a time), cheaper to collect than its label:
    /// the start of its hour (hours) or of its day (the rest) in `zone`, a time whose
    /// [`Interval::bucket_sql`] is the bucket's label.
    pub fn bucket_key_sql(self, column: &str, zone: Zone) -> Sql {
        let head = match self {
            Interval::Hour => "toStartOfHour(toTimeZone(",
            Interval::Day | Interval::Week | Interval::Month => "toStartOfDay(toTimeZone(",
        };
        Sql::new(format!("{head}{column}, ")).append(zone.sql()).push("))")
    }

    /// SQL giving the bucket label of `day` (a `Date` expression).
    pub fn date_bucket_sql(self, day: &str) -> Sql {
        Sql::new(match self {
            Interval::Hour | Interval::Day => format!("toString({day})"),
            Interval::Week => format!("toString(toStartOfWeek({day}, 1))"),
            Interval::Month => format!("toString(toStartOfMonth({day}))"),
        })
    }

    /// SQL giving the last day of the bucket holding `day` (a `Date` expression).
    pub fn last_day_sql(self, day: &str) -> Sql {
        Sql::new(match self {
            Interval::Hour | Interval::Day => day.to_string(),
            Interval::Week => format!("addDays(toStartOfWeek({day}, 1), 6)"),
            Interval::Month => format!("toLastDayOfMonth({day})"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> i64 {
        DateTime::parse_from_rfc3339(text).unwrap().timestamp_millis()
    }

    fn window(from: &str, to: &str, zone: &str) -> Window {
        let range = DateRange { from: from.into(), to: Some(to.into()) };
        range
            .resolve(
                Zone::parse("timezone", Some(zone)).unwrap(),
                ms("2024-06-15T12:00:00Z"),
                &Limits::default(),
            )
            .unwrap()
    }

    #[test]
    fn dates_are_local_midnights_and_the_end_date_is_included() {
        let w = window("2024-03-30", "2024-03-31", "Europe/Berlin");
        assert_eq!(w.from_ms, ms("2024-03-29T23:00:00Z"));
        assert_eq!(w.to_ms, ms("2024-03-31T22:00:00Z"), "the 31st is 23 hours long (DST)");
        assert_eq!(w.buckets(Interval::Day, &Limits::default()).unwrap(), vec!["2024-03-30", "2024-03-31"]);
        let hours = w.buckets(Interval::Hour, &Limits::default()).unwrap();
        assert_eq!(hours.len(), 47);
        assert!(hours.contains(&"2024-03-31T01:00+0100".to_string()));
        assert!(hours.contains(&"2024-03-31T03:00+0200".to_string()));
        assert!(!hours.iter().any(|h| h.starts_with("2024-03-31T02")));
    }

    #[test]
    fn fall_back_repeats_a_local_hour_with_another_offset() {
        let w = window("2024-10-27", "2024-10-27", "Europe/Berlin");
        let hours = w.buckets(Interval::Hour, &Limits::default()).unwrap();
        assert_eq!(hours.len(), 25);
        assert!(hours.contains(&"2024-10-27T02:00+0200".to_string()));
        assert!(hours.contains(&"2024-10-27T02:00+0100".to_string()));
    }

    #[test]
    fn weeks_start_monday_and_months_on_the_first() {
        let w = window("2024-02-28", "2024-03-05", "UTC");
        assert_eq!(w.buckets(Interval::Week, &Limits::default()).unwrap(), vec!["2024-02-26", "2024-03-04"]);
        assert_eq!(w.buckets(Interval::Month, &Limits::default()).unwrap(), vec!["2024-02-01", "2024-03-01"]);
    }

    #[test]
    fn relative_and_instant_ends() {
        let w = window("-2d", "now", "UTC");
        assert_eq!(w.from_ms, ms("2024-06-13T00:00:00Z"));
        assert_eq!(w.to_ms, ms("2024-06-15T12:00:00Z"));
        let w = window("2024-06-01T10:00:00+02:00", "2024-06-01T18:30", "Asia/Tokyo");
        assert_eq!(w.from_ms, ms("2024-06-01T08:00:00Z"));
        assert_eq!(w.to_ms, ms("2024-06-01T09:30:00Z"));
        assert_eq!(w.previous().to_ms, w.from_ms);
    }

    #[test]
    fn bad_ranges_and_zones_name_the_field() {
        let zone = Zone::parse("timezone", None).unwrap();
        let field = |r: &DateRange| match r.resolve(zone, 0, &Limits::default()) {
            Err(QueryError::BadRequest { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(&DateRange { from: "2024-03-02".into(), to: Some("2024-03-01".into()) }),
            "date_range"
        );
        assert_eq!(field(&DateRange { from: "yesterday".into(), to: None }), "date_range.from");
        assert_eq!(
            field(&DateRange { from: "2020-01-01".into(), to: Some("2024-01-01".into()) }),
            "date_range"
        );
        for bad in ["Europe/Nowhere", "UTC'; DROP TABLE events; --", ""] {
            assert!(Zone::parse("timezone", Some(bad)).is_err(), "{bad}");
        }
    }
}
