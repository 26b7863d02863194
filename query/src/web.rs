//! Web analytics (Plausible's page): visitors, visits, pageviews, views per visit, bounce
//! rate and visit duration; a time series; top pages, entry and exit pages, sources,
//! channels, UTM values, devices, browsers, operating systems and countries — each with the
//! previous period.
//!
//! Definitions: a *visitor* is a person; a *visit* is a session (the client's session id, or
//! derived by 30 minutes of inactivity); a session belongs to the period it started in; the
//! *bounce rate* is the share of sessions with a pageview that have exactly one; the *visit
//! duration* is the mean time between a session's first and last event. Event and person
//! filters choose the events sessions are made of; session filters keep whole sessions.

use arrow_array::RecordBatch;
use numu_warehouse::Sql;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::QueryError;
use crate::filter::{self, Condition, PropertyFilter};
use crate::limits::Limits;
use crate::property::Needs;
use crate::range::{DateRange, Interval, Window, Zone};
use crate::source::{in_current, Source};
use crate::table;
use crate::template::{fill, value};

/// A web analytics question.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebQuery {
    pub date_range: DateRange,
    #[serde(default)]
    pub timezone: Option<String>,
    /// Bucket width of the time series.
    #[serde(default)]
    pub interval: Interval,
    #[serde(default)]
    pub filters: Vec<PropertyFilter>,
    /// Also answer for the previous period (default true).
    #[serde(default = "yes")]
    pub compare: bool,
    #[serde(default)]
    pub include_bots: bool,
    /// Rows per report (default 10).
    #[serde(default)]
    pub limit: Option<u32>,
}

fn yes() -> bool {
    true
}

/// A figure and the same figure over the previous period.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Metric {
    pub value: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<f64>,
    /// Relative change in percent; absent without a previous value or when it was 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct WebMetrics {
    pub visitors: Metric,
    pub visits: Metric,
    pub pageviews: Metric,
    pub views_per_visit: Metric,
    /// A fraction between 0 and 1.
    pub bounce_rate: Metric,
    /// Seconds.
    pub visit_duration: Metric,
}

/// Per-bucket figures.
#[derive(Clone, Debug, Default, PartialEq, Serialize, ToSchema)]
pub struct WebSeries {
    pub buckets: Vec<String>,
    pub visitors: Vec<u64>,
    pub visits: Vec<u64>,
    pub pageviews: Vec<u64>,
}

/// Counts of one report value.
#[derive(Clone, Debug, Default, PartialEq, Serialize, ToSchema)]
pub struct Counts {
    pub visitors: u64,
    pub visits: u64,
    pub pageviews: u64,
}

/// One row of a report: a value (`""` = none / direct) and its counts.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct ReportRow {
    pub value: String,
    pub visitors: u64,
    pub visits: u64,
    pub pageviews: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<Counts>,
}

/// The reports, each ordered by visitors.
#[derive(Clone, Debug, Default, PartialEq, Serialize, ToSchema)]
pub struct WebReports {
    pub pages: Vec<ReportRow>,
    pub entry_pages: Vec<ReportRow>,
    pub exit_pages: Vec<ReportRow>,
    pub sources: Vec<ReportRow>,
    pub channels: Vec<ReportRow>,
    pub utm_sources: Vec<ReportRow>,
    pub utm_mediums: Vec<ReportRow>,
    pub utm_campaigns: Vec<ReportRow>,
    pub utm_terms: Vec<ReportRow>,
    pub utm_contents: Vec<ReportRow>,
    pub devices: Vec<ReportRow>,
    pub browsers: Vec<ReportRow>,
    pub operating_systems: Vec<ReportRow>,
    pub countries: Vec<ReportRow>,
}

/// The answer to a web analytics question.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct WebAnswer {
    pub timezone: String,
    pub from_ms: i64,
    pub to_ms: i64,
    pub metrics: WebMetrics,
    pub timeseries: WebSeries,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_timeseries: Option<WebSeries>,
    pub reports: WebReports,
}

/// A checked web analytics question and its four statements.
#[derive(Clone, Debug)]
pub struct WebPlan {
    statements: Vec<Sql>,
    window: Window,
    buckets: Vec<String>,
    previous_buckets: Option<Vec<String>>,
}

