//! The Server-Sent Events stream of a project's figures.
//!
//! On connect: a `retry:` hint, then a full snapshot at once. Then the state (the
//! project's version on this collector, the minute, the peers' answers) is checked four
//! times a second; when it changed, a new snapshot is sent — so figures follow events
//! within ~0.5 s and update at least every second while anything changes. Snapshots come
//! from a cache shared by all streams of the project ([`super::cache`]). When nothing
//! changes, a comment line every `heartbeat_secs` keeps proxies from closing the
//! connection. Every snapshot has an `id:`; a client reconnecting with `Last-Event-ID: n`
//! resumes the sequence at n + 1 and gets a full snapshot immediately (each message is
//! complete, so nothing needs replaying). A stream ends after `stream_max_secs`; the
//! browser reconnects and is authenticated again.

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::web::{Bytes, Data};
use tokio::time::{interval, Interval, MissedTickBehavior};

use super::cache::StateKey;
use super::RealtimeState;

/// How often a stream looks for changes.
pub const TICK: Duration = Duration::from_millis(250);

/// Counts open streams per project against the cap.
#[derive(Debug, Default)]
pub struct StreamSlots {
    open: Mutex<HashMap<u64, usize>>,
}

/// One open stream; the slot is given back when the stream is dropped (client gone).
#[derive(Debug)]
pub struct SlotGuard {
    slots: Arc<StreamSlots>,
    project_id: u64,
}

impl StreamSlots {
    /// Takes a slot for `project_id` unless `limit` are taken.
    pub fn acquire(self: &Arc<Self>, project_id: u64, limit: usize) -> Option<SlotGuard> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let count = open.entry(project_id).or_insert(0);
        if *count >= limit {
            return None;
        }
        *count += 1;
        metrics::gauge!("numu_realtime_streams").increment(1.0);
        Some(SlotGuard { slots: self.clone(), project_id })
    }

    pub fn open(&self, project_id: u64) -> usize {
        self.open.lock().unwrap_or_else(|p| p.into_inner()).get(&project_id).copied().unwrap_or(0)
    }
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        let mut open = self.slots.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = open.get_mut(&self.project_id) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.project_id);
            }
        }
        metrics::gauge!("numu_realtime_streams").decrement(1.0);
    }
}

/// The id to continue from: `Last-Event-ID` + 1, or 1.
pub fn first_id(last_event_id: Option<&str>) -> u64 {
    last_event_id.and_then(|v| v.trim().parse::<u64>().ok()).map_or(1, |last| last.saturating_add(1))
}

/// One SSE message carrying `json` (a single line).
pub fn message(id: u64, json: &str) -> String {
    format!("id: {id}\ndata: {json}\n\n")
}

struct Stream {
    state: Data<RealtimeState>,
    project_id: u64,
    next_id: u64,
    started: Instant,
    last_data: Instant,
    last_write: Instant,
    seen: Option<StateKey>,
    ticker: Interval,
    first: bool,
    _slot: SlotGuard,
}

impl Stream {
    /// The next snapshot message if the figures changed since the last one sent.
    async fn update(&mut self) -> Option<String> {
        let state = self.state.clone();
        let cached = state.snapshots.latest(&state, self.project_id, TICK, self.seen).await?;
        self.seen = Some(cached.key);
        let text = message(self.next_id, &cached.json);
        self.next_id += 1;
        (self.last_data, self.last_write) = (Instant::now(), Instant::now());
        Some(text)
    }

    /// The next chunk to write, or `None` to end the stream.
    async fn next_chunk(&mut self) -> Option<Bytes> {
        let config = self.state.realtime.config();
        if self.first {
            self.first = false;
            let mut text = String::new();
            let _ =
                write!(text, ": numu realtime, project {}\nretry: {}\n", self.project_id, config.retry_ms);
            text.push_str(&self.update().await.unwrap_or_default());
            return Some(Bytes::from(text));
        }
        let (max_age, heartbeat) =
            (Duration::from_secs(config.stream_max_secs), Duration::from_secs(config.heartbeat_secs.max(1)));
        loop {
            if self.started.elapsed() >= max_age {
                return None;
            }
            self.ticker.tick().await;
            if self.last_data.elapsed() >= TICK {
                if let Some(text) = self.update().await {
                    return Some(Bytes::from(text));
                }
            }
            if self.last_write.elapsed() >= heartbeat {
                self.last_write = Instant::now();
                return Some(Bytes::from_static(b": heartbeat\n\n"));
            }
        }
    }
}

/// The body of a stream response.
pub fn body(
    state: Data<RealtimeState>,
    project_id: u64,
    next_id: u64,
    slot: SlotGuard,
) -> impl futures::Stream<Item = Result<Bytes, Infallible>> {
    let mut ticker = interval(TICK);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let now = Instant::now();
    let stream = Stream {
        state,
        project_id,
        next_id,
        started: now,
        last_data: now,
        last_write: now,
        seen: None,
        ticker,
        first: true,
        _slot: slot,
    };
    futures::stream::unfold(stream, |mut stream| async move {
        let chunk = stream.next_chunk().await?;
        Some((Ok(chunk), stream))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_resume_after_the_last_one() {
        assert_eq!(first_id(None), 1);
        assert_eq!(first_id(Some("41")), 42);
        assert_eq!(first_id(Some("garbage")), 1);
        assert_eq!(message(3, "{}"), "id: 3\ndata: {}\n\n");
    }

    #[test]
    fn slots_are_capped_and_given_back() {
        let slots = Arc::new(StreamSlots::default());
        let a = slots.acquire(1, 2).unwrap();
        let _b = slots.acquire(1, 2).unwrap();
        assert!(slots.acquire(1, 2).is_none());
        assert!(slots.acquire(2, 2).is_some(), "other projects have their own cap");
        drop(a);
        assert_eq!(slots.open(1), 1);
        assert!(slots.acquire(1, 2).is_some());
    }
}
