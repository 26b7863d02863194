//! Web analytics (Plausible's page): visitors, visits, pageviews, views per visit, bounce
//! rate and visit duration; a time series; top pages, entry and exit pages, sources,
//! channels, UTM values, devices, browsers, operating systems and countries — each with the
//! previous period.
//!
//! Definitions: a *visitor* is a person; a *visit* is a session (the client's session id, or
//! derived by 30 minutes of inactivity); a session belongs to the period it started in; the
//! *bounce rate* is the share of sessions with a pageview that have exactly one; the *visit
//! duration* is the mean time between a session's first and last event. Event and person
//! filters choose the events sessions are made of; session filters keep whole sessions (their
//! attributes are those of the matching events), everywhere: figures, reports, pages and the
//! time series.
//!
//! One statement answers it all (`sql/web.sql`): sessions are derived once over both
//! periods, and each session's facts (its period, reports' values, the time buckets and pages
//! it touched) are counted by one aggregation; [`WebPlan::fold`] sorts the rows out.

use arrow_array::RecordBatch;
use numu_warehouse::Sql;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::QueryError;
use crate::filter::{self, PropertyFilter};
use crate::limits::Limits;
use crate::range::{DateRange, Interval, Window, Zone};
use crate::source::Source;
use crate::table;

mod hourly;
mod statement;

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
    /// The reports to compute (default all); the others come back empty. Fewer reports, less
    /// work: the dashboard's overview asks for two.
    #[serde(default)]
    pub reports: Option<Vec<WebReport>>,
}

/// A report of the web analytics page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebReport {
    Pages,
    EntryPages,
    ExitPages,
    Sources,
    Channels,
    UtmSources,
    UtmMediums,
    UtmCampaigns,
    UtmTerms,
    UtmContents,
    Devices,
    Browsers,
    OperatingSystems,
    Countries,
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

/// A checked web analytics question and its statement.
#[derive(Clone, Debug)]
pub struct WebPlan {
    statement: Sql,
    window: Window,
    buckets: Vec<String>,
    previous_buckets: Option<Vec<String>>,
}

/// Checks `query` and builds its statement.
pub fn plan(query: &WebQuery, project: u64, now_ms: i64, limits: &Limits) -> Result<WebPlan, QueryError> {
    plan_reading(query, project, now_ms, limits, Read::Fastest)
}

/// Where client sessions come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Read {
    /// `session_hours` when it gives the same answer, else the events.
    Fastest,
    /// Always the events (to check the other way against).
    Events,
}

/// As [`plan`], choosing where sessions are read from.
pub fn plan_reading(
    query: &WebQuery,
    project: u64,
    now_ms: i64,
    limits: &Limits,
    from: Read,
) -> Result<WebPlan, QueryError> {
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
    let reports = query.reports.clone().unwrap_or_else(|| WebReport::ALL.to_vec());
    let event_filters = query.filters.iter().any(|f| f.kind != crate::property::PropertyType::Session);
    let hourly = from == Read::Fastest && !event_filters && hourly::hours_align(&read);
    let parts = statement::Parts {
        source: &source,
        window: &window,
        interval: query.interval,
        reports: &reports,
        hourly,
    };
    let statement = parts.statement(&events, &sessions, rows);
    Ok(WebPlan { statement, window, buckets, previous_buckets })
}

/// One result row: a report's value with its counts in both periods, and on the `$visits`
/// row the sessions' bounces, page visits and summed durations (ms) of both periods.
struct Fact {
    report: String,
    value: String,
    now: Counts,
    before: Counts,
    sessions: [[f64; 3]; 2],
}

fn facts(batches: &[RecordBatch]) -> Result<Vec<Fact>, QueryError> {
    let (reports, values) = (table::strings(batches, "report")?, table::strings(batches, "value")?);
    let column = |name: &str| -> Result<Vec<u64>, QueryError> {
        Ok(table::ints(batches, name)?.into_iter().map(|v| v as u64).collect())
    };
    let (visitors, visits, pageviews) = (column("visitors")?, column("visits")?, column("pageviews")?);
    let (p_visitors, p_visits, p_pageviews) =
        (column("previous_visitors")?, column("previous_visits")?, column("previous_pageviews")?);
    let sessions: Vec<Vec<u64>> = [
        "previous_bounces",
        "previous_page_visits",
        "previous_duration_ms",
        "bounces",
        "page_visits",
        "duration_ms",
    ]
    .into_iter()
    .map(column)
    .collect::<Result<_, _>>()?;
    Ok(reports
        .into_iter()
        .zip(values)
        .enumerate()
        .map(|(i, (report, value))| Fact {
            report,
            value,
            now: Counts { visitors: visitors[i], visits: visits[i], pageviews: pageviews[i] },
            before: Counts { visitors: p_visitors[i], visits: p_visits[i], pageviews: p_pageviews[i] },
            sessions: [0, 1].map(|period| [0, 1, 2].map(|k| sessions[period * 3 + k][i] as f64)),
        })
        .collect())
}

