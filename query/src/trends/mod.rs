//! Trends: one or more series of events over time — totals, unique people or sessions,
//! daily/weekly/monthly active people, or sum/avg/min/max/percentiles of a numeric property —
//! with filters, a breakdown (top N + other), formulas over series and the previous period.
//!
//! [`plan`] checks the question and builds one statement per series and period;
//! [`TrendsPlan::fold`] turns their rows into the answer. No IO here.

mod fold;

use numu_warehouse::Sql;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::QueryError;
use crate::filter::{self, PropertyFilter};
use crate::formula::Formula;
use crate::limits::Limits;
use crate::property::{Kind, Needs, Property, PropertyType};
use crate::range::{day_start, DateRange, Interval, Window, Zone};
use crate::source::Source;
use crate::template::{fill, value};

pub use fold::{PeriodAnswer, SeriesAnswer, TrendsAnswer};

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
    /// Per statement: the series index and which period(s) it reads.
    slots: Vec<(usize, Periods)>,
    series: Vec<(String, Math)>,
    buckets: Vec<String>,
    previous_buckets: Option<Vec<String>>,
    formula: Option<(String, Formula)>,
    breakdown: bool,
    window: Window,
    interval: Interval,
}

/// Which period(s) a statement's rows belong to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Periods {
    Current,
    Previous,
    /// Both, told apart by the rows' `previous` column: one read of the table for the two.
    Both,
}

struct Scope<'a> {
    source: Source,
    window: Window,
    interval: Interval,
    breakdown: Option<(Property, u32)>,
    limits: &'a Limits,
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
    let mut plan = TrendsPlan {
        statements: Vec::new(),
        slots: Vec::new(),
        series: Vec::new(),
        buckets,
        previous_buckets,
        formula,
        breakdown: query.breakdown.is_some(),
        window,
        interval: query.interval,
    };
    for (i, series) in query.series.iter().enumerate() {
        for (statement, periods) in scope.series(i, series, &global, query.compare)? {
            plan.statements.push(statement);
            plan.slots.push((i, periods));
        }
        plan.series.push((label(series), series.math));
    }
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

