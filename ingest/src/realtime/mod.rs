//! Real-time figures from memory (DESIGN.md §3): visitors now, events per minute, top
//! pages, sources and events, per project, without the warehouse.
//!
//! [`Realtime::observe`] is called by the collector for every accepted event. Each project
//! has a window of minute buckets ([`window`]): visitors as an exact set of hashes while
//! small, then a HyperLogLog++ sketch ([`visitors`]); event counts; Space-Saving top keys
//! ([`topk`]). Reads merge the buckets into a [`WindowSummary`], merge peers' summaries
//! into it ([`http`], serialized by [`codec`]), and turn it into a [`Snapshot`]. See
//! `README.md` beside this file for the API, the bounds and the multi-collector merge.

pub mod codec;
pub mod config;
pub mod http;
pub mod summary;
pub mod topk;
pub mod visitors;
pub mod window;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use numu_schemas::EventRow;

pub use config::{Config, ConfigError};
pub use http::{configure, RealtimeState, SessionAuth, SessionOutcome};
pub use summary::{Snapshot, WindowSummary};
use window::{observation, summarize, ProjectWindow};

const SHARDS: usize = 64;

#[derive(Default)]
struct Shard {
    projects: HashMap<u64, ProjectWindow>,
    /// The minute this shard last dropped idle projects.
    swept_minute: i64,
}

struct Inner {
    config: Config,
    shards: Box<[Mutex<Shard>]>,
    projects: AtomicUsize,
}

/// The real-time figures of every project, in memory. Cheap to clone (shared).
#[derive(Clone)]
pub struct Realtime {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Realtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Realtime").field("projects", &self.project_count()).finish_non_exhaustive()
    }
}

/// The minute (since the Unix epoch) of a millisecond timestamp.
pub fn minute_of(ms: i64) -> i64 {
    ms.div_euclid(60_000)
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn shard_of(project_id: u64) -> usize {
    (project_id.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58) as usize % SHARDS
}

impl Realtime {
    pub fn new(config: Config) -> Result<Realtime, ConfigError> {
        config.validate()?;
        let shards = (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect();
        Ok(Realtime { inner: Arc::new(Inner { config, shards, projects: AtomicUsize::new(0) }) })
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    fn shard(&self, project_id: u64) -> MutexGuard<'_, Shard> {
        let shard = &self.inner.shards[shard_of(project_id)];
        shard.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts an accepted event that arrived at `now_ms` (the collector's clock, not the
    /// event's timestamp). Bots are counted apart (`bot_events`) and nowhere else. Events
    /// whose own timestamp is older than the window (replayed offline queues, imports) are
    /// not "now" and are skipped.
    pub fn observe(&self, row: &EventRow, now_ms: i64) {
        let config = &self.inner.config;
        if row.timestamp > 0 && row.timestamp < now_ms - config.window_ms() {
            return;
        }
        let minute = minute_of(now_ms);
        let obs = observation(row);
        let mut shard = self.shard(row.project_id);
        if shard.swept_minute != minute {
            shard.swept_minute = minute;
            self.sweep_shard(&mut shard, minute);
        }
        if let Some(window) = shard.projects.get_mut(&row.project_id) {
            window.observe(&obs, minute, config);
            return;
        }
        if self.inner.projects.load(Ordering::Relaxed) >= config.max_projects {
            metrics::counter!("numu_realtime_projects_refused_total").increment(1);
            return;
        }
        self.inner.projects.fetch_add(1, Ordering::Relaxed);
        shard.projects.entry(row.project_id).or_default().observe(&obs, minute, config);
    }

    fn sweep_shard(&self, shard: &mut Shard, minute: i64) -> usize {
        let config = &self.inner.config;
        let before = shard.projects.len();
        shard.projects.retain(|_, window| !window.expire(minute, config));
        let evicted = before - shard.projects.len();
        if evicted > 0 {
            let left = self.inner.projects.fetch_sub(evicted, Ordering::Relaxed) - evicted;
            metrics::gauge!("numu_realtime_projects").set(left as f64);
        }
        evicted
    }

    /// Drops the projects idle for longer than the window, in every shard; returns how
    /// many. `observe` does this shard by shard as minutes pass; call it from a timer to
    /// free memory when no events arrive at all.
    pub fn sweep(&self, now_ms: i64) -> usize {
        let minute = minute_of(now_ms);
        (0..SHARDS)
            .map(|i| {
                let mut shard = self.inner.shards[i].lock().unwrap_or_else(|p| p.into_inner());
                self.sweep_shard(&mut shard, minute)
            })
            .sum()
    }

    /// Projects tracked now.
    pub fn project_count(&self) -> usize {
        self.inner.projects.load(Ordering::Relaxed)
    }

    /// A number that changes whenever the project observes an event (0: never seen).
    pub fn version(&self, project_id: u64) -> u64 {
        self.shard(project_id).projects.get(&project_id).map_or(0, ProjectWindow::version)
    }

    /// This collector's summary of `project_id` for the window ending at `minute`.
    pub fn summary_at(&self, project_id: u64, minute: i64) -> WindowSummary {
        let config = &self.inner.config;
        let buckets = {
            let shard = self.shard(project_id);
            shard.projects.get(&project_id).map(|w| w.extract(minute, config)).unwrap_or_default()
        };
        summarize(project_id, &buckets, minute, config)
    }

    /// This collector's figures of `project_id` now.
    pub fn snapshot(&self, project_id: u64, now_ms: i64) -> Snapshot {
        self.summary_at(project_id, minute_of(now_ms)).snapshot(now_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(project_id: u64, visitor: &str) -> EventRow {
        EventRow { project_id, event: "$pageview".into(), distinct_id: visitor.into(), ..EventRow::default() }
    }

    #[test]
    fn idle_projects_are_evicted_and_capped() {
        let realtime =
            Realtime::new(Config { window_minutes: 30, max_projects: 3, ..Config::default() }).unwrap();
        let t0 = 1_700_000_000_000;
        for project in 1..=5 {
            realtime.observe(&event(project, "v"), t0);
        }
        assert_eq!(realtime.project_count(), 3, "the cap holds");
        assert_eq!(realtime.version(5), 0);
        assert_eq!(realtime.sweep(t0 + 29 * 60_000), 0);
        assert_eq!(realtime.sweep(t0 + 30 * 60_000), 3);
        assert_eq!(realtime.project_count(), 0);
        realtime.observe(&event(5, "v"), t0 + 30 * 60_000);
        assert_eq!(realtime.version(5), 1);
    }

    #[test]
    fn stale_events_are_not_now() {
        let realtime = Realtime::new(Config::default()).unwrap();
        let now = 1_700_000_000_000;
        realtime.observe(&EventRow { timestamp: now - 2 * 3_600_000, ..event(1, "old") }, now);
        realtime.observe(&EventRow { timestamp: now - 1_000, ..event(1, "new") }, now);
        let snapshot = realtime.snapshot(1, now);
        assert_eq!(snapshot.visitors[0].count.estimate, 1);
        assert_eq!(snapshot.events_per_minute.last().unwrap().events, 1);
    }
}
