//! What one collector knows about one project's recent minutes, in mergeable form
//! ([`WindowSummary`]), and the figures read from it ([`Snapshot`]).
//!
//! Summaries of several collectors aligned on the same minute merge exactly: visitor sets
//! and sketches by union, counts by addition, top keys by adding their bounds.

use serde::{Deserialize, Serialize};

use super::topk::TopSummary;
use super::visitors::{relative_standard_error, Estimate, VisitorSet};

/// Minutes of the "now" figures: visitors, top pages, sources and events.
pub const RECENT_MINUTES: u16 = 5;
/// Minutes of the events-per-minute series and of the second visitors figure.
pub const SERIES_MINUTES: u16 = 30;
/// Keys shown per top list.
pub const SHOWN_KEYS: usize = 10;

/// Events that arrived in one minute.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinuteCount {
    /// Minutes since the Unix epoch.
    pub minute: i64,
    /// Events of humans.
    pub events: u64,
    /// Events flagged `is_bot` (counted nowhere else).
    pub bot_events: u64,
}

/// The visitors of the last `minutes` minutes.
#[derive(Clone, Debug)]
pub struct VisitorWindow {
    pub minutes: u16,
    pub set: VisitorSet,
}

/// A project's recent minutes on one or more collectors, ending at `minute` (inclusive).
#[derive(Clone, Debug)]
pub struct WindowSummary {
    pub project_id: u64,
    pub precision: u8,
    pub window_minutes: u16,
    pub minute: i64,
    /// How many collectors' data this holds.
    pub collectors: u32,
    /// Last [`RECENT_MINUTES`], [`SERIES_MINUTES`] and `window_minutes` minutes.
    pub visitors: Vec<VisitorWindow>,
    /// The last [`SERIES_MINUTES`] minutes, oldest first.
    pub per_minute: Vec<MinuteCount>,
    pub pages: TopSummary,
    pub sources: TopSummary,
    pub events: TopSummary,
}

/// Why two summaries cannot be merged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    #[error("summaries differ in {0}")]
    Mismatch(&'static str),
    #[error("sketches of different precision")]
    Precision,
}

impl WindowSummary {
    /// Adds `other` (another collector's summary of the same project and minute).
    pub fn merge(&mut self, other: &WindowSummary, keep: usize) -> Result<(), MergeError> {
        let same = |ok: bool, what| if ok { Ok(()) } else { Err(MergeError::Mismatch(what)) };
        same(self.project_id == other.project_id, "project")?;
        same(self.precision == other.precision, "precision")?;
        same(self.window_minutes == other.window_minutes, "window_minutes")?;
        same(self.minute == other.minute, "minute")?;
        same(self.visitors.len() == other.visitors.len(), "visitor windows")?;
        same(self.per_minute.len() == other.per_minute.len(), "series")?;
        for (mine, theirs) in self.visitors.iter_mut().zip(&other.visitors) {
            same(mine.minutes == theirs.minutes, "visitor windows")?;
            mine.set.union_with(&theirs.set, self.precision).map_err(|_| MergeError::Precision)?;
        }
        for (mine, theirs) in self.per_minute.iter_mut().zip(&other.per_minute) {
            same(mine.minute == theirs.minute, "series")?;
            mine.events += theirs.events;
            mine.bot_events += theirs.bot_events;
        }
        self.pages = TopSummary::merge(&[std::mem::take(&mut self.pages), other.pages.clone()], keep);
        self.sources = TopSummary::merge(&[std::mem::take(&mut self.sources), other.sources.clone()], keep);
        self.events = TopSummary::merge(&[std::mem::take(&mut self.events), other.events.clone()], keep);
        self.collectors += other.collectors;
        Ok(())
    }

    /// The figures, as served by the HTTP endpoint and the stream.
    pub fn snapshot(mut self, generated_at_ms: i64) -> Snapshot {
        let precision = self.precision;
        Snapshot {
            project_id: self.project_id,
            generated_at_ms,
            minute_start_ms: self.minute * 60_000,
            collectors: self.collectors,
            unreachable_peers: Vec::new(),
            relative_standard_error: relative_standard_error(precision),
            visitors: self
                .visitors
                .iter_mut()
                .map(|w| VisitorFigure { minutes: w.minutes, count: w.set.estimate(precision) })
                .collect(),
            events_per_minute: self
                .per_minute
                .iter()
                .map(|m| MinuteFigure {
                    minute_start_ms: m.minute * 60_000,
                    events: m.events,
                    bot_events: m.bot_events,
                })
                .collect(),
            top_minutes: RECENT_MINUTES,
            top_pages: TopFigure::from(&self.pages),
            top_sources: TopFigure::from(&self.sources),
            top_events: TopFigure::from(&self.events),
        }
    }
}

/// Real-time figures of a project.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub project_id: u64,
    pub generated_at_ms: i64,
    /// Start of the current minute (the last element of `events_per_minute`, still filling).
    pub minute_start_ms: i64,
    /// Collectors whose data is included.
    pub collectors: u32,
    /// Peers that did not answer (their visitors and events are missing from the figures).
    pub unreachable_peers: Vec<String>,
    /// Of a visitor estimate from a dense sketch (1.04/√2^p); bounds are 3× this.
    pub relative_standard_error: f64,
    /// Unique visitors (bots excluded) of the last 5, 30 and `window_minutes` minutes.
    pub visitors: Vec<VisitorFigure>,
    /// Events per minute of the last 30 minutes, oldest first.
    pub events_per_minute: Vec<MinuteFigure>,
    /// Minutes covered by the top lists.
    pub top_minutes: u16,
    pub top_pages: TopFigure,
    pub top_sources: TopFigure,
    pub top_events: TopFigure,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitorFigure {
    pub minutes: u16,
    #[serde(flatten)]
    pub count: Estimate,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinuteFigure {
    pub minute_start_ms: i64,
    pub events: u64,
    pub bot_events: u64,
}

/// The most frequent keys: each key's true count is in `[count − error_bound, count]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopFigure {
    /// Occurrences of all keys.
    pub total: u64,
    pub items: Vec<TopItem>,
    /// Any key not listed occurred at most this often.
    pub others_at_most: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopItem {
    pub key: String,
    pub count: u64,
    pub error_bound: u64,
}

impl From<&TopSummary> for TopFigure {
    fn from(summary: &TopSummary) -> TopFigure {
        let items: Vec<TopItem> = summary
            .entries
            .iter()
            .take(SHOWN_KEYS)
            .map(|e| TopItem { key: e.key.clone(), count: e.upper, error_bound: e.upper - e.lower })
            .collect();
        let beyond = summary.entries.get(SHOWN_KEYS).map_or(0, |e| e.upper);
        TopFigure { total: summary.total, items, others_at_most: summary.absent_upper.max(beyond) }
    }
}
