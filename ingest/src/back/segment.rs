//! The on-disk format of the log: segment files of checksummed frames.
//!
//! A segment is `NNNNNNNNNNNNNNNNNNNN.wal`: a 16-byte header (magic + segment id), then
//! frames `[len u32 LE][crc32c u32 LE][kind u8][body]`, where `len` counts kind + body and
//! the checksum covers them. A `Data` frame holds one `append` call's records (postcard);
//! a `Cut` frame ends a batch, so batch boundaries are part of the log and a replay cuts
//! exactly where the first run did (same rows, same idempotency tokens).

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::record::Record;

use super::Error;

pub(crate) const MAGIC: &[u8; 8] = b"NUMUWAL\x01";
pub(crate) const HEADER_LEN: u64 = 16;
pub(crate) const FRAME_HEADER_LEN: usize = 8;
/// Larger lengths can only be garbage (a torn or corrupt header).
const MAX_FRAME_LEN: u32 = 1 << 30;

pub(crate) const KIND_DATA: u8 = 1;
pub(crate) const KIND_CUT: u8 = 2;

/// Appends a data frame holding `records` to `out`.
pub(crate) fn encode_data(records: &[Record], out: &mut Vec<u8>) -> Result<(), Error> {
    let start = out.len();
    out.extend_from_slice(&[0u8; FRAME_HEADER_LEN]);
    out.push(KIND_DATA);
    let mut body = postcard::to_extend(records, std::mem::take(out))?;
    seal(&mut body, start);
    *out = body;
    Ok(())
}

/// Appends a cut frame to `out`.
pub(crate) fn encode_cut(out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0u8; FRAME_HEADER_LEN]);
    out.push(KIND_CUT);
    seal(out, start);
}

/// Fills in the length and checksum of the frame starting at `start`.
fn seal(buf: &mut [u8], start: usize) {
    let payload = &buf[start + FRAME_HEADER_LEN..];
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    let crc = crc32c::crc32c(payload);
    buf[start..start + 4].copy_from_slice(&len.to_le_bytes());
    buf[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

pub(crate) fn decode_data(body: &[u8]) -> Result<Vec<Record>, Error> {
    Ok(postcard::from_bytes(body)?)
}

pub(crate) fn path_of(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("{id:020}.wal"))
}

/// Segment ids present in `dir`, ascending.
pub(crate) fn list(dir: &Path) -> io::Result<Vec<u64>> {
    let mut ids = Vec::new();
    for entry in fs::read_dir(dir)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if let Some(id) = name.strip_suffix(".wal").and_then(|s| s.parse::<u64>().ok()) {
            ids.push(id);
        }
    }
    ids.sort_unstable();
    Ok(ids)
}

/// Creates segment `id` with its header, synced together with the directory entry.
pub(crate) fn create(dir: &Path, id: u64) -> io::Result<File> {
    let mut file = OpenOptions::new().create_new(true).read(true).write(true).open(path_of(dir, id))?;
    let mut header = [0u8; HEADER_LEN as usize];
    header[..8].copy_from_slice(MAGIC);
    header[8..].copy_from_slice(&id.to_le_bytes());
    file.write_all(&header)?;
    file.sync_all()?;
    sync_dir(dir)?;
    Ok(file)
}

/// Makes creations, renames and removals in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// One valid frame found by a scan.
#[derive(Debug)]
pub(crate) struct Frame {
    pub offset: u64,
    /// Offset just past this frame.
    pub end: u64,
    pub kind: u8,
    /// Kind byte followed by the body.
    payload: Vec<u8>,
}

impl Frame {
    pub fn body(&self) -> &[u8] {
        &self.payload[1..]
    }
}

/// Result of reading a segment: its valid frames and where valid data stops.
#[derive(Debug)]
pub(crate) struct Scan {
    pub frames: Vec<Frame>,
    pub valid_len: u64,
    pub file_len: u64,
}

/// Reads every valid frame of segment `id` from `from` (an offset at a frame boundary) up to
/// `until` (exclusive), stopping at the first torn or corrupt frame.
pub(crate) fn scan(dir: &Path, id: u64, from: u64, until: Option<u64>) -> Result<Scan, Error> {
    let mut file = File::open(path_of(dir, id))?;
    let file_len = file.metadata()?.len();
    check_header(&mut file, id)?;
    let from = from.max(HEADER_LEN);
    file.seek(SeekFrom::Start(from))?;
    let limit = until.unwrap_or(file_len).min(file_len);
    let mut reader = io::BufReader::with_capacity(1 << 20, file.take(limit - from.min(limit)));
    let (mut frames, mut offset) = (Vec::new(), from);
    while offset < limit {
        match read_frame(&mut reader, offset, limit)? {
            Some(frame) => {
                offset = frame.end;
                frames.push(frame);
            }
            None => break,
        }
    }
    Ok(Scan { frames, valid_len: offset, file_len })
}

