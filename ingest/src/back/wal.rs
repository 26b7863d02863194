//! The log writer: one thread owns the active segment. Appends queue up while it writes and
//! syncs, and each round writes everything queued with one `write` and (policy `always`) one
//! `fdatasync` — group commit. The same thread decides batch cuts (rows, bytes, age, segment
//! size) and writes them into the log, so batch boundaries are durable before any insert.

use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use crate::record::Record;

use super::stats::Shared;
use super::{segment, Config, CutBatch, FsyncPolicy};

/// At most this many bytes are gathered into one round, bounding one write's latency.
const MAX_ROUND_BYTES: usize = 16 << 20;

/// How far ahead of the log's end the segment is filled with zeros. A write past the file's
/// end makes `fdatasync` commit the inode's new size as well; into zeros already on disk it
/// flushes data alone, for about half the CPU and wall time on this project's VM
/// (`fsync-cost`). Larger steps measured worse for 35 KB rounds.
const ZERO_AHEAD: usize = 1 << 20;
static ZEROS: [u8; ZERO_AHEAD] = [0; ZERO_AHEAD];

pub(crate) struct Append {
    pub frame: Vec<u8>,
    pub records: Vec<Record>,
    pub done: oneshot::Sender<io::Result<()>>,
}

/// The appends gathered for one write and sync.
#[derive(Default)]
struct Round {
    appends: Vec<Append>,
    bytes: usize,
}

impl Round {
    fn full(&self) -> bool {
        self.bytes >= MAX_ROUND_BYTES
    }

    /// Adds an append; a control command is handed back to end the round.
    fn take(&mut self, command: Command) -> Option<Command> {
        match command {
            Command::Append(append) => {
                self.bytes += append.frame.len();
                self.appends.push(append);
                None
            }
            control => Some(control),
        }
    }

    /// Adds what is already queued, up to the round's size.
    fn drain(&mut self, commands: &Receiver<Command>) -> Option<Command> {
        while !self.full() {
            let Ok(command) = commands.try_recv() else { return None };
            if let Some(control) = self.take(command) {
                return Some(control);
            }
        }
        None
    }
}

pub(crate) enum Command {
    Append(Append),
    /// Cut what is pending, sync, and stop (graceful shutdown).
    Stop(oneshot::Sender<()>),
    /// Stop at once without cutting or syncing (simulates a crash in tests).
    Abort,
}

/// Where the writer starts: the end of the last segment and its batch not yet cut.
pub(crate) struct Tail {
    pub segment: u64,
    pub file: File,
    pub len: u64,
    pub batch_start: u64,
    pub pending: Vec<Record>,
}

pub(crate) struct Writer {
    dir: PathBuf,
    config: Config,
    shared: Arc<Shared>,
    batches: mpsc::UnboundedSender<CutBatch>,
    file: File,
    segment: u64,
    len: u64,
    /// The segment file's length: zeros from `len` to here (see [`ZERO_AHEAD`]).
    zeroed_to: u64,
    batch_start: u64,
    pending: Vec<Record>,
    pending_since: Option<Instant>,
    /// Written since the last sync (policy `interval` / `never`).
    dirty: bool,
    last_sync: Instant,
    /// Held so a second process cannot open the same log; released when the thread ends.
    _lock: File,
}

impl Writer {
    pub(crate) fn new(
        config: Config,
        shared: Arc<Shared>,
        batches: mpsc::UnboundedSender<CutBatch>,
        tail: Tail,
        lock: File,
    ) -> Writer {
        let pending_since = (!tail.pending.is_empty()).then(Instant::now);
        let zeroed_to = tail.file.metadata().map_or(tail.len, |m| m.len()).max(tail.len);
        Writer {
            dir: config.dir.clone(),
            config,
            shared,
            batches,
            file: tail.file,
            segment: tail.segment,
            len: tail.len,
            zeroed_to,
            batch_start: tail.batch_start,
            pending: tail.pending,
            pending_since,
            dirty: false,
            last_sync: Instant::now(),
            _lock: lock,
        }
    }

