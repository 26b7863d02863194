//! The other collectors: their summaries of a project, fetched over HTTP with the shared
//! `peer_token`, cached per project for `peer_cache_ms`, and merged into this collector's.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::join_all;

use crate::realtime::codec::{decode, CONTENT_TYPE};
use crate::realtime::config::Config;
use crate::realtime::summary::{Snapshot, WindowSummary};

/// Largest summary accepted from a peer.
const MAX_BODY_BYTES: usize = 16 << 20;
/// Cached answers unused for this long are dropped when the cache is large.
const IDLE: Duration = Duration::from_secs(60);

/// What the peers said about one project and minute.
#[derive(Debug, Default)]
pub struct PeerAnswers {
    pub minute: i64,
    /// `(url, summary)` of each peer that answered.
    pub summaries: Vec<(String, WindowSummary)>,
    /// `url: reason` of each peer that did not answer usably.
    pub failed: Vec<String>,
    /// Changes when any answer's bytes change.
    pub generation: u64,
}

type Slot = Arc<tokio::sync::Mutex<Option<(Instant, u64, Arc<PeerAnswers>)>>>;

/// The peer collectors of this one.
pub struct Peers {
    client: reqwest::Client,
    urls: Vec<String>,
    token: Option<String>,
    precision: u8,
    ttl: Duration,
    cache: Mutex<HashMap<u64, (Instant, Slot)>>,
    generations: AtomicU64,
}

impl Peers {
    pub fn new(config: &Config) -> Result<Peers, reqwest::Error> {
        let client = reqwest::Client::builder().timeout(config.peer_timeout()).build()?;
        Ok(Peers {
            client,
            urls: config.peers.iter().map(|u| u.trim_end_matches('/').to_string()).collect(),
            token: config.peer_token.clone(),
            precision: config.precision,
            ttl: config.peer_cache(),
            cache: Mutex::new(HashMap::new()),
            generations: AtomicU64::new(0),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.urls.is_empty()
    }

    fn slot(&self, project_id: u64) -> Slot {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() > 1024 {
            cache.retain(|_, (used, _)| used.elapsed() < IDLE);
        }
        let entry = cache.entry(project_id).or_insert_with(|| (Instant::now(), Slot::default()));
        entry.0 = Instant::now();
        entry.1.clone()
    }

    /// The peers' summaries of `project_id` at `minute`, fetched at most once per
    /// `peer_cache_ms` (concurrent callers wait for one fetch).
    pub async fn answers(&self, project_id: u64, minute: i64) -> Arc<PeerAnswers> {
        if self.is_empty() {
            return Arc::new(PeerAnswers { minute, ..PeerAnswers::default() });
        }
        let slot = self.slot(project_id);
        let mut cached = slot.lock().await;
        if let Some((at, _, answers)) = cached.as_ref() {
            if answers.minute == minute && at.elapsed() < self.ttl {
                return answers.clone();
            }
        }
        let bodies = join_all(self.urls.iter().map(|url| self.fetch(url, project_id, minute))).await;
        let digest = bodies.iter().fold(0u64, |acc, body| {
            acc.rotate_left(5) ^ body.as_ref().map_or(1, |b| twox_hash::XxHash3_64::oneshot(b))
        });
        let generation = match cached.as_ref() {
            Some((_, previous, answers)) if *previous == digest => answers.generation,
            _ => self.generations.fetch_add(1, Ordering::Relaxed) + 1,
        };
        let mut answers = PeerAnswers { minute, generation, ..PeerAnswers::default() };
        for (url, body) in self.urls.iter().zip(bodies) {
            match body.and_then(|b| decode(&b, self.precision).map_err(|e| e.to_string())) {
                Ok(summary) => answers.summaries.push((url.clone(), summary)),
                Err(reason) => {
                    tracing::warn!(peer = %url, project_id, %reason, "realtime peer unusable");
                    answers.failed.push(format!("{url}: {reason}"));
                }
            }
        }
        let answers = Arc::new(answers);
        *cached = Some((Instant::now(), digest, answers.clone()));
        answers
    }

    async fn fetch(&self, url: &str, project_id: u64, minute: i64) -> Result<Vec<u8>, String> {
        let address = format!("{url}/api/projects/{project_id}/realtime/sketches?minute={minute}");
        let mut request = self.client.get(&address).header("accept", CONTENT_TYPE);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let mut response = request.send().await.map_err(|e| e.without_url().to_string())?;
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| e.without_url().to_string())? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err("summary too large".into());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// This collector's summary with the peers' merged in, as figures at `now_ms`. A peer
/// whose summary cannot be merged (or whose data makes the sketch code panic) is left out
/// and named in `unreachable_peers`.
pub fn merged_snapshot(local: WindowSummary, peers: &PeerAnswers, keep: usize, now_ms: i64) -> Snapshot {
    let mut failed = peers.failed.clone();
    if peers.summaries.is_empty() {
        let mut snapshot = local.snapshot(now_ms);
        snapshot.unreachable_peers = failed;
        return snapshot;
    }
    let mut merged = local.clone();
    for (url, peer) in &peers.summaries {
        let attempt = catch_unwind(AssertUnwindSafe(|| {
            let mut candidate = merged.clone();
            candidate.merge(peer, keep).map(|()| candidate)
        }));
        match attempt {
            Ok(Ok(candidate)) => merged = candidate,
            Ok(Err(e)) => failed.push(format!("{url}: {e}")),
            Err(_) => failed.push(format!("{url}: corrupt sketch")),
        }
    }
    let mut snapshot = catch_unwind(AssertUnwindSafe(|| merged.snapshot(now_ms))).unwrap_or_else(|_| {
        failed.extend(peers.summaries.iter().map(|(url, _)| format!("{url}: corrupt sketch")));
        local.snapshot(now_ms)
    });
    snapshot.unreachable_peers = failed;
    snapshot
}
