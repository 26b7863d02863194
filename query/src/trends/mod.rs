//! Trends: one or more series of events over time — totals, unique people or sessions,
//! daily/weekly/monthly active people, or sum/avg/min/max/percentiles of a numeric property —
//! with filters, a breakdown (top N + other), formulas over series and the previous period.
//!
//! [`plan`] checks the question and builds its statements (`statements`: few, each reading
//! both periods and several series where it can); [`TrendsPlan::fold`] turns their rows into
//! the answer. No IO here.

mod fold;
mod statements;

use numu_warehouse::Sql;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::QueryError;
use crate::filter::{self, PropertyFilter};
use crate::formula::Formula;
use crate::limits::Limits;
use crate::property::{Property, PropertyType};
use crate::range::{DateRange, Interval, Window, Zone};
use crate::source::Source;

pub use fold::{PeriodAnswer, SeriesAnswer, TrendsAnswer};
use statements::{Scope, Slot};

/// A trends question.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrendsQuery {
    pub date_range: DateRange,
    /// IANA time zone of the buckets and dates (default `UTC`).
    #[serde(default)]
    #[schema(example = "Europe/Berlin")]
    pub timezone: Option<String>,
    #[serde(default)]
    pub interval: Interval,
    /// At least one series; letters A, B, … name them in formulas.
    pub series: Vec<Series>,
    /// Arithmetic over series letters, e.g. `A/B` or `A-B`.
    #[serde(default)]
    #[schema(example = "A/B")]
    pub formula: Option<String>,
    /// Filters on every series (ANDed).
    #[serde(default)]
    pub filters: Vec<PropertyFilter>,
    #[serde(default)]
    pub breakdown: Option<Breakdown>,
    /// Also answer for the period of equal length just before.
    #[serde(default)]
    pub compare: bool,
    /// Count events flagged as bots (excluded by default).
    #[serde(default)]
    pub include_bots: bool,
}

/// One series: which events, and what to compute of them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Series {
    /// The event name; absent means every event.
    #[serde(default)]
    #[schema(example = "$pageview")]
    pub event: Option<String>,
    #[serde(default)]
    pub math: Math,
    /// The numeric event property for `sum` … `p99`.
    #[serde(default)]
    pub property: Option<String>,
    /// Filters of this series only.
    #[serde(default)]
    pub filters: Vec<PropertyFilter>,
    /// Shown instead of the event name.
    #[serde(default)]
    pub label: Option<String>,
}

/// What a series computes per bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Math {
    /// Number of events.
    #[default]
    Total,
    /// Distinct persons (DAU with a daily interval).
    #[serde(alias = "dau")]
    UniquePeople,
    UniqueSessions,
    /// Distinct persons active in the 7 days ending with each bucket.
    Wau,
    /// Distinct persons active in the 30 days ending with each bucket.
    Mau,
    Sum,
    Avg,
    Min,
    Max,
    /// Percentiles with linear interpolation between the closest ranks.
    P50,
    P90,
    P99,
}

impl Math {
    /// Buckets without rows show this (counts 0; averages and extremes nothing).
    fn empty_value(self) -> Option<f64> {
        match self {
            Math::Total | Math::UniquePeople | Math::UniqueSessions | Math::Wau | Math::Mau | Math::Sum => {
                Some(0.0)
            }
            _ => None,
        }
    }

    fn needs_property(self) -> bool {
        matches!(self, Math::Sum | Math::Avg | Math::Min | Math::Max | Math::P50 | Math::P90 | Math::P99)
    }

    fn active_days(self) -> Option<u64> {
        match self {
            Math::Wau => Some(7),
            Math::Mau => Some(30),
            _ => None,
        }
    }

    fn name(self) -> String {
        serde_json::to_value(self).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
    }
}

