//! What the collector's front half hands to its back half: records ready for the warehouse,
//! appended durably to the write-ahead log before the client is acknowledged.

use numu_schemas::EventRow;
use serde::{Deserialize, Serialize};

/// A link between two ids of one person, from `identify` (anonymous id ↔ user id) or
/// `alias` (previous id ↔ new id). Row of `identity_links`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IdentityLink {
    pub project_id: u64,
    pub distinct_id: String,
    pub linked_id: String,
    /// `identify` or `alias`.
    pub kind: String,
    pub timestamp: i64,
    pub message_id: String,
}

/// `$set` / `$set_once` person properties. Row of `person_property_updates`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PersonUpdate {
    pub project_id: u64,
    pub distinct_id: String,
    pub timestamp: i64,
    pub set_properties: Vec<(String, String)>,
    pub set_once_properties: Vec<(String, String)>,
    pub message_id: String,
}

/// A refused event or payload, kept with its raw bytes and the reason. Row of `dead_letters`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// 0 when the key could not be resolved.
    pub project_id: u64,
    pub received_at: i64,
    /// The endpoint that received it, e.g. `/v1/batch`.
    pub endpoint: String,
    /// A stable machine-readable reason, e.g. `missing_field`, `invalid_json`.
    pub reason: String,
    /// The human-readable message sent to the client.
    pub detail: String,
    /// Index inside a batch, or -1 for a whole payload.
    pub event_index: i32,
    /// The payload as received (after decompression).
    pub raw: Vec<u8>,
}

/// One unit appended to the write-ahead log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Record {
    Event(Box<EventRow>),
    Link(IdentityLink),
    PersonUpdate(PersonUpdate),
    DeadLetter(DeadLetter),
}

/// Why records could not be accepted.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The log is at its configured cap (the warehouse is behind or down): answer 503 with
    /// `Retry-After`.
    #[error("the collector's log is full; retry after {retry_after_secs} s")]
    Full { retry_after_secs: u64 },
    #[error("write-ahead log: {0}")]
    Io(#[from] std::io::Error),
    #[error("collector is shutting down")]
    ShuttingDown,
}

/// The durable destination of records. `append` returns only once every record is durable
/// (per the configured fsync policy): that is when the client may be acknowledged.
#[async_trait::async_trait]
pub trait Sink: Send + Sync + 'static {
    async fn append(&self, records: Vec<Record>) -> Result<(), SinkError>;
}
