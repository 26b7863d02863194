//! The latest figures of each watched project, serialized once and shared by every
//! stream and request of that project: a project is computed at most once per
//! `fresh_for` (250 ms) however many clients watch it, and never while nothing changed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::RealtimeState;

/// What figures reflect: the project's version on this collector, the minute, the
/// generation of the peers' answers.
pub type StateKey = (u64, i64, u64);

/// Figures as JSON, with the state they reflect.
#[derive(Debug)]
pub struct Cached {
    pub at: Instant,
    pub key: StateKey,
    pub json: Arc<str>,
}

type Slot = Arc<tokio::sync::Mutex<Option<Arc<Cached>>>>;

/// Unused entries are dropped once there are more than this many.
const MAX_IDLE_ENTRIES: usize = 1024;
const IDLE: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
pub struct SnapshotCache {
    entries: Mutex<HashMap<u64, (Instant, Slot)>>,
}

impl SnapshotCache {
    fn slot(&self, project_id: u64) -> Slot {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() > MAX_IDLE_ENTRIES {
            entries.retain(|_, (used, _)| used.elapsed() < IDLE);
        }
        let entry = entries.entry(project_id).or_insert_with(|| (Instant::now(), Slot::default()));
        entry.0 = Instant::now();
        entry.1.clone()
    }

    /// Figures newer than `seen` (the key a client already has): the cached ones if they
    /// reflect the current state or are younger than `fresh_for`, else computed now.
    /// `None`: nothing newer than `seen` yet (ask again later).
    pub async fn latest(
        &self,
        state: &RealtimeState,
        project_id: u64,
        fresh_for: Duration,
        seen: Option<StateKey>,
    ) -> Option<Arc<Cached>> {
        let slot = self.slot(project_id);
        let mut cached = slot.lock().await;
        let now = state.state_key(project_id).await;
        if let Some(entry) = cached.as_ref() {
            if entry.key == now || entry.at.elapsed() < fresh_for {
                return (Some(entry.key) != seen).then(|| entry.clone());
            }
        }
        let snapshot = state.compute_snapshot(project_id, now).await;
        let json: Arc<str> = serde_json::to_string(&snapshot).unwrap_or_else(|_| "{}".into()).into();
        let entry = Arc::new(Cached { at: Instant::now(), key: now, json });
        *cached = Some(entry.clone());
        Some(entry)
    }
}