/// Checks `query` and builds its statements.
pub fn plan(query: &WebQuery, project: u64, now_ms: i64, limits: &Limits) -> Result<WebPlan, QueryError> {
    Limits::at_most("filters", query.filters.len(), limits.max_filters, "filters")?;
    let zone = Zone::parse("timezone", query.timezone.as_deref())?;
    let window = query.date_range.resolve(zone, now_ms, limits)?;
    let buckets = window.buckets(query.interval, limits)?;
    let previous_buckets =
        query.compare.then(|| window.previous().buckets(query.interval, limits)).transpose()?;
    let rows = limits.page("limit", query.limit, 10)?;
    let (events, sessions) = filter::split(&query.filters, "filters", limits)?;
    let read = if query.compare { Window { from_ms: window.previous().from_ms, ..window } } else { window };
    let source = Source::new(project, read, query.include_bots);
    let statements = statements(&source, &window, query.interval, &events, &sessions, rows);
    Ok(WebPlan { statements, window, buckets, previous_buckets })
}

fn statements(
    source: &Source,
    window: &Window,
    interval: Interval,
    events: &Condition,
    sessions: &Condition,
    rows: u32,
) -> Vec<Sql> {
    let session_rows = source.sessions(events.needs, events.sql.clone());
    let from = value(window.from_sql());
    // Event-level statements keep whole sessions through the `ss` join when filtered on them.
    let needs = Needs { session_ids: true, ..events.needs.merge(sessions.needs) };
    let conditions =
        Sql::new("(").append(events.sql.clone()).push(") AND (").append(sessions.sql.clone()).push(")");
    let metrics = fill(
        include_str!("../sql/web_metrics.sql"),
        &[
            ("from", from.clone()),
            ("sessions", session_rows.clone()),
            ("session_conditions", sessions.sql.clone()),
        ],
    );
    let timeseries = fill(
        include_str!("../sql/web_timeseries.sql"),
        &[
            ("current", in_current(window)),
            ("bucket", interval.bucket_sql("e.timestamp", window.zone)),
            ("from_clause", source.from(needs)),
            ("conditions", conditions.clone()),
        ],
    );
    let reports = fill(
        include_str!("../sql/web_session_reports.sql"),
        &[
            ("from", from),
            ("sessions", session_rows),
            ("session_conditions", sessions.sql.clone()),
            ("limit", value(u64::from(rows))),
        ],
    );
    let pages = fill(
        include_str!("../sql/web_pages.sql"),
        &[
            ("current", in_current(window)),
            ("from_clause", source.from(needs)),
            ("conditions", conditions),
            ("limit", value(u64::from(rows))),
        ],
    );
    vec![metrics, timeseries, reports, pages]
}

impl WebPlan {
    pub fn statements(&self) -> &[Sql] {
        &self.statements
    }

    /// Folds the rows of the four statements, in order.
    pub fn fold(&self, results: Vec<Vec<RecordBatch>>) -> Result<WebAnswer, QueryError> {
        let [metrics, timeseries, reports, pages] = <[Vec<RecordBatch>; 4]>::try_from(results)
            .map_err(|_| QueryError::Internal("web analytics needs four results".into()))?;
        let compare = self.previous_buckets.is_some();
        let mut all = WebReports { pages: report_rows(&pages, compare)?, ..WebReports::default() };
        self.fold_reports(&reports, compare, &mut all)?;
        let (current, previous) = self.fold_timeseries(&timeseries)?;
        Ok(WebAnswer {
            timezone: self.window.zone.name().to_string(),
            from_ms: self.window.from_ms,
            to_ms: self.window.to_ms,
            metrics: fold_metrics(&metrics, compare)?,
            timeseries: current,
            previous_timeseries: previous,
            reports: all,
        })
    }

    fn fold_reports(
        &self,
        batches: &[RecordBatch],
        compare: bool,
        all: &mut WebReports,
    ) -> Result<(), QueryError> {
        let names = table::strings(batches, "report")?;
        let rows = report_rows(batches, compare)?;
        for (name, row) in names.into_iter().zip(rows) {
            let report = match name.as_str() {
                "entry_pages" => &mut all.entry_pages,
                "exit_pages" => &mut all.exit_pages,
                "sources" => &mut all.sources,
                "channels" => &mut all.channels,
                "utm_sources" => &mut all.utm_sources,
                "utm_mediums" => &mut all.utm_mediums,
                "utm_campaigns" => &mut all.utm_campaigns,
                "utm_terms" => &mut all.utm_terms,
                "utm_contents" => &mut all.utm_contents,
                "devices" => &mut all.devices,
                "browsers" => &mut all.browsers,
                "operating_systems" => &mut all.operating_systems,
                "countries" => &mut all.countries,
                other => return Err(QueryError::Internal(format!("unknown report {other}"))),
            };
            report.push(row);
        }
        Ok(())
    }

