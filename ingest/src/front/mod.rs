//! The collector's front half: HTTP endpoints, decoding, validation and enrichment.
//!
//! Requests become [`crate::Record`]s in [`pipeline::Pipeline::process`] and are handed to
//! a [`crate::Sink`]. The decoders ([`decode`], [`segment`], [`compact`]) and
//! [`validate`] are pure functions over bytes in their own crate, `numu-ingest-decode`
//! (free of actix, Arrow and the warehouse, so its fuzz targets build quickly); they are
//! re-exported here, and a [`numu_ingest_decode::DecodeError`] becomes
//! [`FrontError::Decode`].
//!
//! Choices worth knowing:
//! - Refused data is dead-lettered (raw payload + reason) when its project is known. A
//!   payload whose project cannot be known (no key, or the key inside an unreadable body)
//!   is dead-lettered under project 0 within `anonymous_dead_letters_per_minute`; beyond
//!   that, and for every credential failure (unknown, disabled or missing key, foreign
//!   origin), requests are only counted (`numu_ingest_not_dead_lettered_total`), so an
//!   unauthenticated flood cannot fill the log.
//! - A batch whose envelope decodes answers 200 with `accepted` and the `refused` indexes,
//!   even if every event was refused; a single-event endpoint answers the event's error.
//! - User agents: uap-core regexes behind a bounded cache (`enrich::ua`); referrers: a
//!   bundled host table (`enrich::referrer`); property schemas: a documented subset of
//!   JSON Schema (`schema`).

pub mod config;
pub mod enrich;
pub mod error;
pub mod http;
pub mod identity;
pub mod keys;
pub mod metrics;
pub mod pipeline;
pub mod schema;

pub use numu_ingest_decode::{compact, decode, segment, validate};

pub use config::Config;
pub use decode::{Hints, Incoming, Parsed};
pub use error::FrontError;
pub use http::{configure, FrontState};
pub use numu_ingest_decode::DecodeError;
pub use pipeline::{Outcome, Pipeline, Refusal, RequestMeta};
pub use schema::PropertySchemas;