impl Scope<'_> {
    /// The statements of series `i`: the current period, and the previous one when comparing
    /// — in the same statement when nothing in it depends on the window read (sessions are
    /// cut and active people reach back within the window, so those read each period alone).
    fn series(
        &self,
        i: usize,
        series: &Series,
        global: &filter::Condition,
        compare: bool,
    ) -> Result<Vec<(Sql, Periods)>, QueryError> {
        let field = format!("series[{i}]");
        let own = filter::all(&series.filters, &format!("{field}.filters"), self.limits)?;
        let mut needs = global.needs.merge(own.needs);
        if let Some((property, _)) = &self.breakdown {
            needs = needs.merge(property.needs());
        }
        let mut conditions =
            Sql::new("(").append(global.sql.clone()).push(") AND (").append(own.sql).push(")");
        if let Some(event) = &series.event {
            if event.is_empty() || event.chars().count() > 200 {
                return Err(QueryError::bad(
                    &format!("{field}.event"),
                    "an event name has 1 to 200 characters",
                ));
            }
            conditions = conditions.push(" AND e.event = ").bind(event.as_str());
        }
        let aggregate = self.aggregate(&field, series, &mut needs)?;
        if series.math.active_days().is_some() && self.interval == Interval::Hour {
            return Err(QueryError::bad(
                "interval",
                "weekly and monthly active people need a day, week or month interval",
            ));
        }
        let build = |window: &Window, split: bool| {
            self.statement(series.math, &aggregate, needs, &conditions, window, split)
        };
        let previous = self.window.previous();
        if !compare {
            return Ok(vec![(build(&self.window, false), Periods::Current)]);
        }
        if series.math.active_days().is_none() && !needs.sessions && !needs.session_ids {
            let both = Window { from_ms: previous.from_ms, ..self.window };
            return Ok(vec![(build(&both, true), Periods::Both)]);
        }
        Ok(vec![(build(&self.window, false), Periods::Current), (build(&previous, false), Periods::Previous)])
    }

    fn aggregate(&self, field: &str, series: &Series, needs: &mut Needs) -> Result<Sql, QueryError> {
        let math = series.math;
        if !math.needs_property() {
            if series.property.is_some() {
                return Err(QueryError::bad(
                    &format!("{field}.property"),
                    format!("`{}` takes no property", math.name()),
                ));
            }
            if math == Math::UniqueSessions {
                needs.session_ids = true;
            }
            return Ok(Sql::new(match math {
                Math::UniquePeople => "uniqExact(e.person)",
                Math::UniqueSessions => "uniqExact(e.session)",
                _ => "count()",
            }));
        }
        let name = series.property.as_deref().ok_or_else(|| {
            QueryError::bad(
                &format!("{field}.property"),
                format!("`{}` needs a numeric property", math.name()),
            )
        })?;
        let property = Property::resolve(&format!("{field}.property"), name, PropertyType::Event)?;
        if property.kind() == Kind::Bool {
            return Err(QueryError::bad(
                &format!("{field}.property"),
                "a true/false property is not a number",
            ));
        }
        let head = match math {
            Math::Sum => "ifNull(sum(",
            Math::Avg => "(avg(",
            Math::Min => "(min(",
            Math::Max => "(max(",
            Math::P50 => "(quantileExactInclusive(0.5)(",
            Math::P90 => "(quantileExactInclusive(0.9)(",
            _ => "(quantileExactInclusive(0.99)(",
        };
        let tail = if math == Math::Sum { "), 0)" } else { "))" };
        Ok(Sql::new(head).append(property.number_expr()).push(tail))
    }

    /// The `bd_other, bd_value` select items (top N of the current period, or none).
    fn breakdown_items(&self, needs: Needs, conditions: &Sql) -> Sql {
        let Some((property, limit)) = &self.breakdown else {
            return Sql::new("0 AS bd_other, '' AS bd_value");
        };
        let value = property.text_expr();
        let top = fill(
            include_str!("../../sql/breakdown_top.sql"),
            &[
                ("value", value.clone()),
                ("from", self.source.from_needing(needs)),
                ("conditions", conditions.clone()),
                ("limit", crate::template::value(u64::from(*limit))),
            ],
        );
        Sql::new("(")
            .append(value.clone())
            .push(" NOT IN (")
            .append(top)
            .push(")) AS bd_other, if(bd_other, '', ")
            .append(value)
            .push(") AS bd_value")
    }

    /// The statement over `window`; with `split`, its rows say whether they are of the
    /// previous period (before the current one starts).
    fn statement(
        &self,
        math: Math,
        aggregate: &Sql,
        needs: Needs,
        conditions: &Sql,
        window: &Window,
        split: bool,
    ) -> Sql {
        // Unique and active people count persons; the other math reads no person.
        let persons = matches!(math, Math::UniquePeople) || math.active_days().is_some();
        let needs = Needs { person: needs.person || persons, ..needs };
        let breakdown = self.breakdown_items(needs, conditions);
        let Some(days) = math.active_days() else {
            return fill(
                include_str!("../../sql/trends_series.sql"),
                &[
                    ("bucket", self.interval.bucket_sql("e.timestamp", window.zone)),
                    ("previous", previous_sql(split.then_some(&self.window))),
                    ("breakdown", breakdown),
                    ("aggregate", aggregate.clone()),
                    ("from", self.source.with_window(*window).from_needing(needs)),
                    ("conditions", conditions.clone()),
                ],
            );
        };
        let (first, last) = window.days();
        let reach = Window {
            from_ms: day_start(first - chrono::Duration::days(days as i64 - 1), window.zone),
            ..*window
        };
        fill(
            include_str!("../../sql/trends_active.sql"),
            &[
                ("bucket", self.interval.date_bucket_sql("covered")),
                ("breakdown", breakdown),
                ("zone", window.zone.sql()),
                ("from", self.source.with_window(reach).from_needing(needs)),
                ("conditions", conditions.clone()),
                ("days", value(days)),
                ("first_day", value(first.to_string())),
                ("last_day", value(last.to_string())),
                ("bucket_last_day", self.interval.last_day_sql("covered")),
            ],
        )
    }
}

/// The `previous` column: 1 for rows before the current period's start, or 0 throughout.
fn previous_sql(current: Option<&Window>) -> Sql {
    match current {
        Some(current) => Sql::new("toUInt8(NOT (").append(crate::source::in_current(current)).push("))"),
        None => Sql::new("toUInt8(0)"),
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
    fn a_series_reads_both_periods_at_once_unless_its_window_matters() {
        let q = query(serde_json::json!({
            "date_range": {"from": "2024-05-01", "to": "2024-05-07"},
            "series": [{"event": "$pageview"}, {"event": "signup", "math": "wau"}],
            "compare": true,
            "breakdown": {"property": "browser"}
        }));
        let plan = plan(&q, 1, 0, &Limits::default()).unwrap();
        // The count reads both periods at once; weekly active people reach back within each.
        assert_eq!(plan.statements().len(), 3);
        assert_eq!(plan.slots, [(0, Periods::Both), (1, Periods::Current), (1, Periods::Previous)]);
        assert_eq!(plan.buckets.len(), 7);
        assert_eq!(plan.previous_buckets.as_ref().map(Vec::len), Some(7));
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
