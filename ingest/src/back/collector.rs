//! [`Collector`]: the durable [`Sink`]. Starting it recovers the log, starts the writer
//! thread and the batcher task; `append` returns once the records are durable per the fsync
//! policy; `shutdown` cuts and inserts what it can before the process exits.

use std::fs::{File, OpenOptions};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{mpsc as std_mpsc, Arc, Mutex};
use std::thread::JoinHandle;

use numu_warehouse::Warehouse;
use tokio::sync::{mpsc, oneshot, watch};

use crate::record::{Record, Sink, SinkError};

use super::batcher::Batcher;
use super::dedupe::RecentIds;
use super::recover::{self, Recovered};
use super::stats::{Shared, Stats};
use super::wal::{Append, Command, Writer, STOP_WAIT};
use super::{checkpoint, segment, Config, Error};

/// The collector's back half, shared by every request handler.
pub struct Collector {
    config: Config,
    shared: Arc<Shared>,
    commands: std_mpsc::Sender<Command>,
    writer: Mutex<Option<JoinHandle<()>>>,
    batcher: Mutex<Option<tokio::task::JoinHandle<()>>>,
    recent: RecentIds,
}

impl std::fmt::Debug for Collector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collector").field("dir", &self.config.dir).finish_non_exhaustive()
    }
}

impl Collector {
    /// Opens (or creates) the log in `config.dir`, queues what it holds beyond the checkpoint
    /// for replay, and starts the writer thread and the batcher task (on the current Tokio
    /// runtime).
    pub async fn start(config: Config, warehouse: Warehouse) -> Result<Arc<Collector>, Error> {
        Collector::start_when(config, warehouse, watch::channel(true).1).await
    }

    /// As [`Collector::start`], inserting into the warehouse only once `migrated` is true:
    /// until then the log takes events as during an outage.
    pub async fn start_when(
        config: Config,
        warehouse: Warehouse,
        migrated: watch::Receiver<bool>,
    ) -> Result<Arc<Collector>, Error> {
        let dir = config.dir.clone();
        let recent = RecentIds::new(config.dedupe_window_ids);
        let (recovered, lock, position, recent) = tokio::task::spawn_blocking(move || -> Result<_, Error> {
            std::fs::create_dir_all(&dir)?;
            let lock = lock_dir(&dir)?;
            let position = checkpoint::read(&dir)?;
            let recovered = recover::recover(&dir, position)?;
            seed_recent(&recent, &dir, &recovered)?;
            Ok((recovered, lock, position, recent))
        })
        .await
        .map_err(|e| Error::Task(e.to_string()))??;
        let Recovered { ready, tail, log_bytes, segments } = recovered;
        let shared = Arc::new(Shared::default());
        let pending_records = tail.pending.len() as u64;
        let replayed = ready.iter().map(|b| b.count).sum::<u64>() + pending_records;
        let lag_bytes = ready.iter().map(|b| b.bytes()).sum::<u64>() + (tail.len - tail.batch_start);
        shared.lag_records.store(replayed, Relaxed);
        shared.lag_bytes.store(lag_bytes, Relaxed);
        shared.log_bytes.store(log_bytes, Relaxed);
        shared.segments.store(segments, Relaxed);
        shared.replayed_records.store(replayed, Relaxed);
        shared.checkpointed(position, 0, 0);
        metrics::counter!("numu_ingest_replayed_records_total").increment(pending_records);
        let (batches, incoming) = mpsc::unbounded_channel();
        for batch in ready {
            let _ = batches.send(batch);
        }
        let (commands, receiver) = std_mpsc::channel();
        let writer = Writer::new(config.clone(), shared.clone(), batches, tail, lock);
        let writer =
            std::thread::Builder::new().name("numu-wal".into()).spawn(move || writer.run(receiver))?;
        let batcher =
            tokio::spawn(Batcher::new(config.clone(), warehouse, shared.clone(), incoming, migrated).run());
        Ok(Arc::new(Collector {
            config,
            shared,
            commands,
            writer: Mutex::new(Some(writer)),
            batcher: Mutex::new(Some(batcher)),
            recent,
        }))
    }

    /// A snapshot of the log and the warehouse writer (lag, errors, counts).
    pub fn stats(&self) -> Stats {
        self.shared.snapshot()
    }

    /// Stops accepting, cuts the batch under construction, and inserts and checkpoints what
    /// it can within `shutdown_timeout_ms`; anything left is replayed at the next start.
    pub async fn shutdown(&self) {
        self.shared.closing.store(true, Relaxed);
        let (done, stopped) = oneshot::channel();
        if self.commands.send(Command::Stop(done)).is_ok() {
            let _ = tokio::time::timeout(STOP_WAIT, stopped).await;
        }
        self.join_writer().await;
        let batcher = self.batcher.lock().ok().and_then(|mut b| b.take());
        if let Some(mut batcher) = batcher {
            if tokio::time::timeout(self.config.shutdown_timeout(), &mut batcher).await.is_err() {
                tracing::warn!(
                    lag_records = self.shared.lag_records.load(Relaxed),
                    "shutdown timed out; the rest is replayed at the next start"
                );
                batcher.abort();
                let _ = batcher.await;
            }
        }
    }