fn check_header(file: &mut File, id: u64) -> Result<(), Error> {
    let mut header = [0u8; HEADER_LEN as usize];
    file.read_exact(&mut header)
        .map_err(|e| Error::Corrupt(format!("segment {id}: header unreadable ({e})")))?;
    let stored = u64::from_le_bytes(header[8..].try_into().unwrap_or_default());
    if &header[..8] != MAGIC || stored != id {
        return Err(Error::Corrupt(format!("segment {id}: bad header")));
    }
    Ok(())
}

/// The frame at `offset`, or `None` when what is there is torn or fails its checksum.
fn read_frame(reader: &mut impl Read, offset: u64, limit: u64) -> Result<Option<Frame>, Error> {
    let mut header = [0u8; FRAME_HEADER_LEN];
    if !read_full(reader, &mut header)? {
        return Ok(None);
    }
    let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
    let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    let end = offset + FRAME_HEADER_LEN as u64 + u64::from(len);
    if len == 0 || len > MAX_FRAME_LEN || end > limit {
        return Ok(None);
    }
    let mut payload = vec![0u8; len as usize];
    if !read_full(reader, &mut payload)? || crc32c::crc32c(&payload) != crc {
        return Ok(None);
    }
    let kind = payload[0];
    if kind != KIND_DATA && kind != KIND_CUT {
        return Ok(None);
    }
    Ok(Some(Frame { offset, end, kind, payload }))
}

/// `read_exact` that reports a short read as `false` instead of an error.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<bool> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => return Ok(false),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Whether segment `id` holds only zeros from `from` to its end: the space the writer
/// fills ahead of the log, not a torn write.
pub(crate) fn zeros_from(dir: &Path, id: u64, from: u64) -> io::Result<bool> {
    let mut file = File::open(path_of(dir, id))?;
    file.seek(SeekFrom::Start(from))?;
    let mut reader = io::BufReader::with_capacity(1 << 16, file);
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            return Ok(true);
        }
        if chunk.iter().any(|&b| b != 0) {
            return Ok(false);
        }
        let n = chunk.len();
        reader.consume(n);
    }
}

/// Cuts segment `id` back to `len` bytes (dropping a torn or corrupt tail), durably.
pub(crate) fn truncate(dir: &Path, id: u64, len: u64) -> io::Result<()> {
    let file = OpenOptions::new().write(true).open(path_of(dir, id))?;
    file.set_len(len)?;
    file.sync_all()
}

/// The records of the data frames of segment `id` in `[from, until)`.
pub(crate) fn read_records(dir: &Path, id: u64, from: u64, until: u64) -> Result<Vec<Record>, Error> {
    let scan = scan(dir, id, from, Some(until))?;
    if scan.valid_len < until {
        return Err(Error::Corrupt(format!(
            "segment {id}: range {from}..{until} unreadable past {}",
            scan.valid_len
        )));
    }
    let mut records = Vec::new();
    for frame in scan.frames.iter().filter(|f| f.kind == KIND_DATA) {
        records.extend(decode_data(frame.body())?);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(n: usize) -> Vec<Record> {
        (0..n).map(|_| Record::Event(Box::default())).collect()
    }

    #[test]
    fn frames_round_trip_and_a_torn_tail_stops_the_scan() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = create(dir.path(), 3).unwrap();
        let mut buf = Vec::new();
        encode_data(&records(2), &mut buf).unwrap();
        encode_cut(&mut buf);
        encode_data(&records(5), &mut buf).unwrap();
        let whole = buf.len() as u64;
        buf.extend_from_slice(&buf.clone()[..7]); // half a frame
        file.write_all(&buf).unwrap();
        let scan = scan(dir.path(), 3, 0, None).unwrap();
        let kinds: Vec<u8> = scan.frames.iter().map(|f| f.kind).collect();
        assert_eq!(kinds, vec![KIND_DATA, KIND_CUT, KIND_DATA]);
        assert_eq!(scan.valid_len, HEADER_LEN + whole);
        assert_eq!(decode_data(scan.frames[2].body()).unwrap().len(), 5);
        assert_eq!(super::super::recover::record_count(scan.frames[2].body()), 5);
        let range = read_records(dir.path(), 3, HEADER_LEN, scan.frames[1].offset).unwrap();
        assert_eq!(range.len(), 2);
        assert_eq!(list(dir.path()).unwrap(), vec![3]);
    }

    #[test]
    fn a_flipped_bit_fails_the_checksum() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = create(dir.path(), 1).unwrap();
        let mut buf = Vec::new();
        encode_data(&records(1), &mut buf).unwrap();
        let n = buf.len();
        buf[n - 1] ^= 1;
        file.write_all(&buf).unwrap();
        let scan = scan(dir.path(), 1, 0, None).unwrap();
        assert!(scan.frames.is_empty());
        assert_eq!(scan.valid_len, HEADER_LEN);
    }
}
