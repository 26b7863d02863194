//! The real-time HTTP surface:
//!
//! - `GET /api/projects/{id}/realtime` — the figures as JSON ([`Snapshot`]), this
//!   collector's merged with its peers'.
//! - `GET /api/projects/{id}/realtime/stream` — the same as Server-Sent Events ([`sse`]).
//! - `GET /api/projects/{id}/realtime/sketches?minute=M` — this collector's own summary,
//!   serialized ([`crate::realtime::codec`]), for peers (shared `peer_token`) or any
//!   secret read key of the project.

mod auth;
pub mod cache;
mod error;
pub mod peers;
pub mod sse;

use std::sync::Arc;

use actix_web::http::header::{self, ContentEncoding};
use actix_web::{web, HttpRequest, HttpResponse};
use numu_appstate::AppState;

pub use auth::{authenticate, SessionAuth, SessionOutcome};
use cache::{SnapshotCache, StateKey};
pub use error::{ErrorCode, RealtimeError};
use peers::{merged_snapshot, Peers};
use sse::StreamSlots;

use super::codec::{encode, CONTENT_TYPE};
use super::summary::Snapshot;
use super::{minute_of, now_ms, Config, Realtime};

/// How far (minutes) a peer's requested minute may be from this collector's clock.
const MAX_CLOCK_SKEW_MINUTES: i64 = 5;

/// What the handlers need.
#[derive(Clone)]
pub struct RealtimeState {
    pub realtime: Realtime,
    pub app_state: AppState,
    pub peers: Arc<Peers>,
    /// The dashboard's sessions, for browsers; `None` until the dashboard provides them.
    pub session: Option<Arc<dyn SessionAuth>>,
    streams: Arc<StreamSlots>,
    snapshots: Arc<SnapshotCache>,
}

impl std::fmt::Debug for RealtimeState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealtimeState")
            .field("realtime", &self.realtime)
            .field("sessions", &self.session.is_some())
            .finish_non_exhaustive()
    }
}

impl RealtimeState {
    /// The state for `realtime` (whose config lists the peers).
    pub fn new(realtime: Realtime, app_state: AppState) -> Result<RealtimeState, reqwest::Error> {
        let peers = Arc::new(Peers::new(realtime.config())?);
        Ok(RealtimeState {
            realtime,
            app_state,
            peers,
            session: None,
            streams: Arc::default(),
            snapshots: Arc::default(),
        })
    }

    /// Accepts the dashboard's sessions as well as secret keys.
    pub fn with_session_auth(mut self, session: Arc<dyn SessionAuth>) -> RealtimeState {
        self.session = Some(session);
        self
    }

    pub fn config(&self) -> &Config {
        self.realtime.config()
    }

    /// Streams open for `project_id` on this collector.
    pub fn open_streams(&self, project_id: u64) -> usize {
        self.streams.open(project_id)
    }

    /// What the figures of `project_id` would reflect now.
    pub async fn state_key(&self, project_id: u64) -> StateKey {
        let minute = minute_of(now_ms());
        let version = self.realtime.version(project_id);
        let generation =
            if self.peers.is_empty() { 0 } else { self.peers.answers(project_id, minute).await.generation };
        (version, minute, generation)
    }

    /// The figures of `project_id` for the state `key` (from [`Self::state_key`]), with
    /// the peers'. Uncached: clients go through the shared cache.
    pub async fn compute_snapshot(&self, project_id: u64, key: StateKey) -> Snapshot {
        let minute = key.1;
        let local = self.realtime.summary_at(project_id, minute);
        let peers = self.peers.answers(project_id, minute).await;
        merged_snapshot(local, &peers, self.config().top_k, now_ms())
    }

    /// The figures of `project_id` now (at most [`sse::TICK`] old), as JSON.
    pub async fn snapshot_json(&self, project_id: u64) -> Arc<str> {
        match self.snapshots.latest(self, project_id, sse::TICK, None).await {
            Some(cached) => cached.json.clone(),
            None => Arc::from("{}"), // unreachable: nothing is "seen" without a key
        }
    }
}

/// Mounts the real-time routes.
pub fn configure(cfg: &mut web::ServiceConfig, state: RealtimeState) {
    cfg.app_data(web::Data::new(state))
        .route("/api/projects/{project_id}/realtime", web::get().to(figures))
        .route("/api/projects/{project_id}/realtime/stream", web::get().to(stream))
        .route("/api/projects/{project_id}/realtime/sketches", web::get().to(sketches));
}

fn project_id(req: &HttpRequest) -> Result<i64, RealtimeError> {
    req.match_info()
        .get("project_id")
        .and_then(|id| id.parse::<i64>().ok())
        .filter(|id| *id > 0)
        .ok_or_else(|| RealtimeError::bad("project_id", "must be a positive integer"))
}

async fn allowed(req: &HttpRequest, state: &RealtimeState) -> Result<u64, RealtimeError> {
    let project_id = project_id(req)?;
    authenticate(req, &state.app_state, state.session.as_deref(), project_id).await?;
    Ok(project_id as u64)
}

async fn figures(req: HttpRequest, state: web::Data<RealtimeState>) -> Result<HttpResponse, RealtimeError> {
    let project_id = allowed(&req, &state).await?;
    let json = state.snapshot_json(project_id).await;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(json.to_string()))
}

async fn stream(req: HttpRequest, state: web::Data<RealtimeState>) -> Result<HttpResponse, RealtimeError> {
    let project_id = allowed(&req, &state).await?;
    let limit = state.config().max_streams_per_project;
    let slot = state
        .streams
        .acquire(project_id, limit)
        .ok_or(RealtimeError::TooManyStreams { project_id, limit })?;
    let last_event_id = req.headers().get("last-event-id").and_then(|v| v.to_str().ok());
    let body = sse::body(state.clone(), project_id, sse::first_id(last_event_id), slot);
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(ContentEncoding::Identity)
        .insert_header(("x-accel-buffering", "no"))
        .streaming(body))
}

fn requested_minute(req: &HttpRequest) -> Result<Option<i64>, RealtimeError> {
    form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(name, _)| name == "minute")
        .map(|(_, value)| {
            value.parse::<i64>().map_err(|_| RealtimeError::bad("minute", "must be an integer"))
        })
        .transpose()
}

async fn sketches(req: HttpRequest, state: web::Data<RealtimeState>) -> Result<HttpResponse, RealtimeError> {
    let project_id = project_id(&req)?;
    if !auth::is_peer(&req, state.config().peer_token.as_deref()) {
        authenticate(&req, &state.app_state, None, project_id).await?;
    }
    let now = minute_of(now_ms());
    let minute = requested_minute(&req)?.unwrap_or(now);
    if (minute - now).abs() > MAX_CLOCK_SKEW_MINUTES {
        return Err(RealtimeError::bad(
            "minute",
            format!("{minute} is too far from this collector's minute {now}"),
        ));
    }
    let summary = state.realtime.summary_at(project_id as u64, minute);
    Ok(HttpResponse::Ok()
        .content_type(CONTENT_TYPE)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(encode(&summary)))
}
