//! The collector: decode → validate → enrich → write-ahead log → acknowledge → Arrow
//! batches → warehouse (DESIGN.md §3). `front` turns requests into [`Record`]s and hands
//! them to a [`Sink`]; `back` is the durable sink (log, batcher, warehouse writer).

pub mod back;
pub mod front;
pub mod realtime;
pub mod record;

pub use record::{DeadLetter, IdentityLink, PersonUpdate, Record, Sink, SinkError};