    fn fold_timeseries(&self, batches: &[RecordBatch]) -> Result<(WebSeries, Option<WebSeries>), QueryError> {
        let current = table::ints(batches, "current")?;
        let buckets = table::strings(batches, "bucket")?;
        let (visitors, visits) = (table::ints(batches, "visitors")?, table::ints(batches, "visits")?);
        let pageviews = table::ints(batches, "pageviews")?;
        let series = |labels: &[String], want: i64| {
            let mut out = WebSeries { buckets: labels.to_vec(), ..WebSeries::default() };
            for label in labels {
                let row = (0..buckets.len()).find(|&r| current[r] == want && &buckets[r] == label);
                let at = |column: &[i64]| row.and_then(|r| column.get(r)).map_or(0, |v| *v as u64);
                out.visitors.push(at(&visitors));
                out.visits.push(at(&visits));
                out.pageviews.push(at(&pageviews));
            }
            out
        };
        let previous = self.previous_buckets.as_ref().map(|labels| series(labels, 0));
        Ok((series(&self.buckets, 1), previous))
    }
}

fn report_rows(batches: &[RecordBatch], compare: bool) -> Result<Vec<ReportRow>, QueryError> {
    let values = table::strings(batches, "value")?;
    let column = |name: &str| table::ints(batches, name);
    let (visitors, visits, pageviews) = (column("visitors")?, column("visits")?, column("pageviews")?);
    let (p_visitors, p_visits, p_pageviews) =
        (column("previous_visitors")?, column("previous_visits")?, column("previous_pageviews")?);
    Ok((0..values.len())
        .map(|i| ReportRow {
            value: values[i].clone(),
            visitors: visitors[i] as u64,
            visits: visits[i] as u64,
            pageviews: pageviews[i] as u64,
            previous: compare.then(|| Counts {
                visitors: p_visitors[i] as u64,
                visits: p_visits[i] as u64,
                pageviews: p_pageviews[i] as u64,
            }),
        })
        .collect())
}

/// The raw sums of one period.
#[derive(Clone, Copy, Default)]
struct Totals {
    visitors: f64,
    visits: f64,
    pageviews: f64,
    bounces: f64,
    page_visits: f64,
    duration: f64,
}

fn fold_metrics(batches: &[RecordBatch], compare: bool) -> Result<WebMetrics, QueryError> {
    let current = table::ints(batches, "current")?;
    let ints = |name: &str| table::ints(batches, name);
    let (visitors, visits, pageviews) = (ints("visitors")?, ints("visits")?, ints("pageviews")?);
    let (bounces, page_visits) = (ints("bounces")?, ints("page_visits")?);
    let duration = table::floats(batches, "visit_duration")?;
    let mut periods = [Totals::default(); 2];
    for row in 0..current.len() {
        periods[usize::from(current[row] != 0)] = Totals {
            visitors: visitors[row] as f64,
            visits: visits[row] as f64,
            pageviews: pageviews[row] as f64,
            bounces: bounces[row] as f64,
            page_visits: page_visits[row] as f64,
            duration: duration[row].unwrap_or(0.0),
        };
    }
    let [before, now] = periods;
    let ratio = |a: f64, b: f64| if b == 0.0 { 0.0 } else { a / b };
    let metric = |pick: &dyn Fn(&Totals) -> f64| {
        let (value, previous) = (pick(&now), pick(&before));
        let change = (compare && previous != 0.0).then(|| (value - previous) / previous * 100.0);
        Metric { value, previous: compare.then_some(previous), change }
    };
    Ok(WebMetrics {
        visitors: metric(&|t| t.visitors),
        visits: metric(&|t| t.visits),
        pageviews: metric(&|t| t.pageviews),
        views_per_visit: metric(&|t| ratio(t.pageviews, t.visits)),
        bounce_rate: metric(&|t| ratio(t.bounces, t.page_visits)),
        visit_duration: metric(&|t| t.duration),
    })
}