impl WebPlan {
    pub fn statements(&self) -> &[Sql] {
        std::slice::from_ref(&self.statement)
    }

    /// Folds the rows of the statement: `$` facts into the figures and the time series, the
    /// others into their reports (already ordered and cut by the statement).
    pub fn fold(&self, results: Vec<Vec<RecordBatch>>) -> Result<WebAnswer, QueryError> {
        let [batches] = <[Vec<RecordBatch>; 1]>::try_from(results)
            .map_err(|_| QueryError::Internal("web analytics needs one result".into()))?;
        let compare = self.previous_buckets.is_some();
        let mut reports = WebReports::default();
        let mut periods = [Totals::default(); 2];
        let mut series: Vec<Fact> = Vec::new();
        for fact in facts(&batches)? {
            let both = [&fact.before, &fact.now];
            match fact.report.as_str() {
                "$visits" => periods.iter_mut().zip(both).zip(fact.sessions).for_each(|((t, c), s)| {
                    (t.visitors, t.visits, t.pageviews) =
                        (c.visitors as f64, c.visits as f64, c.pageviews as f64);
                    [t.bounces, t.page_visits, t.duration_ms] = s;
                }),
                "$timeseries" => series.push(fact),
                name => report_of(&mut reports, name)?.push(ReportRow {
                    value: fact.value,
                    visitors: fact.now.visitors,
                    visits: fact.now.visits,
                    pageviews: fact.now.pageviews,
                    previous: compare.then_some(fact.before),
                }),
            }
        }
        let line = |labels: &[String], pick: fn(&Fact) -> &Counts| {
            let mut out = WebSeries { buckets: labels.to_vec(), ..WebSeries::default() };
            for label in labels {
                let counts = series.iter().find(|f| &f.value == label).map(pick).cloned().unwrap_or_default();
                out.visitors.push(counts.visitors);
                out.visits.push(counts.visits);
                out.pageviews.push(counts.pageviews);
            }
            out
        };
        Ok(WebAnswer {
            timezone: self.window.zone.name().to_string(),
            from_ms: self.window.from_ms,
            to_ms: self.window.to_ms,
            metrics: metrics(periods, compare),
            timeseries: line(&self.buckets, |f| &f.now),
            previous_timeseries: self.previous_buckets.as_ref().map(|labels| line(labels, |f| &f.before)),
            reports,
        })
    }
}

fn report_of<'a>(all: &'a mut WebReports, name: &str) -> Result<&'a mut Vec<ReportRow>, QueryError> {
    Ok(match name {
        "pages" => &mut all.pages,
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
    })
}

/// The raw sums of one period.
#[derive(Clone, Copy, Default)]
struct Totals {
    visitors: f64,
    visits: f64,
    pageviews: f64,
    bounces: f64,
    page_visits: f64,
    duration_ms: f64,
}

/// The headline figures from the sums of `[previous, current]`.
fn metrics(periods: [Totals; 2], compare: bool) -> WebMetrics {
    let [before, now] = periods;
    let ratio = |a: f64, b: f64| if b == 0.0 { 0.0 } else { a / b };
    let metric = |pick: &dyn Fn(&Totals) -> f64| {
        let (value, previous) = (pick(&now), pick(&before));
        let change = (compare && previous != 0.0).then(|| (value - previous) / previous * 100.0);
        Metric { value, previous: compare.then_some(previous), change }
    };
    WebMetrics {
        visitors: metric(&|t| t.visitors),
        visits: metric(&|t| t.visits),
        pageviews: metric(&|t| t.pageviews),
        views_per_visit: metric(&|t| ratio(t.pageviews, t.visits)),
        bounce_rate: metric(&|t| ratio(t.bounces, t.page_visits)),
        visit_duration: metric(&|t| ratio(t.duration_ms / 1000.0, t.visits)),
    }
}