    /// The thread body: rounds of appends until stopped or every sender is gone.
    pub(crate) fn run(mut self, commands: Receiver<Command>) {
        loop {
            let first = match self.next_deadline() {
                Some(at) => match commands.recv_timeout(at.saturating_duration_since(Instant::now())) {
                    Ok(command) => Some(command),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => break,
                },
                None => match commands.recv() {
                    Ok(command) => Some(command),
                    Err(_) => break,
                },
            };
            let (round, control) = self.gather(&commands, first);
            match control {
                Some(Command::Abort) => return,
                Some(Command::Stop(done)) => {
                    self.round(round, true);
                    self.sync_if_dirty();
                    let _ = done.send(());
                    return;
                }
                _ => self.round(round, false),
            }
        }
        self.round(Vec::new(), true);
    }

    /// One round: `first` and every append already queued behind it, and with
    /// `group_commit_delay_us` whatever else arrives within that delay (one sync for all).
    /// The delay is slept through in one piece: waiting on the channel instead would wake
    /// this thread, and make each sender pay a futex wake, for every append in it.
    fn gather(&self, commands: &Receiver<Command>, first: Option<Command>) -> (Vec<Append>, Option<Command>) {
        let mut round = Round::default();
        let Some(first) = first else { return (round.appends, None) };
        if let Some(control) = round.take(first).or_else(|| round.drain(commands)) {
            return (round.appends, Some(control));
        }
        let delay = Duration::from_micros(self.config.group_commit_delay_us);
        if self.config.fsync == FsyncPolicy::Always && !delay.is_zero() && !round.full() {
            std::thread::sleep(delay);
            if let Some(control) = round.drain(commands) {
                return (round.appends, Some(control));
            }
        }
        (round.appends, None)
    }