/// Split every series by a property: the `limit` most frequent values, the rest as "other".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Breakdown {
    #[schema(example = "browser")]
    pub property: String,
    #[serde(default, rename = "type")]
    pub kind: PropertyType,
    /// Values shown on their own (default 10).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// A checked trends question: its statements and what folding them needs.
#[derive(Clone, Debug)]
pub struct TrendsPlan {
    statements: Vec<Sql>,
    /// Per statement: where its rows go.
    slots: Vec<Slot>,
    series: Vec<(String, Math)>,
    buckets: Vec<String>,
    previous_buckets: Option<Vec<String>>,
    formula: Option<(String, Formula)>,
    breakdown: bool,
    window: Window,
    interval: Interval,
}

/// Checks `query` and builds its statements (`now_ms` resolves relative dates).
pub fn plan(
    query: &TrendsQuery,
    project: u64,
    now_ms: i64,
    limits: &Limits,
) -> Result<TrendsPlan, QueryError> {
    if query.series.is_empty() {
        return Err(QueryError::bad("series", "at least one series"));
    }
    Limits::at_most("series", query.series.len(), limits.max_series.min(26), "series")?;
    let filter_count = query.filters.len() + query.series.iter().map(|s| s.filters.len()).sum::<usize>();
    Limits::at_most("filters", filter_count, limits.max_filters, "filters")?;
    let zone = Zone::parse("timezone", query.timezone.as_deref())?;
    let window = query.date_range.resolve(zone, now_ms, limits)?;
    let buckets = window.buckets(query.interval, limits)?;
    let previous_buckets =
        query.compare.then(|| window.previous().buckets(query.interval, limits)).transpose()?;
    let formula = match &query.formula {
        Some(text) => Some((text.clone(), Formula::parse("formula", text, query.series.len())?)),
        None => None,
    };
    let breakdown = match &query.breakdown {
        Some(b) => Some(breakdown(b, limits)?),
        None => None,
    };
    let scope = Scope {
        source: Source::new(project, window, query.include_bots),
        window,
        interval: query.interval,
        breakdown,
        limits,
    };
    let global = filter::all(&query.filters, "filters", limits)?;
    let parts = query
        .series
        .iter()
        .enumerate()
        .map(|(i, series)| scope.part(i, series, &global))
        .collect::<Result<Vec<_>, _>>()?;
    let (statements, slots) = scope.statements(&parts, query.compare).into_iter().unzip();
    let plan = TrendsPlan {
        statements,
        slots,
        series: query.series.iter().map(|series| (label(series), series.math)).collect(),
        buckets,
        previous_buckets,
        formula,
        breakdown: query.breakdown.is_some(),
        window,
        interval: query.interval,
    };
    Ok(plan)
}

