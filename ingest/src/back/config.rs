//! The back half's configuration (`[ingest.log]`-style TOML section): where the log lives,
//! when it is synced, how batches are cut and how outages are ridden out.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// When appended records are flushed to stable storage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FsyncPolicy {
    /// `fdatasync` before acknowledging (shared by every append of one group commit).
    #[default]
    Always,
    /// Acknowledge once written to the OS; sync every `fsync_interval_ms`. A process crash
    /// loses nothing, a power loss up to one interval.
    Interval,
    /// Never sync explicitly except at batch cuts (the OS decides). Benchmarks only.
    Never,
}

/// Configuration of the durable sink. Every field has a default; unknown keys are errors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Directory of the write-ahead log segments and the checkpoint (exclusive to one process).
    pub dir: PathBuf,
    pub fsync: FsyncPolicy,
    /// Sync period for `fsync = "interval"`.
    pub fsync_interval_ms: u64,
    /// With `fsync = "always"`: how long a round waits for more appends before syncing
    /// (like PostgreSQL's `commit_delay`). One sync then serves every request of that
    /// millisecond: at 5 000 single-event requests/s it cut syncs 3.6× and the collector's
    /// CPU per event by a fifth, for ≈ 1.5 ms more acknowledgement latency
    /// (load-tests/RESULTS.md). 0 syncs as soon as the writer is free.
    pub group_commit_delay_us: u64,
    /// A segment is closed and a new one started once it holds this many bytes.
    pub segment_bytes: u64,
    /// A batch is cut once it holds this many records…
    pub batch_rows: usize,
    /// …or this many bytes of log…
    pub batch_bytes: u64,
    /// …or its first record is this old (freshness).
    pub batch_interval_ms: u64,
    /// Bytes of log not yet in the warehouse beyond which `append` answers `Full`.
    pub max_log_bytes: u64,
    /// First delay before retrying a failed insert; doubles up to `retry_max_ms`.
    pub retry_initial_ms: u64,
    pub retry_max_ms: u64,
    /// How long `shutdown` keeps trying to insert what is left before leaving it to replay.
    pub shutdown_timeout_ms: u64,
    /// Events whose (project, message id) was seen among roughly the last this many to
    /// twice this many are dropped as client retries (≈ 20 bytes each). 0 turns it off.
    pub dedupe_window_ids: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            dir: PathBuf::from("data/wal"),
            fsync: FsyncPolicy::Always,
            fsync_interval_ms: 100,
            group_commit_delay_us: 1_000,
            segment_bytes: 64 << 20,
            batch_rows: 50_000,
            batch_bytes: 32 << 20,
            batch_interval_ms: 1_000,
            max_log_bytes: 1 << 30,
            retry_initial_ms: 200,
            retry_max_ms: 30_000,
            shutdown_timeout_ms: 10_000,
            dedupe_window_ids: 1_000_000,
        }
    }
}

impl Config {
    pub(crate) fn batch_interval(&self) -> Duration {
        Duration::from_millis(self.batch_interval_ms.max(1))
    }

    pub(crate) fn fsync_interval(&self) -> Duration {
        Duration::from_millis(self.fsync_interval_ms.max(1))
    }

    pub(crate) fn retry_initial(&self) -> Duration {
        Duration::from_millis(self.retry_initial_ms.max(1))
    }

    pub(crate) fn retry_max(&self) -> Duration {
        Duration::from_millis(self.retry_max_ms.max(self.retry_initial_ms).max(1))
    }

    pub(crate) fn shutdown_timeout(&self) -> Duration {
        Duration::from_millis(self.shutdown_timeout_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_unknown_keys() {
        let config: Config = serde_json::from_str(r#"{"fsync":"interval","batch_rows":10}"#).unwrap();
        assert_eq!(config.fsync, FsyncPolicy::Interval);
        assert_eq!(config.batch_rows, 10);
        assert_eq!(config.dir, PathBuf::from("data/wal"));
        assert!(serde_json::from_str::<Config>(r#"{"batch_row":10}"#).is_err());
    }
}
