//! Start-up: read the log against the checkpoint. Torn or corrupt tails are cut off (never
//! replayed), fully checkpointed segments are deleted, batches cut but not checkpointed are
//! queued for replay with their original boundaries, and the last segment's uncut records
//! become the writer's batch under construction.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

use super::checkpoint::Position;
use super::segment::{self, HEADER_LEN, KIND_CUT, KIND_DATA};
use super::wal::Tail;
use super::{CutBatch, Error};

/// What the log held at start.
pub(crate) struct Recovered {
    pub ready: Vec<CutBatch>,
    pub tail: Tail,
    pub log_bytes: u64,
    pub segments: u64,
}

pub(crate) fn recover(dir: &Path, checkpoint: Position) -> Result<Recovered, Error> {
    let mut ids = segment::list(dir)?;
    for &id in ids.iter().filter(|&&id| id < checkpoint.segment) {
        remove(dir, id)?;
    }
    ids.retain(|&id| id >= checkpoint.segment);
    if let Some(&last) = ids.last() {
        let len = std::fs::metadata(segment::path_of(dir, last))?.len();
        if len < HEADER_LEN {
            // A crash while a new segment was being created, before its header was synced:
            // it holds nothing.
            tracing::warn!(segment = last, "removing a log segment left half-created by a crash");
            remove(dir, last)?;
            ids.pop();
        }
    }
    let mut ready = Vec::new();
    let mut tail = None;
    let last = ids.last().copied();
    for &id in &ids {
        let is_last = Some(id) == last;
        let scanned = read_segment(dir, id, checkpoint, is_last)?;
        let sealed_done = !is_last && scanned.ready.is_empty();
        ready.extend(scanned.ready);
        if sealed_done {
            // Every batch of this closed segment is in the warehouse: a crash came between
            // the checkpoint and the deletion.
            remove(dir, id)?;
        }
        if is_last {
            tail = Some(scanned.tail);
        }
    }
    let tail = match tail {
        Some(tail) => tail,
        None => fresh_tail(dir, checkpoint.segment.max(last.unwrap_or(0)) + 1)?,
    };
    if !ready.is_empty() || !tail.pending.is_empty() {
        tracing::info!(batches = ready.len(), uncut = tail.pending.len(), from = %checkpoint, "replaying the write-ahead log");
    }
    let (log_bytes, segments) = disk_usage(dir)?;
    Ok(Recovered { ready, tail, log_bytes, segments })
}

fn fresh_tail(dir: &Path, id: u64) -> Result<Tail, Error> {
    let mut file = segment::create(dir, id)?;
    file.seek(SeekFrom::End(0))?;
    Ok(Tail { segment: id, file, len: HEADER_LEN, batch_start: HEADER_LEN, pending: Vec::new() })
}

struct Scanned {
    ready: Vec<CutBatch>,
    tail: Tail,
}

/// Reads one segment: its batches after the checkpoint, and (last segment) its uncut tail.
fn read_segment(dir: &Path, id: u64, checkpoint: Position, is_last: bool) -> Result<Scanned, Error> {
    let scan = segment::scan(dir, id, HEADER_LEN, None)?;
    let zero_tail = scan.valid_len < scan.file_len && segment::zeros_from(dir, id, scan.valid_len)?;
    if zero_tail && !is_last {
        // The writer's zeros ahead (never data) left by a crash before the closed segment
        // was cut to size.
        segment::truncate(dir, id, scan.valid_len)?;
    } else if scan.valid_len < scan.file_len && !zero_tail {
        let dropped = scan.file_len - scan.valid_len;
        if is_last {
            tracing::warn!(
                segment = id,
                bytes = dropped,
                "cutting off a torn log tail (writes never acknowledged)"
            );
        } else {
            tracing::error!(
                segment = id,
                bytes = dropped,
                "corrupt frame in a closed log segment; dropping the rest of it"
            );
        }
        metrics::counter!("numu_ingest_log_truncated_bytes_total").increment(dropped);
        segment::truncate(dir, id, scan.valid_len)?;
    }
    let (mut ready, mut start, mut count, mut pending) = (Vec::new(), HEADER_LEN, 0u64, Vec::new());
    for frame in &scan.frames {
        if frame.kind == KIND_DATA {
            count += record_count(frame.body());
            if is_last {
                pending.push(frame);
            }
            continue;
        }
        debug_assert_eq!(frame.kind, KIND_CUT);
        let batch = CutBatch::on_disk(id, start, frame.offset, frame.end, count);
        if (Position { segment: id, offset: frame.end }) > checkpoint {
            ready.push(batch);
        }
        (start, count) = (frame.end, 0);
        pending.clear();
    }
    let mut file = OpenOptions::new().read(true).write(true).open(segment::path_of(dir, id))?;
    let mut len = scan.valid_len;
    if !is_last && start < len {
        // A closed segment must end with a cut (a corrupt frame removed it): cut here so
        // every later replay sees the same boundary.
        let mut cut = Vec::new();
        segment::encode_cut(&mut cut);
        file.seek(SeekFrom::Start(len))?;
        file.write_all(&cut)?;
        file.sync_data()?;
        ready.push(CutBatch::on_disk(id, start, len, len + cut.len() as u64, count));
        len += cut.len() as u64;
    }
    if let Some(last) = ready.last_mut() {
        last.closes_segment = !is_last;
    }
    let mut records = Vec::new();
    for frame in pending {
        records.extend(segment::decode_data(frame.body())?);
    }
    file.seek(SeekFrom::Start(len))?;
    Ok(Scanned { ready, tail: Tail { segment: id, file, len, batch_start: start, pending: records } })
}

