//! The funnel question and answer types (the API's JSON and OpenAPI schemas).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::QueryError;
use crate::filter::PropertyFilter;
use crate::limits::Limits;
use crate::property::PropertyType;
use crate::range::{DateRange, Interval};

use super::views::TimeBin;

/// A funnel question (`"kind": "funnel"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FunnelQuery {
    /// Attempts (a first step) start in this range; later steps may fall after its end.
    pub date_range: DateRange,
    /// IANA zone of the date range and the conversion-over-time buckets (default `UTC`).
    #[serde(default)]
    pub timezone: Option<String>,
    /// 2 to 20 steps.
    pub steps: Vec<FunnelStep>,
    #[serde(default)]
    pub mode: FunnelMode,
    /// From the first step's time, inclusive (default 14 days).
    #[serde(default)]
    pub conversion_window: Option<ConversionWindow>,
    /// Attempts with such an event between two steps are void.
    #[serde(default)]
    pub exclusions: Vec<Exclusion>,
    /// Filters on every step and exclusion (ANDed).
    #[serde(default)]
    pub filters: Vec<PropertyFilter>,
    #[serde(default)]
    pub breakdown: Option<FunnelBreakdown>,
    #[serde(default)]
    pub view: FunnelView,
    /// Bucket width of the `trends` view.
    #[serde(default)]
    pub interval: Interval,
    /// Histogram bins of the `time_to_convert` view (default 10, at most 100).
    #[serde(default)]
    pub bins: Option<u32>,
    /// Which persons the `persons` view lists.
    #[serde(default)]
    pub persons: Option<PersonsAtStep>,
    /// Count events flagged as bots (excluded by default).
    #[serde(default)]
    pub include_bots: bool,
}

/// One step: an event name and its own filters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FunnelStep {
    #[schema(example = "signup")]
    pub event: String,
    #[serde(default)]
    pub filters: Vec<PropertyFilter>,
    /// May be skipped without breaking the chain (not the first or last step; not with
    /// `any_order`).
    #[serde(default)]
    pub optional: bool,
    /// Shown instead of the event name.
    #[serde(default)]
    pub label: Option<String>,
}

/// How steps must follow each other.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FunnelMode {
    /// Steps in order; other events (funnel steps included) may occur in between.
    #[default]
    Ordered,
    /// Steps in order, and no other funnel step's event in between (a repeat of the step just
    /// reached is allowed) — ClickHouse `windowFunnel` 'strict_order' over the funnel's events.
    Strict,
    /// Every step, in any order, within the window of the earliest one.
    AnyOrder,
}

/// A length of time.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConversionWindow {
    /// Positive.
    pub value: i64,
    pub unit: WindowUnit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WindowUnit {
    Minute,
    Hour,
    Day,
    Week,
    /// Calendar months in UTC (2024-01-31 + 1 month = 2024-02-29).
    Month,
}

/// A conversion window as the fold applies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowRule {
    Millis(i64),
    Months(u32),
}

impl WindowRule {
    /// The last instant (inclusive) a step may have in an attempt starting at `start`.
    pub fn deadline(self, start: i64) -> i64 {
        match self {
            WindowRule::Millis(ms) => start.saturating_add(ms),
            WindowRule::Months(months) => chrono::DateTime::from_timestamp_millis(start)
                .and_then(|t| t.checked_add_months(chrono::Months::new(months)))
                .map_or(i64::MAX, |t| t.timestamp_millis()),
        }
    }

    /// An upper bound of the window's length.
    pub fn max_ms(self) -> i64 {
        match self {
            WindowRule::Millis(ms) => ms,
            WindowRule::Months(months) => i64::from(months) * 31 * 86_400_000,
        }
    }
}

/// Longest conversion window, in days (and 12 months).
pub const MAX_WINDOW_DAYS: i64 = 366;

/// `{"event": "refund", "from_step": 0, "to_step": 1}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Exclusion {
    pub event: String,
    #[serde(default)]
    pub filters: Vec<PropertyFilter>,
    /// Step index (0 = first) after which the event voids the attempt …
    pub from_step: usize,
    /// … up to this later step.
    pub to_step: usize,
}

/// Split persons by a property of their events, attributed to one event of the attempt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FunnelBreakdown {
    #[schema(example = "utm_source")]
    pub property: String,
    #[serde(default, rename = "type")]
    pub kind: PropertyType,
    #[serde(default)]
    pub attribution: Attribution,
    /// The step of `attribution: step` (0 = first).
    #[serde(default)]
    pub attribution_step: Option<usize>,
    /// Values shown on their own (default 10); the rest is one "other" group.
    #[serde(default)]
    pub limit: Option<u32>,
}

/// Which event of the attempt gives the breakdown value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Attribution {
    /// The first step's event.
    #[default]
    FirstTouch,
    /// The event of the furthest step reached.
    LastTouch,
    /// The event of `attribution_step` ("" when the attempt did not reach it).
    Step,
}

/// What the answer shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FunnelView {
    /// Persons per step, conversion and drop-off.
    #[default]
    Steps,
    /// Time from the first to the last step of converted persons.
    TimeToConvert,
    /// Conversion rate per bucket of the first step's time.
    Trends,
    /// The persons who reached (or dropped before) a step.
    Persons,
}

/// `{"step": 2, "status": "dropped", "limit": 100, "offset": 0}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonsAtStep {
    /// Step index (0 = first).
    pub step: usize,
    #[serde(default)]
    pub status: StepStatus,
    /// Only persons of this breakdown group (`""` = not set).
    #[serde(default)]
    pub breakdown_value: Option<String>,
    #[serde(default)]
    pub limit: Option<u32>,
    #[serde(default)]
    pub offset: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Reached the step (or a later one).
    #[default]
    Converted,
    /// Reached the step before, not this one.
    Dropped,
}