    /// When the thread must wake without new appends: a batch's age limit or a due sync.
    fn next_deadline(&self) -> Option<Instant> {
        let cut = self.pending_since.map(|since| since + self.config.batch_interval());
        let sync = (self.dirty && self.config.fsync == FsyncPolicy::Interval)
            .then(|| self.last_sync + self.config.fsync_interval());
        match (cut, sync) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Writes one round of appends (plus a cut when one is due) with one write and at most
    /// one sync, then acknowledges the appends and hands a cut batch to the batcher.
    fn round(&mut self, round: Vec<Append>, force_cut: bool) {
        let mut buf = Vec::with_capacity(round.iter().map(|a| a.frame.len()).sum::<usize>() + 16);
        let mut records = 0usize;
        for append in &round {
            buf.extend_from_slice(&append.frame);
            records += append.records.len();
        }
        let data_len = buf.len();
        let cut = self.cut_due(records, data_len as u64, force_cut);
        if cut {
            segment::encode_cut(&mut buf);
        }
        if buf.is_empty() {
            self.sync_if_due();
            return;
        }
        let sync = cut || self.config.fsync == FsyncPolicy::Always;
        let result = self.write(&buf, sync);
        let error = result.as_ref().err().map(|e| (e.kind(), e.to_string()));
        if error.is_none() {
            // Counted before acknowledging, so lag (the cap) and stats never trail an ack.
            self.shared.appended(round.len() as u64, records as u64, buf.len() as u64);
        }
        for append in round {
            if error.is_none() {
                self.pending.extend(append.records);
            }
            let reply = match &error {
                None => Ok(()),
                Some((kind, message)) => Err(io::Error::new(*kind, message.clone())),
            };
            let _ = append.done.send(reply);
        }
        if error.is_some() {
            return;
        }
        if records > 0 && self.pending_since.is_none() {
            self.pending_since = Some(Instant::now());
        }
        if cut {
            self.emit_cut((buf.len() - data_len) as u64);
        } else {
            self.sync_if_due();
        }
    }

    /// Whether the batch under construction must end with this round.
    fn cut_due(&self, records: usize, bytes: u64, force: bool) -> bool {
        let pending_records = self.pending.len() + records;
        let pending_bytes = self.len - self.batch_start + bytes;
        if pending_records == 0 && pending_bytes == 0 {
            return false;
        }
        let aged = self.pending_since.is_some_and(|t| t.elapsed() >= self.config.batch_interval());
        force
            || aged
            || pending_records >= self.config.batch_rows.max(1)
            || pending_bytes >= self.config.batch_bytes
            || self.len + bytes >= self.config.segment_bytes
    }

    /// Appends `buf` to the segment; on failure the segment is cut back so no partial frame
    /// stays in the middle of the log.
    fn write(&mut self, buf: &[u8], sync: bool) -> io::Result<()> {
        let result = self
            .zero_ahead(self.len + buf.len() as u64)
            .and_then(|()| self.file.write_all(buf))
            .and_then(|()| if sync { self.sync() } else { Ok(()) });
        match result {
            Ok(()) => {
                self.len += buf.len() as u64;
                self.dirty = !sync;
                Ok(())
            }
            Err(e) => {
                tracing::error!(segment = self.segment, error = %e, "write-ahead log write failed");
                let _ = self.file.set_len(self.len);
                let _ = self.file.seek(SeekFrom::Start(self.len));
                self.zeroed_to = self.len;
                Err(e)
            }
        }
    }

    /// Writes zeros past the file's end, [`ZERO_AHEAD`] at a time, until `end` is covered.
    /// They reach the disk with the round's own sync; recovery reads them as the log's end.
    fn zero_ahead(&mut self, end: u64) -> io::Result<()> {
        while end > self.zeroed_to {
            self.file.write_all_at(&ZEROS, self.zeroed_to)?;
            self.zeroed_to += ZERO_AHEAD as u64;
        }
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        self.file.sync_data()?;
        self.last_sync = Instant::now();
        self.dirty = false;
        self.shared.fsyncs.fetch_add(1, Relaxed);
        metrics::counter!("numu_ingest_log_fsyncs_total").increment(1);
        Ok(())
    }

    fn sync_if_due(&mut self) {
        let due = self.config.fsync == FsyncPolicy::Interval
            && self.last_sync.elapsed() >= self.config.fsync_interval();
        if self.dirty && due {
            self.sync_if_dirty();
        }
    }

    fn sync_if_dirty(&mut self) {
        if self.dirty {
            if let Err(e) = self.sync() {
                tracing::error!(error = %e, "write-ahead log sync failed");
            }
        }
    }

    /// The cut frame of `cut_len` bytes has just been written and synced: hand the batch on,
    /// and start a new segment when this one is full.
    fn emit_cut(&mut self, cut_len: u64) {
        let records = std::mem::take(&mut self.pending);
        let (segment, first, end) = (self.segment, self.batch_start, self.len);
        self.batch_start = self.len;
        self.pending_since = None;
        // Rotate before handing the batch on: the batcher deletes a closed segment once the
        // batch is in, so it must never be told that of the segment still being written.
        let closes_segment = self.len >= self.config.segment_bytes
            && match self.rotate() {
                Ok(()) => true,
                Err(e) => {
                    tracing::error!(error = %e, "could not start a new log segment; retrying at the next cut");
                    false
                }
            };
        let batch = CutBatch {
            segment,
            first,
            cut: end - cut_len,
            end,
            count: records.len() as u64,
            records: Some(records),
            closes_segment,
            replayed: false,
        };
        let _ = self.batches.send(batch);
    }

    fn rotate(&mut self) -> io::Result<()> {
        let next = self.segment + 1;
        let mut file = segment::create(&self.dir, next)?;
        file.seek(SeekFrom::End(0))?;
        // The closed segment keeps its content only: its size is what deleting it frees.
        if let Err(e) = self.file.set_len(self.len) {
            tracing::warn!(segment = self.segment, error = %e, "could not drop a closed log segment's zeros");
        }
        self.file = file;
        self.segment = next;
        self.len = segment::HEADER_LEN;
        self.zeroed_to = self.len;
        self.batch_start = self.len;
        self.shared.segment_created();
        Ok(())
    }
}

/// How long the writer thread may take to stop before shutdown goes on without it.
pub(crate) const STOP_WAIT: Duration = Duration::from_secs(30);
