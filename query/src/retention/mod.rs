//! Retention: persons grouped into cohorts by the period (day, week starting Monday, month in
//! the query's zone) of their start event — the first ever (`first_time`) or each one
//! (`recurring`) — and, for every later period k, how many of them did the return event in
//! period k (`bracket`, N-day) or in period k or later (`unbounded`, rolling). Period 0
//! counts a return at or after the start event only. Persons are resolved across devices.
//!
//! [`plan`] checks the question and builds one statement; [`RetentionPlan::fold`] turns its
//! rows into the grid. No IO here.

mod fold;

use chrono::{Duration, Months, NaiveDate};
use numu_warehouse::{Sql, Value};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::QueryError;
use crate::filter::{self, PropertyFilter};
use crate::limits::Limits;
use crate::property::Property;
use crate::range::{date_bucket, day_start, DateRange, Interval, Window, Zone};
use crate::source::Source;
use crate::template::{fill, value};

pub use fold::{CohortRow, RetentionAnswer, RetentionLine};

/// Most periods (columns) a retention grid may have.
pub const MAX_PERIODS: u32 = 120;

/// A retention question.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionQuery {
    /// The start events counted: cohorts are the periods of this range.
    pub date_range: DateRange,
    /// IANA time zone of the periods (default `UTC`).
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub period: Period,
    /// Columns of the grid, period 0 included (default 8).
    #[serde(default)]
    pub periods: Option<u32>,
    pub start_event: EventSpec,
    pub return_event: EventSpec,
    #[serde(default)]
    pub retention_type: RetentionType,
    #[serde(default)]
    pub counting: Counting,
    /// Filters on both the start and the return events (ANDed).
    #[serde(default)]
    pub filters: Vec<PropertyFilter>,
    /// Split cohorts by a property of the start event (event, person or session).
    #[serde(default)]
    pub breakdown: Option<crate::trends::Breakdown>,
    #[serde(default)]
    pub include_bots: bool,
}

/// An event with its own filters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventSpec {
    /// The event name; absent means any event.
    #[serde(default)]
    #[schema(example = "signup")]
    pub event: Option<String>,
    #[serde(default)]
    pub filters: Vec<PropertyFilter>,
}

/// The period of cohorts and returns. Weeks start on Monday.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    #[default]
    Day,
    Week,
    Month,
}

/// Which start events make cohorts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RetentionType {
    /// A person's cohort is the period of their first start event ever (if in the range).
    #[default]
    FirstTime,
    /// A person is in the cohort of every period in which they did the start event.
    Recurring,
}

/// What "returned in period k" means.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Counting {
    /// A return event in period k itself (N-day).
    #[default]
    Bracket,
    /// A return event in period k or any later period of the grid (rolling).
    Unbounded,
}

impl Period {
    fn interval(self) -> Interval {
        match self {
            Period::Day => Interval::Day,
            Period::Week => Interval::Week,
            Period::Month => Interval::Month,
        }
    }

    /// The first day of the period `k` periods after the one starting on `first`.
    pub fn advance(self, first: NaiveDate, k: u32) -> NaiveDate {
        match self {
            Period::Day => first + Duration::days(i64::from(k)),
            Period::Week => first + Duration::days(7 * i64::from(k)),
            Period::Month => first.checked_add_months(Months::new(k)).unwrap_or(first),
        }
    }

    /// SQL numbering the periods of `column` (a `DateTime64`) so that consecutive periods
    /// differ by one.
    fn number_sql(self, column: &str, zone: Zone) -> Sql {
        let date = || Sql::new(format!("toDate({column}, ")).append(zone.sql()).push(")");
        match self {
            Period::Day => Sql::new("toInt64(toRelativeDayNum(").append(date()).push("))"),
            Period::Week => {
                Sql::new("toInt64(intDiv(toRelativeDayNum(toStartOfWeek(").append(date()).push(", 1)), 7))")
            }
            Period::Month => {
                Sql::new("toInt64(toYear(").append(date()).push(") * 12 + toMonth(").append(date()).push("))")
            }
        }
    }
}

/// A checked retention question: its statement and what folding it needs.
#[derive(Clone, Debug)]
pub struct RetentionPlan {
    statements: Vec<Sql>,
    labels: Vec<String>,
    periods: u32,
    query: RetentionQuery,
    window: Window,
    now_ms: i64,
    breakdown_limit: Option<u32>,
}

/// Checks `query` and builds its statement (`now_ms` resolves relative dates and marks
/// periods that have not begun).
pub fn plan(
    query: &RetentionQuery,
    project: u64,
    now_ms: i64,
    limits: &Limits,
) -> Result<RetentionPlan, QueryError> {
    let periods = query.periods.unwrap_or(8);
    if periods == 0 || periods > MAX_PERIODS {
        return Err(QueryError::bad("periods", format!("must be between 1 and {MAX_PERIODS}")));
    }
    let filter_count =
        query.filters.len() + query.start_event.filters.len() + query.return_event.filters.len();
    Limits::at_most("filters", filter_count, limits.max_filters, "filters")?;
    let zone = Zone::parse("timezone", query.timezone.as_deref())?;
    let window = query.date_range.resolve(zone, now_ms, limits)?;
    let labels = window.buckets(query.period.interval(), limits)?;
    let breakdown = match &query.breakdown {
        Some(b) => Some(breakdown(b, limits)?),
        None => None,
    };
    let statement = statement(query, project, window, periods, breakdown.as_ref().map(|b| &b.0), limits)?;
    Ok(RetentionPlan {
        statements: vec![statement],
        labels,
        periods,
        query: query.clone(),
        window,
        now_ms,
        breakdown_limit: breakdown.map(|b| b.1),
    })
}

