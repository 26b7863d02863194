//! The collector's decoders and validation: pure functions from bytes to decoded events,
//! free of actix, Arrow and the warehouse, so the cargo-fuzz targets (`ingest/fuzz`) build
//! in about a minute and bad input can be shown to end in a [`DecodeError`], never a panic.
//!
//! - [`decode`] — body level: gzip (header or magic bytes, decompressed-size cap), UTF-8,
//!   serde errors that name the field; the [`Incoming`] / [`Parsed`] types.
//! - [`segment`] — the Segment HTTP Tracking API (one message, `/v1/batch`).
//! - [`compact`] — the snippet's compact format (`/e`) and the pixel's query (`/p.gif`).
//! - [`validate`] — the Segment spec's per-type rules, id lengths, times.
//! - [`fuzzing`] — one entry point per fuzz target, shared with the stable test
//!   `tests/fuzz.rs`.
//!
//! The collector's front half (`numu_ingest::front`) re-exports these modules and maps a
//! [`DecodeError`] to its HTTP status.

pub mod compact;
pub mod decode;
pub mod error;
pub mod fuzzing;
pub mod segment;
pub mod validate;

pub use decode::{Hints, Incoming, Parsed};
pub use error::DecodeError;