    /// Stops everything at once, as a crash would: nothing pending is cut, synced, inserted
    /// or checkpointed. For tests of replay.
    #[doc(hidden)]
    pub async fn kill(&self) {
        self.shared.closing.store(true, Relaxed);
        let _ = self.commands.send(Command::Abort);
        self.join_writer().await;
        let batcher = self.batcher.lock().ok().and_then(|mut b| b.take());
        if let Some(batcher) = batcher {
            batcher.abort();
            let _ = batcher.await;
        }
    }

    async fn join_writer(&self) {
        let writer = self.writer.lock().ok().and_then(|mut w| w.take());
        if let Some(writer) = writer {
            let _ = tokio::task::spawn_blocking(move || writer.join()).await;
        }
    }

    /// The `Retry-After` to give while the log is full: the current insert backoff.
    fn retry_after_secs(&self) -> u64 {
        let delay_ms = self.shared.retry_delay_ms.load(Relaxed);
        delay_ms.div_ceil(1000).clamp(1, 60)
    }
}

/// Takes the log directory's lock file so a second process cannot write the same log.
fn lock_dir(dir: &std::path::Path) -> Result<File, Error> {
    let file = OpenOptions::new().create(true).truncate(false).write(true).open(dir.join("LOCK"))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::Locked { dir: dir.to_path_buf() }),
        Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
    }
}

#[async_trait::async_trait]
impl Sink for Collector {
    async fn append(&self, records: Vec<Record>) -> Result<(), SinkError> {
        if records.is_empty() {
            return Ok(());
        }
        if self.shared.closing.load(Relaxed) {
            return Err(SinkError::ShuttingDown);
        }
        let mut records = records;
        let (claimed, duplicates) = self.recent.claim(&mut records);
        if duplicates > 0 {
            self.shared.duplicates.fetch_add(duplicates as u64, Relaxed);
            metrics::counter!("numu_ingest_duplicates_total").increment(duplicates as u64);
        }
        if records.is_empty() {
            return Ok(());
        }
        let result = self.append_durably(records).await;
        if result.is_err() {
            // Not stored: the client's retry must not be taken for a duplicate.
            self.recent.release(&claimed);
        }
        result
    }
}

impl Collector {
    async fn append_durably(&self, records: Vec<Record>) -> Result<(), SinkError> {
        let mut frame = Vec::with_capacity(64 + 320 * records.len());
        segment::encode_data(&records, &mut frame)?;
        let lag = self.shared.lag_bytes.load(Relaxed);
        if lag + frame.len() as u64 > self.config.max_log_bytes {
            metrics::counter!("numu_ingest_log_full_total").increment(1);
            return Err(SinkError::Full { retry_after_secs: self.retry_after_secs() });
        }
        let (done, durable) = oneshot::channel();
        let append = Append { frame, records, done };
        self.commands.send(Command::Append(append)).map_err(|_| SinkError::ShuttingDown)?;
        match durable.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(SinkError::Io(e)),
            Err(_) => Err(SinkError::ShuttingDown),
        }
    }
}

/// At most this much of the log (newest first) is read at start to remember its event ids.
const SEED_BYTES: u64 = 64 << 20;

/// Remembers the ids of the events the log holds beyond the checkpoint: the uncut tail and
/// the newest cut batches, within [`SEED_BYTES`]. A crash swallows the acknowledgements of
/// the last requests; their clients retry, and those events are already here.
fn seed_recent(recent: &RecentIds, dir: &std::path::Path, recovered: &Recovered) -> Result<(), Error> {
    let mut budget = SEED_BYTES;
    let newest = recovered.ready.iter().rev().take_while(|batch| {
        let fits = batch.bytes() <= budget;
        budget = budget.saturating_sub(batch.bytes());
        fits
    });
    let chosen: Vec<_> = newest.collect();
    // Oldest first, the uncut tail last: when the window fills, what it forgets is the oldest.
    let mut seeded = 0;
    for batch in chosen.into_iter().rev() {
        let records = segment::read_records(dir, batch.segment, batch.first, batch.cut)?;
        seeded += recent.seed(&records);
    }
    seeded += recent.seed(&recovered.tail.pending);
    if seeded > 0 {
        tracing::info!(events = seeded, "remembering the recovered events' ids against client retries");
    }
    Ok(())
}

impl Drop for Collector {
    fn drop(&mut self) {
        // Without `shutdown`, stop the writer thread so the log's lock is released.
        let _ = self.commands.send(Command::Abort);
    }
}
