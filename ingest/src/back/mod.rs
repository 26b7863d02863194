//! The collector's back half: write-ahead log, batcher and warehouse writer.
//!
//! `append` → [`wal`] (group commit into checksummed segment frames) → acknowledge. The
//! writer thread also cuts the log into batches (rows / bytes / age / segment size) by writing
//! a cut frame, so every batch boundary is durable before its insert. The [`batcher`] task
//! turns each cut batch into one Arrow batch per table, inserts it with an idempotency token
//! derived from its log range (`numu-{segment}-{first}-{cut}-{table}`), then checkpoints. A
//! restart replays batches after the checkpoint with the same boundaries and tokens, so a
//! batch inserted before a crash but not checkpointed is stored once.

mod batcher;
mod checkpoint;
mod collector;
mod config;
mod dedupe;
mod recover;
mod segment;
mod stats;
pub mod tables;
mod wal;

use std::io;
use std::path::PathBuf;

pub use checkpoint::Position;
pub use collector::Collector;
pub use config::{Config, FsyncPolicy};
pub use stats::Stats;

use crate::record::{Record, SinkError};

/// What can go wrong in the back half.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("write-ahead log: {0}")]
    Io(#[from] io::Error),
    #[error("write-ahead log directory {dir} is used by another process; stop it or set the log's `dir` elsewhere")]
    Locked { dir: PathBuf },
    #[error("write-ahead log is corrupt: {0}")]
    Corrupt(String),
    #[error("write-ahead log record encoding: {0}")]
    Encode(#[from] postcard::Error),
    #[error("building an Arrow batch: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    #[error(transparent)]
    Warehouse(#[from] numu_warehouse::WarehouseError),
    #[error("collector task failed: {0}")]
    Task(String),
    #[error("the warehouse is not migrated yet (it was unreachable at start); the log keeps the events")]
    NotMigrated,
}

impl From<Error> for SinkError {
    fn from(error: Error) -> SinkError {
        match error {
            Error::Io(e) => SinkError::Io(e),
            other => SinkError::Io(io::Error::other(other.to_string())),
        }
    }
}

/// A batch cut in the log: the range `[first, end)` of one segment (data frames, then the
/// cut frame at `cut`). Its records travel in memory from the writer; replayed or shed
/// batches are read back from the segment.
#[derive(Debug)]
pub(crate) struct CutBatch {
    pub segment: u64,
    pub first: u64,
    pub cut: u64,
    pub end: u64,
    pub count: u64,
    pub records: Option<Vec<Record>>,
    /// The last batch of a closed segment: once it is in, the segment can go.
    pub closes_segment: bool,
    /// Found in the log at start rather than appended by this process.
    pub replayed: bool,
}

impl CutBatch {
    pub(crate) fn on_disk(segment: u64, first: u64, cut: u64, end: u64, count: u64) -> CutBatch {
        CutBatch { segment, first, cut, end, count, records: None, closes_segment: false, replayed: true }
    }

    pub(crate) fn bytes(&self) -> u64 {
        self.end - self.first
    }

    /// The idempotency token of this batch's insert into `table`: a pure function of the log
    /// range, so a replay of the same range dedupes against the first insert.
    pub(crate) fn token(&self, table: &str) -> String {
        format!("numu-{}-{}-{}-{table}", self.segment, self.first, self.cut)
    }

    pub(crate) fn end_position(&self) -> Position {
        Position { segment: self.segment, offset: self.end }
    }
}

/// One data frame as the log stores it (header, checksum, postcard body). For benchmarks.
#[doc(hidden)]
pub fn encode_frame(records: &[Record]) -> Result<Vec<u8>, Error> {
    let mut frame = Vec::new();
    segment::encode_data(records, &mut frame)?;
    Ok(frame)
}

/// The records of a frame made by [`encode_frame`], checksum verified. For benchmarks.
#[doc(hidden)]
pub fn decode_frame(frame: &[u8]) -> Result<Vec<Record>, Error> {
    let payload = frame.get(segment::FRAME_HEADER_LEN..).unwrap_or_default();
    let crc = frame.get(4..8).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    if payload.is_empty() || crc != Some(crc32c::crc32c(payload)) {
        return Err(Error::Corrupt("frame checksum".into()));
    }
    segment::decode_data(&payload[1..])
}
