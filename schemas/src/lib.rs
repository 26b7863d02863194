//! Numu's shared vocabulary: the event model, the warehouse migrations and the Arrow
//! schema of an event batch, all derived from one column list so they cannot drift.

pub mod batch;
pub mod columns;
pub mod event;
pub mod json_schema;
pub mod migrations;

pub use batch::{events_to_batch, EventRow};
pub use columns::{event_batch_schema, Column, ColumnType, EVENT_COLUMNS};
pub use event::{Context, EventType, Message};
pub use migrations::{Migration, MIGRATIONS};
