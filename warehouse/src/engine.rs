//! The interface both engines implement. Analyses and services see only this.

use std::pin::Pin;

use arrow_array::RecordBatch;
use futures::Stream;

use crate::cluster::ClusterLayout;
use crate::error::Result;
use crate::sql::{PlaceholderStyle, Sql};

/// Record batches as the engine produces them; the engine's connection stays busy until
/// the stream is read to its end or dropped.
pub type BatchStream = Pin<Box<dyn Stream<Item = Result<RecordBatch>> + Send>>;

/// Which engine serves a [`crate::Warehouse`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineKind {
    Embedded,
    Remote,
}

/// One ClickHouse engine bound to one database.
#[async_trait::async_trait]
pub trait Engine: Send + Sync + 'static {
    fn kind(&self) -> EngineKind;

    /// The placeholder style this engine binds server-side.
    fn placeholder_style(&self) -> PlaceholderStyle;

    /// The cluster DDL is spread over (`ON CLUSTER`), when the engine serves a cluster.
    fn cluster(&self) -> Option<&ClusterLayout> {
        None
    }

    /// Creates the engine's database when missing (the embedded engine does so at open).
    async fn create_database(&self) -> Result<()> {
        Ok(())
    }

    /// Runs a query and streams its result batches.
    async fn query(&self, sql: &Sql) -> Result<BatchStream>;

    /// Runs a statement that returns no rows (DDL, INSERT … SELECT, ALTER).
    async fn execute(&self, sql: &Sql) -> Result<()>;

    /// Inserts a batch into `table`, matching columns by name; returns rows written.
    async fn insert(&self, table: &str, batch: RecordBatch) -> Result<u64>;

    /// Inserts a batch with an idempotency token: a retry with the same token is stored once.
    async fn insert_deduplicated(&self, table: &str, batch: RecordBatch, token: &str) -> Result<u64>;

    /// The engine's version string (`SELECT version()`).
    async fn version(&self) -> Result<String>;
}
