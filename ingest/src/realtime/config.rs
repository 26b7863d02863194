//! The real-time figures' configuration (`[realtime]` TOML section): window, sketch
//! precision, bounds on memory, streams and the peer collectors whose sketches are merged.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The shortest window that can serve every figure (visitors and events per minute over
/// the last 30 minutes).
pub const MIN_WINDOW_MINUTES: u16 = 30;
/// The longest window accepted (memory grows linearly with it).
pub const MAX_WINDOW_MINUTES: u16 = 240;
/// Shortest accepted shared secret between collectors.
pub const MIN_PEER_TOKEN_LEN: usize = 32;

/// Configuration of the real-time figures. Every field has a default; unknown keys are errors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Minutes kept in memory per project (a ring of minute buckets).
    pub window_minutes: u16,
    /// HyperLogLog++ precision `p` (4..=18): 2^p registers, relative standard error
    /// 1.04/√2^p (p = 14: 0.81 %, 12 KiB per dense sketch). Equal on every collector.
    pub precision: u8,
    /// A minute keeps its visitors as an exact set of hashes up to this many, then as a sketch.
    pub exact_threshold: usize,
    /// Keys counted per minute for pages, sources and event names (Space-Saving top-K).
    pub top_k: usize,
    /// Projects tracked at once; events of further projects are not counted (metric
    /// `numu_realtime_projects_refused_total`) until idle projects are evicted.
    pub max_projects: usize,
    /// Concurrent SSE streams per project; one more is answered 429.
    pub max_streams_per_project: usize,
    /// A stream ends after this long; the browser reconnects (with `Last-Event-ID`) and
    /// is authenticated again, so a revoked key or session stops within this period.
    pub stream_max_secs: u64,
    /// The `retry:` hint sent to EventSource clients.
    pub retry_ms: u64,
    /// A comment line is sent when nothing else was written for this long.
    pub heartbeat_secs: u64,
    /// Base URLs of the other collectors (`http://10.0.0.2:8080`), merged into every answer.
    pub peers: Vec<String>,
    /// Shared secret sent to peers and accepted from them on `/realtime/sketches`
    /// (at least 32 characters). Required when `peers` is not empty.
    pub peer_token: Option<String>,
    /// Deadline for one peer's answer.
    pub peer_timeout_ms: u64,
    /// Peers' sketches are fetched at most this often per project.
    pub peer_cache_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            window_minutes: 60,
            precision: 14,
            exact_threshold: 128,
            top_k: 32,
            max_projects: 100_000,
            max_streams_per_project: 20,
            stream_max_secs: 900,
            retry_ms: 2_000,
            heartbeat_secs: 15,
            peers: Vec::new(),
            peer_token: None,
            peer_timeout_ms: 800,
            peer_cache_ms: 1_000,
        }
    }
}

/// A configuration that cannot work.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("realtime.{field}: {message}")]
pub struct ConfigError {
    pub field: &'static str,
    pub message: String,
}

fn invalid(field: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError { field, message: message.into() }
}

impl Config {
    /// Checks ranges and the peer settings.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(MIN_WINDOW_MINUTES..=MAX_WINDOW_MINUTES).contains(&self.window_minutes) {
            return Err(invalid(
                "window_minutes",
                format!("must be between {MIN_WINDOW_MINUTES} and {MAX_WINDOW_MINUTES}"),
            ));
        }
        if !(4..=18).contains(&self.precision) {
            return Err(invalid("precision", "must be between 4 and 18"));
        }
        if self.exact_threshold > 4096 {
            return Err(invalid("exact_threshold", "must be at most 4096"));
        }
        if !(1..=1024).contains(&self.top_k) {
            return Err(invalid("top_k", "must be between 1 and 1024"));
        }
        if self.max_projects == 0 || self.max_streams_per_project == 0 {
            return Err(invalid("max_projects", "limits must be at least 1"));
        }
        for peer in &self.peers {
            // The HTTP client is built without TLS (the workspace's reqwest has no TLS feature).
            if !peer.starts_with("http://") {
                return Err(invalid("peers", format!("`{peer}` is not an http:// URL")));
            }
        }
        match &self.peer_token {
            Some(token) if token.len() < MIN_PEER_TOKEN_LEN => {
                Err(invalid("peer_token", format!("needs at least {MIN_PEER_TOKEN_LEN} characters")))
            }
            None if !self.peers.is_empty() => Err(invalid("peer_token", "is required when peers are listed")),
            _ => Ok(()),
        }
    }

    pub(crate) fn window_ms(&self) -> i64 {
        i64::from(self.window_minutes) * 60_000
    }

    pub(crate) fn peer_timeout(&self) -> Duration {
        Duration::from_millis(self.peer_timeout_ms.max(1))
    }

    pub(crate) fn peer_cache(&self) -> Duration {
        Duration::from_millis(self.peer_cache_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_are_named() {
        assert_eq!(Config::default().validate(), Ok(()));
        let bad = Config { window_minutes: 10, ..Config::default() };
        assert_eq!(bad.validate().unwrap_err().field, "window_minutes");
        let bad = Config { precision: 19, ..Config::default() };
        assert_eq!(bad.validate().unwrap_err().field, "precision");
        let bad = Config { peers: vec!["http://a:1".into()], ..Config::default() };
        assert_eq!(bad.validate().unwrap_err().field, "peer_token");
        let bad = Config { peers: vec!["a:1".into()], peer_token: Some("x".repeat(32)), ..Config::default() };
        assert_eq!(bad.validate().unwrap_err().field, "peers");
        let toml_like: Config = serde_json::from_str(r#"{"window_minutes": 30, "peers": []}"#).unwrap();
        assert_eq!(toml_like.window_minutes, 30);
        assert!(serde_json::from_str::<Config>(r#"{"windw": 30}"#).is_err());
    }
}
