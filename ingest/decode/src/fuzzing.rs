//! Entry points for fuzzing: each feeds arbitrary bytes to one decoder (and validation,
//! which is pure too) and checks its invariants. The cargo-fuzz targets in `ingest/fuzz`
//! (`make fuzz-ci`, seeds in `ingest/fuzz/corpus/`) and the stable-Rust randomized test
//! `tests/fuzz.rs` call these same functions.

use numu_schemas::EventType;

use crate::compact::{decode_compact, decode_pixel};
use crate::decode::{gunzip, utf8, Encoding};
use crate::segment::{decode_batch, decode_message};
use crate::validate::validate;

/// Size caps used while fuzzing (small, so limits are actually reached).
pub const MAX_EVENT: usize = 4096;
pub const MAX_BODY: usize = 64 * 1024;

/// A single Segment message, as `/v1/track` decodes it.
pub fn segment_message(data: &[u8]) {
    let Ok(text) = utf8(data) else { return };
    for kind in [EventType::Track, EventType::Identify, EventType::Alias] {
        if let Ok(message) = decode_message(text, kind) {
            assert_eq!(message.kind, Some(kind));
            let _ = validate(crate::Parsed { message, hints: Default::default() }, true);
        }
    }
}

/// A `/v1/batch` body.
pub fn segment_batch(data: &[u8]) {
    let Ok(text) = utf8(data) else { return };
    if let Ok(batch) = decode_batch(text, MAX_EVENT) {
        for (position, event) in batch.events.into_iter().enumerate() {
            assert_eq!(event.index, position);
            assert!(text.contains(event.raw), "raw text is a slice of the body");
            if let Ok(parsed) = event.parsed {
                assert!(event.raw.len() <= MAX_EVENT);
                let _ = validate(parsed, true);
            }
        }
    }
}

/// A `/e` body.
pub fn compact_body(data: &[u8]) {
    let Ok(text) = utf8(data) else { return };
    if let Ok(events) = decode_compact(text, MAX_EVENT) {
        for event in events {
            if let Ok(parsed) = event.parsed {
                assert!(parsed.message.kind.is_some());
                let _ = validate(parsed, false);
            }
        }
    }
}

/// A `/p.gif` query string (any bytes: the query is not guaranteed UTF-8 text).
pub fn pixel_query(data: &[u8]) {
    let query = String::from_utf8_lossy(data);
    let (_, parsed) = decode_pixel(&query);
    if let Ok(parsed) = parsed {
        let _ = validate(parsed, false);
    }
}

/// A possibly-gzipped body, then the batch decoder on what comes out.
pub fn gzip_body(data: &[u8]) {
    for encoding in [Encoding::Identity, Encoding::Gzip] {
        if let Ok(body) = gunzip(data, encoding, MAX_BODY) {
            assert!(body.len() <= MAX_BODY.max(data.len()));
            segment_batch(&body);
        }
    }
}
