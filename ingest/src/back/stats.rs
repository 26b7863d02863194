//! Counters shared by the writer thread, the batcher task and `append`, exposed as
//! [`Stats`] (readiness, tests) and as `numu_ingest_*` metrics.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Mutex;

use serde::Serialize;

use super::Position;

#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// Bytes and records in the log that are not yet checkpointed (in the warehouse).
    pub lag_bytes: AtomicU64,
    pub lag_records: AtomicU64,
    /// Bytes of all segment files on disk.
    pub log_bytes: AtomicU64,
    pub segments: AtomicU64,
    pub appended_records: AtomicU64,
    pub appends: AtomicU64,
    pub fsyncs: AtomicU64,
    pub inserted_batches: AtomicU64,
    pub inserted_records: AtomicU64,
    pub insert_errors: AtomicU64,
    pub replayed_records: AtomicU64,
    /// Events dropped because their message id was seen recently (client retries).
    pub duplicates: AtomicU64,
    /// The current retry delay while inserts fail; 0 when the warehouse takes inserts.
    pub retry_delay_ms: AtomicU64,
    pub closing: AtomicBool,
    pub last_error: Mutex<Option<String>>,
    pub checkpoint: Mutex<Position>,
}

impl Shared {
    pub(crate) fn appended(&self, appends: u64, records: u64, bytes: u64) {
        self.appends.fetch_add(appends, Relaxed);
        self.appended_records.fetch_add(records, Relaxed);
        self.lag_records.fetch_add(records, Relaxed);
        self.lag_bytes.fetch_add(bytes, Relaxed);
        self.log_bytes.fetch_add(bytes, Relaxed);
        metrics::counter!("numu_ingest_appended_records_total").increment(records);
        self.publish();
    }

    pub(crate) fn segment_created(&self) {
        self.segments.fetch_add(1, Relaxed);
        self.log_bytes.fetch_add(super::segment::HEADER_LEN, Relaxed);
        self.publish();
    }

    pub(crate) fn checkpointed(&self, position: Position, records: u64, bytes: u64) {
        self.lag_records.fetch_sub(records.min(self.lag_records.load(Relaxed)), Relaxed);
        self.lag_bytes.fetch_sub(bytes.min(self.lag_bytes.load(Relaxed)), Relaxed);
        if let Ok(mut checkpoint) = self.checkpoint.lock() {
            *checkpoint = position;
        }
        self.publish();
    }

    pub(crate) fn segments_deleted(&self, count: u64, bytes: u64) {
        self.segments.fetch_sub(count.min(self.segments.load(Relaxed)), Relaxed);
        self.log_bytes.fetch_sub(bytes.min(self.log_bytes.load(Relaxed)), Relaxed);
        self.publish();
    }

    pub(crate) fn set_error(&self, error: Option<String>, retry_delay_ms: u64) {
        self.retry_delay_ms.store(retry_delay_ms, Relaxed);
        if let Ok(mut last) = self.last_error.lock() {
            *last = error;
        }
        metrics::gauge!("numu_ingest_warehouse_up").set(if retry_delay_ms == 0 { 1.0 } else { 0.0 });
    }

    fn publish(&self) {
        metrics::gauge!("numu_ingest_log_bytes").set(self.log_bytes.load(Relaxed) as f64);
        metrics::gauge!("numu_ingest_lag_bytes").set(self.lag_bytes.load(Relaxed) as f64);
        metrics::gauge!("numu_ingest_lag_records").set(self.lag_records.load(Relaxed) as f64);
        metrics::gauge!("numu_ingest_log_segments").set(self.segments.load(Relaxed) as f64);
    }

    pub(crate) fn snapshot(&self) -> Stats {
        Stats {
            log_bytes: self.log_bytes.load(Relaxed),
            log_segments: self.segments.load(Relaxed),
            lag_bytes: self.lag_bytes.load(Relaxed),
            lag_records: self.lag_records.load(Relaxed),
            appends: self.appends.load(Relaxed),
            appended_records: self.appended_records.load(Relaxed),
            fsyncs: self.fsyncs.load(Relaxed),
            inserted_batches: self.inserted_batches.load(Relaxed),
            inserted_records: self.inserted_records.load(Relaxed),
            insert_errors: self.insert_errors.load(Relaxed),
            replayed_records: self.replayed_records.load(Relaxed),
            duplicates: self.duplicates.load(Relaxed),
            warehouse_ok: self.retry_delay_ms.load(Relaxed) == 0,
            last_error: self.last_error.lock().ok().and_then(|e| e.clone()),
            checkpoint: self.checkpoint.lock().map(|p| p.to_string()).unwrap_or_default(),
            closing: self.closing.load(Relaxed),
        }
    }
}

/// A snapshot of the collector's back half, for readiness checks and metrics pages.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Bytes of segment files on disk.
    pub log_bytes: u64,
    pub log_segments: u64,
    /// Log bytes / records acknowledged but not yet in the warehouse.
    pub lag_bytes: u64,
    pub lag_records: u64,
    /// `append` calls made durable, and the records they carried (since start).
    pub appends: u64,
    pub appended_records: u64,
    /// Syncs of log segments (fewer than `appends` under concurrency: group commit).
    pub fsyncs: u64,
    pub inserted_batches: u64,
    pub inserted_records: u64,
    pub insert_errors: u64,
    /// Records found in the log at start that were not yet in the warehouse.
    pub replayed_records: u64,
    /// Events dropped as repeats of a recently seen message id (client retries).
    pub duplicates: u64,
    /// False while inserts are failing and being retried.
    pub warehouse_ok: bool,
    pub last_error: Option<String>,
    /// The durable "done" position, `segment:offset`.
    pub checkpoint: String,
    pub closing: bool,
}
