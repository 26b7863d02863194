//! Numu's shared vocabulary: the event model, the warehouse migrations and the Arrow
//! schema of an event batch, all derived from one column list so they cannot drift.
//! The Arrow parts are behind the default `arrow` feature.

pub mod batch;
pub mod columns;
pub mod event;
pub mod json_schema;
pub mod migrations;

#[cfg(feature = "arrow")]
pub use batch::events_to_batch;
pub use batch::EventRow;
#[cfg(feature = "arrow")]
pub use columns::event_batch_schema;
pub use columns::{Column, ColumnType, EVENT_COLUMNS};
pub use event::{Context, EventType, Message};
pub use migrations::{Migration, MIGRATIONS};
