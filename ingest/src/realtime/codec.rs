//! The serialized form of a [`WindowSummary`] exchanged between collectors: postcard, with
//! a format number, each sketch as the `hyperloglogplus` crate serializes it.
//!
//! Decoding checks what could make merging misbehave: the format, the precision, that
//! every sketch starts with the header a sketch of that precision has (so no register
//! count is taken from the wire), and that exact sets are bounded. The caller still merges
//! peers' data under `catch_unwind` (see `http::peers`).

use serde::{Deserialize, Serialize};

use super::summary::{MinuteCount, VisitorWindow, WindowSummary};
use super::topk::TopSummary;
use super::visitors::{new_sketch, Sketch, VisitorSet, EXACT_UNION_LIMIT};

/// Bumped whenever the layout below changes.
pub const FORMAT: u16 = 1;
/// The media type of serialized summaries.
pub const CONTENT_TYPE: &str = "application/x-numu-realtime-summary";

#[derive(Serialize, Deserialize)]
enum WireSet {
    Exact(Vec<u64>),
    Sketch(Vec<u8>),
}

#[derive(Serialize, Deserialize)]
struct Wire {
    format: u16,
    project_id: u64,
    precision: u8,
    window_minutes: u16,
    minute: i64,
    collectors: u32,
    visitors: Vec<(u16, WireSet)>,
    per_minute: Vec<MinuteCount>,
    pages: TopSummary,
    sources: TopSummary,
    events: TopSummary,
}

/// Why a peer's bytes were refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("not a summary: {0}")]
    Malformed(String),
    #[error("summary format {0}, expected {FORMAT}")]
    Format(u16),
    #[error("precision {0}, expected {1}")]
    Precision(u8, u8),
    #[error("a sketch does not match the precision")]
    SketchHeader,
    #[error("an exact set is too long")]
    TooLong,
}

fn encode_set(set: &VisitorSet) -> WireSet {
    match set {
        VisitorSet::Exact(hashes) => WireSet::Exact(hashes.clone()),
        VisitorSet::Sketch(sketch) => {
            WireSet::Sketch(postcard::to_allocvec(sketch.as_ref()).unwrap_or_default())
        }
    }
}

/// Serializes a summary.
pub fn encode(summary: &WindowSummary) -> Vec<u8> {
    let wire = Wire {
        format: FORMAT,
        project_id: summary.project_id,
        precision: summary.precision,
        window_minutes: summary.window_minutes,
        minute: summary.minute,
        collectors: summary.collectors,
        visitors: summary.visitors.iter().map(|w| (w.minutes, encode_set(&w.set))).collect(),
        per_minute: summary.per_minute.clone(),
        pages: summary.pages.clone(),
        sources: summary.sources.clone(),
        events: summary.events.clone(),
    };
    postcard::to_allocvec(&wire).unwrap_or_default()
}

/// The bytes every serialized sketch of `precision` starts with: the precision and the
/// register counts derived from it.
fn sketch_header(precision: u8) -> Vec<u8> {
    let empty = postcard::to_allocvec(&new_sketch(precision)).unwrap_or_default();
    let rest =
        postcard::take_from_bytes::<(u8, (usize, usize, usize))>(&empty).map_or(0, |(_, rest)| rest.len());
    empty[..empty.len() - rest].to_vec()
}

fn decode_set(wire: WireSet, header: &[u8]) -> Result<VisitorSet, DecodeError> {
    match wire {
        WireSet::Exact(mut hashes) => {
            if hashes.len() > EXACT_UNION_LIMIT {
                return Err(DecodeError::TooLong);
            }
            hashes.sort_unstable();
            hashes.dedup();
            Ok(VisitorSet::Exact(hashes))
        }
        WireSet::Sketch(bytes) => {
            if !bytes.starts_with(header) {
                return Err(DecodeError::SketchHeader);
            }
            let sketch: Sketch =
                postcard::from_bytes(&bytes).map_err(|e| DecodeError::Malformed(e.to_string()))?;
            Ok(VisitorSet::Sketch(Box::new(sketch)))
        }
    }
}

/// Deserializes a peer's summary, which must use `precision`.
pub fn decode(bytes: &[u8], precision: u8) -> Result<WindowSummary, DecodeError> {
    let wire: Wire = postcard::from_bytes(bytes).map_err(|e| DecodeError::Malformed(e.to_string()))?;
    if wire.format != FORMAT {
        return Err(DecodeError::Format(wire.format));
    }
    if wire.precision != precision {
        return Err(DecodeError::Precision(wire.precision, precision));
    }
    let header = sketch_header(precision);
    let visitors = wire
        .visitors
        .into_iter()
        .map(|(minutes, set)| Ok(VisitorWindow { minutes, set: decode_set(set, &header)? }))
        .collect::<Result<Vec<_>, DecodeError>>()?;
    Ok(WindowSummary {
        project_id: wire.project_id,
        precision,
        window_minutes: wire.window_minutes,
        minute: wire.minute,
        collectors: wire.collectors,
        visitors,
        per_minute: wire.per_minute,
        pages: wire.pages,
        sources: wire.sources,
        events: wire.events,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realtime::config::Config;
    use crate::realtime::visitors::visitor_hash;
    use crate::realtime::window::{observation, summarize, ProjectWindow, PAGEVIEW};
    use numu_schemas::EventRow;

    fn summary(visitors: u32, precision: u8) -> WindowSummary {
        let config = Config { precision, exact_threshold: 16, ..Config::default() };
        let mut window = ProjectWindow::default();
        for i in 0..visitors {
            let row =
                EventRow { event: PAGEVIEW.into(), distinct_id: format!("v{i}"), ..EventRow::default() };
            window.observe(&observation(&row), 1000, &config);
        }
        summarize(3, &window.extract(1000, &config), 1000, &config)
    }

    #[test]
    fn summaries_round_trip() {
        for visitors in [5, 5000] {
            let original = summary(visitors, 14);
            let decoded = decode(&encode(&original), 14).unwrap();
            assert_eq!(decoded.per_minute, original.per_minute);
            assert_eq!(decoded.pages, original.pages);
            assert_eq!(decoded.snapshot(0), original.snapshot(0));
        }
    }

    #[test]
    fn foreign_bytes_are_refused() {
        assert!(matches!(decode(b"nonsense", 14), Err(DecodeError::Malformed(_) | DecodeError::Format(_))));
        assert_eq!(decode(&encode(&summary(3, 12)), 14).unwrap_err(), DecodeError::Precision(12, 14));
        // A sketch claiming another precision inside a summary of the right one.
        let mut forged = summary(3, 14);
        let mut sketch = new_sketch(12);
        hyperloglogplus::HyperLogLog::insert(&mut sketch, &visitor_hash("x"));
        forged.visitors[0].set = VisitorSet::Sketch(Box::new(sketch));
        assert_eq!(decode(&encode(&forged), 14).unwrap_err(), DecodeError::SketchHeader);
    }
}
