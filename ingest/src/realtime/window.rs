//! One project's recent minutes on this collector: minute buckets (visitors, counts, top
//! keys), what an event contributes to them, and their summary. Pure: no locks, no clock.

use std::collections::VecDeque;

use numu_schemas::EventRow;

use super::config::Config;
use super::summary::{MinuteCount, VisitorWindow, WindowSummary, RECENT_MINUTES, SERIES_MINUTES};
use super::topk::{TopK, TopSummary};
use super::visitors::{visitor_hash, VisitorSet};

/// The event name of page views.
pub const PAGEVIEW: &str = "$pageview";

/// What one event contributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Observation<'a> {
    pub bot: bool,
    /// Hash of `distinct_id` (or `anonymous_id`); `None` when both are empty.
    pub visitor: Option<u64>,
    pub event: &'a str,
    /// The path of a page view.
    pub page: Option<&'a str>,
    /// Where a page view's visitor came from; `None` for navigation inside the site.
    pub source: Option<&'a str>,
}

fn first_non_empty<'a>(candidates: &[&'a str]) -> Option<&'a str> {
    candidates.iter().copied().find(|s| !s.is_empty())
}

/// Classifies an accepted event.
///
/// Sources are counted on page views that do not come from the site itself (a referrer on
/// the page's own host is internal navigation): the known referrer's name, else
/// `utm_source`, else the referrer's host, else the channel, else `direct`.
pub fn observation(row: &EventRow) -> Observation<'_> {
    let visitor = first_non_empty(&[&row.distinct_id, &row.anonymous_id]).map(visitor_hash);
    let is_page = row.event == PAGEVIEW;
    let internal = !row.referrer_host.is_empty() && row.referrer_host == row.host;
    let source = if is_page && !internal {
        Some(
            first_non_empty(&[&row.referrer_source, &row.utm_source, &row.referrer_host, &row.channel])
                .unwrap_or("direct"),
        )
    } else {
        None
    };
    Observation {
        bot: row.is_bot,
        visitor,
        event: &row.event,
        page: is_page.then_some(if row.path.is_empty() { "/" } else { row.path.as_str() }),
        source,
    }
}

/// Top keys of one minute; kept only for the last [`RECENT_MINUTES`] minutes.
#[derive(Clone, Debug, Default)]
pub struct Tops {
    pub pages: TopK,
    pub sources: TopK,
    pub events: TopK,
}

/// One minute.
#[derive(Clone, Debug, Default)]
pub struct Bucket {
    pub minute: i64,
    pub events: u64,
    pub bot_events: u64,
    pub visitors: VisitorSet,
    pub tops: Option<Box<Tops>>,
}

/// The minutes of one project that saw events, oldest first, within the window.
#[derive(Clone, Debug, Default)]
pub struct ProjectWindow {
    buckets: VecDeque<Bucket>,
    /// Incremented by every observation (lets streams skip unchanged figures).
    version: u64,
}

impl ProjectWindow {
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The most recent minute with events.
    pub fn last_minute(&self) -> Option<i64> {
        self.buckets.back().map(|b| b.minute)
    }

    /// Counts `obs` in `minute` (earlier minutes than the newest bucket count in it).
    pub fn observe(&mut self, obs: &Observation<'_>, minute: i64, config: &Config) {
        if self.last_minute().is_none_or(|last| minute > last) {
            self.rotate(minute, config);
        }
        let Some(bucket) = self.buckets.back_mut() else { return };
        self.version += 1;
        if obs.bot {
            bucket.bot_events += 1;
            return;
        }
        bucket.events += 1;
        if let Some(hash) = obs.visitor {
            bucket.visitors.insert(hash, config.precision, config.exact_threshold);
        }
        let tops = bucket.tops.get_or_insert_with(Box::default);
        tops.events.observe(obs.event, config.top_k);
        if let Some(page) = obs.page {
            tops.pages.observe(page, config.top_k);
        }
        if let Some(source) = obs.source {
            tops.sources.observe(source, config.top_k);
        }
    }

    /// Opens `minute`: the closed minute gives back spare memory, minutes out of the window
    /// go, and top keys are dropped from minutes older than the recent ones.
    fn rotate(&mut self, minute: i64, config: &Config) {
        if let Some(closed) = self.buckets.back_mut() {
            closed.visitors.compact();
        }
        self.expire(minute, config);
        for bucket in &mut self.buckets {
            if bucket.minute <= minute - i64::from(RECENT_MINUTES) {
                bucket.tops = None;
            }
        }
        self.buckets.push_back(Bucket { minute, ..Bucket::default() });
    }

    /// Drops minutes that left the window ending at `minute`; true when none is left.
    pub fn expire(&mut self, minute: i64, config: &Config) -> bool {
        let oldest = minute - i64::from(config.window_minutes) + 1;
        while self.buckets.front().is_some_and(|b| b.minute < oldest) {
            self.buckets.pop_front();
        }
        self.buckets.is_empty()
    }

