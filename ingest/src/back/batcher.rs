//! The warehouse writer: takes cut batches in log order, builds one Arrow batch per table,
//! inserts each with its range-derived idempotency token, retries failures with backoff
//! (the log keeps accepting meanwhile), then checkpoints and deletes finished segments.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use numu_warehouse::Warehouse;
use tokio::sync::{mpsc, watch};

use super::stats::Shared;
use super::tables::{Tables, TABLES};
use super::{checkpoint, recover, segment, Config, CutBatch, Error};

/// Below this many bytes of queued batches, their records stay in memory; beyond it (a long
/// outage) they are dropped and read back from the log when their turn comes.
const MIN_HELD_BYTES: u64 = 64 << 20;

struct Entry {
    batch: CutBatch,
    tables: Option<Arc<Tables>>,
    /// Tables of this batch already inserted (a retry skips them; the token would dedupe
    /// them anyway, this only saves the work).
    inserted: [bool; 4],
    held: bool,
}

pub(crate) struct Batcher {
    dir: PathBuf,
    config: Config,
    warehouse: Warehouse,
    shared: Arc<Shared>,
    incoming: mpsc::UnboundedReceiver<CutBatch>,
    /// Whether the warehouse is migrated; inserts wait (as after a failure) until it is.
    ready: watch::Receiver<bool>,
    closed: bool,
    queue: VecDeque<Entry>,
    held_bytes: u64,
    max_held_bytes: u64,
    delay: Option<Duration>,
}

impl Batcher {
    pub(crate) fn new(
        config: Config,
        warehouse: Warehouse,
        shared: Arc<Shared>,
        incoming: mpsc::UnboundedReceiver<CutBatch>,
        ready: watch::Receiver<bool>,
    ) -> Batcher {
        Batcher {
            dir: config.dir.clone(),
            max_held_bytes: config.batch_bytes.saturating_mul(4).max(MIN_HELD_BYTES),
            config,
            warehouse,
            shared,
            incoming,
            ready,
            closed: false,
            queue: VecDeque::new(),
            held_bytes: 0,
            delay: None,
        }
    }

    /// Runs until the writer is gone and every batch is in the warehouse.
    pub(crate) async fn run(mut self) {
        loop {
            while let Ok(batch) = self.incoming.try_recv() {
                self.push(batch);
            }
            if self.queue.is_empty() {
                match self.incoming.recv().await {
                    Some(batch) => self.push(batch),
                    None => return,
                }
                continue;
            }
            let migrated = *self.ready.borrow();
            let result = if migrated { self.process_head().await } else { Err(Error::NotMigrated) };
            match result {
                Ok(()) => self.succeeded(),
                Err(e) => self.failed(e).await,
            }
        }
    }

    fn push(&mut self, mut batch: CutBatch) {
        let held = batch.records.is_some() && self.held_bytes + batch.bytes() <= self.max_held_bytes;
        if held {
            self.held_bytes += batch.bytes();
        } else {
            batch.records = None;
        }
        self.queue.push_back(Entry { batch, tables: None, inserted: [false; 4], held });
    }

    /// Inserts the oldest batch into every table it has rows for, then checkpoints it.
    async fn process_head(&mut self) -> Result<(), Error> {
        let dir = self.dir.clone();
        let Some(entry) = self.queue.front_mut() else { return Ok(()) };
        let tables = match &entry.tables {
            Some(tables) => tables.clone(),
            None => {
                let tables = Arc::new(build(&dir, &mut entry.batch).await?);
                entry.tables = Some(tables.clone());
                tables
            }
        };
        for (i, table) in TABLES.iter().enumerate() {
            let Some(rows) = tables.batches[i].clone() else { continue };
            if entry.inserted[i] {
                continue;
            }
            let (count, started) = (rows.num_rows(), Instant::now());
            let token = entry.batch.token(table);
            self.warehouse.insert_deduplicated(table, rows, &token).await.inspect_err(|_| {
                metrics::counter!("numu_ingest_insert_errors_total", "table" => *table).increment(1);
            })?;
            metrics::histogram!("numu_ingest_insert_seconds", "table" => *table)
                .record(started.elapsed().as_secs_f64());
            metrics::histogram!("numu_ingest_batch_rows", "table" => *table).record(count as f64);
            entry.inserted[i] = true;
        }
        let position = entry.batch.end_position();
        let (closes, segment_id) = (entry.batch.closes_segment, entry.batch.segment);
        blocking(move || {
            checkpoint::write(&dir, position)?;
            if closes {
                return recover::delete_through(&dir, segment_id);
            }
            Ok((0, 0))
        })
        .await
        .map(|(count, bytes)| self.shared.segments_deleted(count, bytes))
    }

    fn succeeded(&mut self) {
        let Some(entry) = self.queue.pop_front() else { return };
        if entry.held {
            self.held_bytes -= entry.batch.bytes();
        }
        let batch = &entry.batch;
        self.shared.checkpointed(batch.end_position(), batch.count, batch.bytes());
        self.shared.inserted_batches.fetch_add(1, Relaxed);
        self.shared.inserted_records.fetch_add(batch.count, Relaxed);
        if batch.replayed {
            metrics::counter!("numu_ingest_replayed_records_total").increment(batch.count);
        }
        if self.delay.take().is_some() {
            tracing::info!("warehouse inserts succeed again; draining the log");
            self.shared.set_error(None, 0);
        }
    }

    /// Waits out the backoff after a failed insert, still taking cut batches meanwhile.
    async fn failed(&mut self, error: Error) {
        let delay = match self.delay {
            None => self.config.retry_initial(),
            Some(d) => (d * 2).min(self.config.retry_max()),
        };
        self.delay = Some(delay);
        self.shared.insert_errors.fetch_add(1, Relaxed);
        let message = error.to_string();
        tracing::warn!(error = %message, retry_in_ms = delay.as_millis() as u64, "warehouse insert failed; will retry");
        self.shared.set_error(Some(message), delay.as_millis().max(1) as u64);
        let sleep = tokio::time::sleep(delay);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                () = &mut sleep => return,
                // Migrations just applied: insert now, not after the backoff.
                Ok(()) = self.ready.changed() => return,
                batch = self.incoming.recv(), if !self.closed => match batch {
                    Some(batch) => self.push(batch),
                    None => self.closed = true,
                },
            }
        }
    }
}

/// The batch's Arrow tables, from its records in memory or read back from its segment.
async fn build(dir: &std::path::Path, batch: &mut CutBatch) -> Result<Tables, Error> {
    let records = batch.records.take();
    let (dir, segment_id, first, cut) = (dir.to_path_buf(), batch.segment, batch.first, batch.cut);
    blocking(move || {
        let records = match records {
            Some(records) => records,
            None => segment::read_records(&dir, segment_id, first, cut)?,
        };
        Ok(Tables::build(records)?)
    })
    .await
}

/// Runs file and CPU-heavy work off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(f).await.map_err(|e| Error::Task(e.to_string()))?
}