fn breakdown(b: &crate::trends::Breakdown, limits: &Limits) -> Result<(Property, u32), QueryError> {
    let property = Property::resolve("breakdown.property", &b.property, b.kind)?;
    let limit = b.limit.unwrap_or(10);
    if limit == 0 || limit > limits.max_breakdown_values {
        return Err(QueryError::bad(
            "breakdown.limit",
            format!("must be between 1 and {} (the configured limit)", limits.max_breakdown_values),
        ));
    }
    Ok((property, limit))
}

/// The conditions of one event spec, with the global filters, and the joins they need.
fn event_conditions(
    spec: &EventSpec,
    field: &str,
    global: &filter::Condition,
    limits: &Limits,
) -> Result<filter::Condition, QueryError> {
    let own = filter::all(&spec.filters, &format!("{field}.filters"), limits)?;
    let mut sql = Sql::new("(").append(global.sql.clone()).push(") AND (").append(own.sql).push(")");
    if let Some(event) = &spec.event {
        if event.is_empty() || event.chars().count() > 200 {
            return Err(QueryError::bad(&format!("{field}.event"), "an event name has 1 to 200 characters"));
        }
        sql = sql.push(" AND e.event = ").bind(event.as_str());
    }
    Ok(filter::Condition { sql, needs: global.needs.merge(own.needs) })
}

fn statement(
    query: &RetentionQuery,
    project: u64,
    window: Window,
    periods: u32,
    breakdown: Option<&Property>,
    limits: &Limits,
) -> Result<Sql, QueryError> {
    let global = filter::all(&query.filters, "filters", limits)?;
    let start = event_conditions(&query.start_event, "start_event", &global, limits)?;
    let returns = event_conditions(&query.return_event, "return_event", &global, limits)?;
    let mut start_needs = start.needs;
    if let Some(property) = breakdown {
        start_needs = start_needs.merge(property.needs());
    }
    let period = query.period;
    let last = date_bucket(window.days().1, period.interval());
    let horizon = day_start(period.advance(last, periods), window.zone);
    let source = Source::new(project, window, query.include_bots);
    let (start_window, start_group) = match query.retention_type {
        RetentionType::FirstTime => (Window { from_ms: 0, ..window }, Sql::new("e.person")),
        RetentionType::Recurring => {
            (window, Sql::new("e.person, ").append(period.number_sql("e.timestamp", window.zone)))
        }
    };
    let return_window =
        Window { from_ms: window.from_ms, to_ms: horizon.max(window.to_ms), zone: window.zone };
    let bd = breakdown.map(Property::text_expr).unwrap_or_else(|| Sql::new("''"));
    Ok(fill(
        include_str!("../../sql/retention_grid.sql"),
        &[
            ("cohort", period.number_sql("start_ts", window.zone)),
            ("label", period.interval().bucket_sql("start_ts", window.zone)),
            ("breakdown", bd),
            ("start_from", source.with_window(start_window).from(start_needs)),
            ("start_conditions", start.sql),
            ("start_group", start_group),
            ("from", value(Value::TimestampMs(window.from_ms))),
            ("return_period", period.number_sql("e.timestamp", window.zone)),
            ("return_from", source.with_window(return_window).from(returns.needs)),
            ("return_conditions", returns.sql),
            ("periods", value(Value::Int64(i64::from(periods)))),
        ],
    ))
}

impl RetentionPlan {
    pub fn statements(&self) -> &[Sql] {
        &self.statements
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(json: serde_json::Value) -> String {
        let query: RetentionQuery = match serde_json::from_value(json) {
            Ok(q) => q,
            Err(e) => return format!("parse: {e}"),
        };
        match plan(&query, 1, 1_717_000_000_000, &Limits::default()) {
            Err(QueryError::BadRequest { field, .. }) => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_questions_name_the_field() {
        let base = |extra: serde_json::Value| {
            let mut q = serde_json::json!({
                "date_range": {"from": "2024-05-01", "to": "2024-05-07"},
                "start_event": {"event": "signup"}, "return_event": {}
            });
            q.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            q
        };
        assert_eq!(field_of(base(serde_json::json!({"periods": 0}))), "periods");
        assert_eq!(
            field_of(base(serde_json::json!({"date_range": {"from": "2024-05-07", "to": "2024-05-01"}}))),
            "date_range"
        );
        assert_eq!(field_of(base(serde_json::json!({"start_event": {"event": ""}}))), "start_event.event");
        assert_eq!(
            field_of(base(serde_json::json!({"breakdown": {"property": "$nope"}}))),
            "breakdown.property"
        );
        assert!(field_of(base(serde_json::json!({"period": "hour"}))).starts_with("parse"));
    }

    #[test]
    fn values_are_bound_and_the_project_scoped() {
        let evil = "x' OR 1=1 --";
        let query: RetentionQuery = serde_json::from_value(serde_json::json!({
            "date_range": {"from": "2024-05-01", "to": "2024-05-07"}, "timezone": "Asia/Tokyo", "period": "week",
            "start_event": {"event": evil}, "return_event": {"event": evil},
            "breakdown": {"property": evil}
        }))
        .unwrap();
        let plan = plan(&query, 42, 0, &Limits::default()).unwrap();
        let (text, values) = plan.statements()[0].render(numu_warehouse::PlaceholderStyle::QuestionMark);
        assert!(!text.contains("OR 1=1") && !text.contains("Asia/Tokyo"), "{text}");
        assert!(values.contains(&Value::from(evil)));
        assert!(values.contains(&Value::UInt64(42)));
    }

    #[test]
    fn months_and_weeks_advance_by_calendar() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(Period::Month.advance(d(2024, 11, 1), 3), d(2025, 2, 1));
        assert_eq!(Period::Week.advance(d(2024, 5, 6), 2), d(2024, 5, 20));
    }
}