    /// Copies of the buckets a summary ending at `minute` needs (cheap enough to take
    /// under a lock; merging them happens outside it).
    pub fn extract(&self, minute: i64, config: &Config) -> Vec<Bucket> {
        let oldest = minute - i64::from(config.window_minutes) + 1;
        self.buckets.iter().filter(|b| b.minute >= oldest).cloned().collect()
    }
}

/// The visitors of the last `minutes` minutes for each of `windows` (ascending), each
/// union built on the previous one.
fn visitor_windows(buckets: &[Bucket], minute: i64, windows: &[u16], precision: u8) -> Vec<VisitorWindow> {
    let mut by_age: Vec<(i64, &Bucket)> = buckets.iter().map(|b| ((minute - b.minute).max(0), b)).collect();
    by_age.sort_by_key(|(age, _)| *age);
    let mut set = VisitorSet::default();
    let mut next = by_age.iter().peekable();
    windows
        .iter()
        .map(|&minutes| {
            while let Some((_, bucket)) = next.next_if(|(age, _)| *age < i64::from(minutes)) {
                // Equal precision throughout: the union cannot fail.
                let _ = set.union_with(&bucket.visitors, precision);
            }
            VisitorWindow { minutes, set: set.clone() }
        })
        .collect()
}

fn top_of(buckets: &[&Bucket], config: &Config, kind: impl Fn(&Tops) -> &TopK) -> TopSummary {
    let parts: Vec<TopSummary> =
        buckets.iter().filter_map(|b| b.tops.as_deref()).map(|t| kind(t).summary(config.top_k)).collect();
    TopSummary::merge(&parts, config.top_k)
}

/// Summarizes `buckets` (from [`ProjectWindow::extract`]) as of `minute`. Buckets newer than
/// `minute` (a peer's clock slightly ahead) count as `minute`.
pub fn summarize(project_id: u64, buckets: &[Bucket], minute: i64, config: &Config) -> WindowSummary {
    let age = |b: &Bucket| (minute - b.minute).max(0);
    let within = |minutes: u16| buckets.iter().filter(move |b| age(b) < i64::from(minutes));
    let windows = [RECENT_MINUTES, SERIES_MINUTES, config.window_minutes];
    let visitors = visitor_windows(buckets, minute, &windows, config.precision);
    let mut per_minute: Vec<MinuteCount> = (0..i64::from(SERIES_MINUTES))
        .map(|i| MinuteCount { minute: minute - i64::from(SERIES_MINUTES) + 1 + i, ..MinuteCount::default() })
        .collect();
    for bucket in within(SERIES_MINUTES) {
        let slot = &mut per_minute[(i64::from(SERIES_MINUTES) - 1 - age(bucket)) as usize];
        slot.events += bucket.events;
        slot.bot_events += bucket.bot_events;
    }
    let recent: Vec<&Bucket> = within(RECENT_MINUTES).collect();
    WindowSummary {
        project_id,
        precision: config.precision,
        window_minutes: config.window_minutes,
        minute,
        collectors: 1,
        visitors,
        per_minute,
        pages: top_of(&recent, config, |t| &t.pages),
        sources: top_of(&recent, config, |t| &t.sources),
        events: top_of(&recent, config, |t| &t.events),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(event: &str, visitor: &str) -> EventRow {
        EventRow {
            event: event.into(),
            distinct_id: visitor.into(),
            host: "shop.example".into(),
            path: "/pricing".into(),
            ..EventRow::default()
        }
    }

    #[test]
    fn events_are_classified() {
        let page = row(PAGEVIEW, "v1");
        let obs = observation(&page);
        assert_eq!((obs.page, obs.source, obs.bot), (Some("/pricing"), Some("direct"), false));
        assert_eq!(obs.visitor, Some(visitor_hash("v1")));
        let internal = EventRow { referrer_host: "shop.example".into(), ..page.clone() };
        assert_eq!(observation(&internal).source, None);
        let google =
            EventRow { referrer_host: "www.google.com".into(), referrer_source: "Google".into(), ..page };
        assert_eq!(observation(&google).source, Some("Google"));
        let click = row("signup", "");
        assert_eq!((observation(&click).page, observation(&click).visitor), (None, None));
    }

    #[test]
    fn minutes_roll_and_expire() {
        let config = Config { window_minutes: 30, ..Config::default() };
        let mut window = ProjectWindow::default();
        let page = row(PAGEVIEW, "v1");
        for minute in 100..140 {
            window.observe(&observation(&page), minute, &config);
        }
        window.observe(&observation(&EventRow { is_bot: true, ..page.clone() }), 139, &config);
        let summary = summarize(7, &window.extract(139, &config), 139, &config);
        assert_eq!(summary.per_minute.len(), 30);
        assert_eq!(summary.per_minute[0].minute, 110);
        assert!(summary.per_minute.iter().all(|m| m.events == 1));
        assert_eq!(summary.per_minute[29].bot_events, 1);
        assert_eq!(summary.pages.total, 5, "top keys cover the recent minutes only");
        assert_eq!(window.buckets.len(), 30);
        assert_eq!(window.buckets.iter().filter(|b| b.tops.is_some()).count(), 5);
        assert!(!window.expire(168, &config));
        assert!(window.expire(169, &config));
    }
}