fn breakdown(b: &Breakdown, limits: &Limits) -> Result<(Property, u32), QueryError> {
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

fn label(series: &Series) -> String {
    if let Some(label) = &series.label {
        return label.clone();
    }
    let event = series.event.clone().unwrap_or_else(|| "All events".into());
    match (series.math, &series.property) {
        (Math::Total, _) => event,
        (math, Some(property)) => format!("{event} ({} of {property})", math.name()),
        (math, None) => format!("{event} ({})", math.name()),
    }
}

impl TrendsPlan {
    pub fn statements(&self) -> &[Sql] {
        &self.statements
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(json: serde_json::Value) -> TrendsQuery {
        serde_json::from_value(json).unwrap()
    }

    fn field_of(json: serde_json::Value) -> String {
        match plan(&query(json), 1, 1_717_000_000_000, &Limits::default()) {
            Err(QueryError::BadRequest { field, .. }) => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn series_share_statements_unless_a_breakdown_or_their_window_keeps_them_apart() {
        use statements::Periods;
        let slots = |json: serde_json::Value| -> Vec<(Vec<usize>, Periods)> {
            let plan = plan(&query(json), 1, 0, &Limits::default()).unwrap();
            assert_eq!(plan.statements().len(), plan.slots.len());
            assert_eq!(plan.buckets.len(), 7);
            plan.slots.iter().map(|s| (s.columns.iter().map(|c| c.0).collect(), s.periods)).collect()
        };
        let range = serde_json::json!({"from": "2024-05-01", "to": "2024-05-07"});
        let series = serde_json::json!([
            {"event": "$pageview"},
            {"event": "signup", "math": "wau"},
            {"event": "signup", "math": "unique_people"},
            {"event": "purchase", "math": "avg", "property": "revenue"},
            {"event": "purchase", "math": "unique_people"},
        ]);
        // Series whose rows need nothing of the window read both periods in one statement,
        // shared with the others needing the same joins (persons, or none); weekly active
        // people reach back within each period.
        assert_eq!(
            slots(serde_json::json!({"date_range": range, "series": series, "compare": true})),
            [
                (vec![0, 3], Periods::Both),
                (vec![1], Periods::Current),
                (vec![1], Periods::Previous),
                (vec![2, 4], Periods::Both)
            ]
        );
        assert_eq!(
            slots(serde_json::json!({"date_range": range, "series": series})),
            [(vec![0, 3], Periods::Current), (vec![1], Periods::Current), (vec![2, 4], Periods::Current)]
        );
        // A breakdown ranks its values per series: one statement each.
        let broken = serde_json::json!({"date_range": range, "series": series, "compare": true,
            "breakdown": {"property": "browser"}});
        assert_eq!(slots(broken).len(), 6);
        // Sessions are cut within the window read.
        let sessions = serde_json::json!([{"event": "$pageview", "math": "unique_sessions"}, {"event": "x"}]);
        assert_eq!(
            slots(serde_json::json!({"date_range": range, "series": sessions, "compare": true})),
            [(vec![0], Periods::Current), (vec![0], Periods::Previous), (vec![1], Periods::Both)]
        );
    }

    #[test]
    fn only_series_that_count_persons_join_the_identity_mapping() {
        let joins = |series: serde_json::Value| {
            let q = query(serde_json::json!({"date_range": {"from": "2024-05-01"}, "series": [series]}));
            let text =
                plan(&q, 1, 1_717_000_000_000, &Limits::default()).unwrap().statements()[0].to_string();
            text.contains("FROM person_distinct_ids")
        };
        assert!(!joins(serde_json::json!({"event": "signup"})));
        assert!(!joins(serde_json::json!({"event": "purchase", "math": "sum", "property": "revenue"})));
        assert!(joins(serde_json::json!({"event": "signup", "math": "unique_people"})));
        assert!(joins(serde_json::json!({"event": "signup", "math": "dau"})));
        let person_filter =
            serde_json::json!([{"property": "plan", "type": "person", "operator": "equals", "value": "pro"}]);
        assert!(joins(serde_json::json!({"event": "signup", "filters": person_filter})));
    }

    #[test]
    fn bad_questions_name_the_field() {
        let range = serde_json::json!({"from": "2024-05-01", "to": "2024-05-07"});
        assert_eq!(field_of(serde_json::json!({"date_range": range, "series": []})), "series");
        assert_eq!(
            field_of(serde_json::json!({"date_range": range, "series": [{"math": "sum"}]})),
            "series[0].property"
        );
        assert_eq!(
            field_of(
                serde_json::json!({"date_range": range, "series": [{"math": "wau"}], "interval": "hour"})
            ),
            "interval"
        );
        assert_eq!(
            field_of(serde_json::json!({"date_range": range, "series": [{}], "formula": "B"})),
            "formula"
        );
        assert_eq!(
            field_of(
                serde_json::json!({"date_range": range, "series": [{}], "breakdown": {"property": "$nope"}})
            ),
            "breakdown.property"
        );
        assert_eq!(
            field_of(serde_json::json!({"date_range": range, "series": [{}], "timezone": "Mars/Olympus"})),
            "timezone"
        );
    }
}