impl FunnelQuery {
    /// The checked conversion window.
    pub fn window(&self) -> Result<WindowRule, QueryError> {
        let Some(w) = self.conversion_window else {
            return Ok(WindowRule::Millis(14 * 86_400_000));
        };
        if w.value <= 0 {
            return Err(QueryError::bad("conversion_window.value", "a conversion window is positive"));
        }
        let minutes = match w.unit {
            WindowUnit::Minute => 1,
            WindowUnit::Hour => 60,
            WindowUnit::Day => 1440,
            WindowUnit::Week => 10_080,
            WindowUnit::Month if w.value <= 12 => return Ok(WindowRule::Months(w.value as u32)),
            WindowUnit::Month => 1_000_000,
        };
        match w.value.checked_mul(minutes) {
            Some(m) if m <= MAX_WINDOW_DAYS * 1440 => Ok(WindowRule::Millis(m * 60_000)),
            _ => Err(QueryError::bad(
                "conversion_window.value",
                format!("a conversion window is at most {MAX_WINDOW_DAYS} days or 12 months"),
            )),
        }
    }

    pub(crate) fn check_view(&self, limits: &Limits) -> Result<(), QueryError> {
        if self.view == FunnelView::Trends && self.breakdown.is_some() {
            return Err(QueryError::bad("breakdown", "the `trends` view has no breakdown"));
        }
        if let Some(bins) = self.bins {
            if bins == 0 || bins > 100 {
                return Err(QueryError::bad("bins", "between 1 and 100"));
            }
        }
        if self.view != FunnelView::Persons {
            return Ok(());
        }
        let Some(p) = &self.persons else {
            return Err(QueryError::bad("persons", "the `persons` view needs `persons: {step, status}`"));
        };
        if p.step >= self.steps.len() || (p.status == StepStatus::Dropped && p.step == 0) {
            return Err(QueryError::bad("persons.step", "a step of the funnel (dropped: not the first)"));
        }
        let limit = p.limit.unwrap_or(100);
        if limit == 0 || limit > limits.max_page_size {
            return Err(QueryError::bad(
                "persons.limit",
                format!("between 1 and {} (the configured limit)", limits.max_page_size),
            ));
        }
        Ok(())
    }
}

impl FunnelBreakdown {
    pub(crate) fn check(&self, steps: usize, limits: &Limits) -> Result<(), QueryError> {
        let limit = self.limit.unwrap_or(10);
        if limit == 0 || limit > limits.max_breakdown_values {
            return Err(QueryError::bad(
                "breakdown.limit",
                format!("must be between 1 and {} (the configured limit)", limits.max_breakdown_values),
            ));
        }
        match (self.attribution, self.attribution_step) {
            (Attribution::Step, Some(s)) if s < steps => Ok(()),
            (Attribution::Step, _) => {
                Err(QueryError::bad("breakdown.attribution_step", "a step of the funnel (0 = first)"))
            }
            (_, Some(_)) => {
                Err(QueryError::bad("breakdown.attribution_step", "only with `attribution: step`"))
            }
            _ => Ok(()),
        }
    }
}

/// The answer of a funnel question; the part of the asked `view` is present.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct FunnelAnswer {
    pub view: FunnelView,
    pub mode: FunnelMode,
    /// The range attempts start in.
    pub from_ms: i64,
    pub to_ms: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<StepsGroup>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_to_convert: Option<Vec<TimeGroup>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trends: Option<FunnelTrends>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persons: Option<FunnelPersons>,
}

/// The steps of one breakdown group (the only group without a breakdown).
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct StepsGroup {
    /// `null` without a breakdown; `""` = not set.
    pub breakdown_value: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub breakdown_other: bool,
    pub steps: Vec<StepCount>,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct StepCount {
    pub step: usize,
    pub event: String,
    pub label: String,
    pub optional: bool,
    /// Persons whose best attempt reached this step or a later one.
    pub count: u64,
    /// `count` / the first step's count.
    pub conversion_rate: Option<f64>,
    /// `count` / the previous step's count.
    pub step_conversion_rate: Option<f64>,
    /// Persons who reached the previous step and not this one (0 for the first step).
    pub dropped: u64,
}

/// Time to convert of one breakdown group.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct TimeGroup {
    pub breakdown_value: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub breakdown_other: bool,
    /// Persons who reached the last step.
    pub converted: u64,
    /// Median (mean of the two middle values for an even count), in ms.
    pub median_ms: Option<f64>,
    pub average_ms: Option<f64>,
    pub bins: Vec<TimeBin>,
}

/// Conversion per bucket of the first step's time.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct FunnelTrends {
    pub interval: Interval,
    pub buckets: Vec<String>,
    /// Persons with an attempt starting in the bucket.
    pub entered: Vec<u64>,
    /// Of them, persons whose best attempt starting in the bucket reached the last step.
    pub converted: Vec<u64>,
    pub conversion_rate: Vec<Option<f64>>,
}

/// One page of the persons at a step, by person id.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct FunnelPersons {
    pub step: usize,
    pub status: StepStatus,
    pub total: u64,
    pub offset: u64,
    pub limit: u32,
    pub persons: Vec<FunnelPerson>,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct FunnelPerson {
    pub person_id: String,
    /// The furthest step of the best attempt (0 = first).
    pub reached_step: usize,
    pub first_step_ms: i64,
}