/// The number of records in a data frame body: postcard writes the length of the sequence
/// first as a varint, so counting needs no decoding.
pub(crate) fn record_count(body: &[u8]) -> u64 {
    let mut value = 0u64;
    for (i, byte) in body.iter().take(10).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            break;
        }
    }
    value
}

fn remove(dir: &Path, id: u64) -> Result<(), Error> {
    match std::fs::remove_file(segment::path_of(dir, id)) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Deletes segments `..=through` (all their batches are in the warehouse). Returns how many
/// and their bytes.
pub(crate) fn delete_through(dir: &Path, through: u64) -> Result<(u64, u64), Error> {
    let (mut count, mut bytes) = (0, 0);
    for id in segment::list(dir)?.into_iter().filter(|&id| id <= through) {
        let path = segment::path_of(dir, id);
        bytes += std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        remove(dir, id)?;
        count += 1;
    }
    if count > 0 {
        segment::sync_dir(dir)?;
    }
    Ok((count, bytes))
}

fn disk_usage(dir: &Path) -> Result<(u64, u64), Error> {
    let ids = segment::list(dir)?;
    let mut bytes = 0;
    for &id in &ids {
        bytes += File::open(segment::path_of(dir, id))?.metadata()?.len();
    }
    Ok((bytes, ids.len() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_half_created_last_segment_is_removed_and_the_previous_one_continues() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = segment::create(dir.path(), 1).unwrap();
        let mut buf = Vec::new();
        segment::encode_data(&[crate::Record::Event(Box::default())], &mut buf).unwrap();
        segment::encode_cut(&mut buf);
        segment::encode_data(&[crate::Record::Event(Box::default())], &mut buf).unwrap();
        file.write_all(&buf).unwrap();
        std::fs::write(segment::path_of(dir.path(), 2), b"NUMU").unwrap();
        let recovered = recover(dir.path(), Position::default()).unwrap();
        assert_eq!(segment::list(dir.path()).unwrap(), vec![1]);
        assert_eq!(recovered.ready.len(), 1);
        assert_eq!(recovered.ready[0].count, 1);
        assert_eq!((recovered.tail.segment, recovered.tail.pending.len()), (1, 1));
        assert_eq!(recovered.tail.len, HEADER_LEN + buf.len() as u64);
    }

    /// Segment `id` holding a cut batch of one event, then one uncut event, then `tail`.
    fn segment_with_tail(dir: &Path, id: u64, tail: &[u8]) -> u64 {
        let mut file = segment::create(dir, id).unwrap();
        let mut buf = Vec::new();
        segment::encode_data(&[crate::Record::Event(Box::default())], &mut buf).unwrap();
        segment::encode_cut(&mut buf);
        segment::encode_data(&[crate::Record::Event(Box::default())], &mut buf).unwrap();
        buf.extend_from_slice(tail);
        file.write_all(&buf).unwrap();
        HEADER_LEN + (buf.len() - tail.len()) as u64
    }

    fn file_len(dir: &Path, id: u64) -> u64 {
        std::fs::metadata(segment::path_of(dir, id)).unwrap().len()
    }

    #[test]
    fn zeros_written_ahead_are_the_logs_end_not_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let end = segment_with_tail(dir.path(), 1, &[0u8; 5000]);
        let recovered = recover(dir.path(), Position::default()).unwrap();
        // The last segment keeps its zeros for the writer to fill.
        assert_eq!(file_len(dir.path(), 1), end + 5000);
        assert_eq!((recovered.tail.len, recovered.tail.pending.len()), (end, 1));
        assert_eq!(recovered.ready.len(), 1);
    }

    #[test]
    fn a_tail_with_anything_but_zeros_is_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let mut tail = vec![0u8; 5000];
        tail[4000] = 7; // a torn write's later sector reached the disk, its header did not
        let end = segment_with_tail(dir.path(), 1, &tail);
        let recovered = recover(dir.path(), Position::default()).unwrap();
        assert_eq!(file_len(dir.path(), 1), end);
        assert_eq!((recovered.tail.len, recovered.tail.pending.len()), (end, 1));
    }

    #[test]
    fn a_closed_segments_zeros_are_dropped_and_its_open_batch_cut() {
        let dir = tempfile::tempdir().unwrap();
        let end = segment_with_tail(dir.path(), 1, &[0u8; 5000]);
        segment_with_tail(dir.path(), 2, &[]);
        let recovered = recover(dir.path(), Position::default()).unwrap();
        let mut cut = Vec::new();
        segment::encode_cut(&mut cut);
        assert_eq!(file_len(dir.path(), 1), end + cut.len() as u64);
        let counts: Vec<(u64, u64)> = recovered.ready.iter().map(|b| (b.segment, b.count)).collect();
        assert_eq!(counts, vec![(1, 1), (1, 1), (2, 1)]);
        assert!(recovered.ready[1].closes_segment);
    }
}
