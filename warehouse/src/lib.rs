//! One interface over ClickHouse engines: SQL with bound parameters in, Arrow record
//! batches out; batches in by column name; migrations; health. Callers never learn which
//! engine served them.

pub mod cluster;
pub mod embedded;
mod engine;
mod error;
mod migrate;
mod params;
pub mod remote;
pub mod sql;
#[cfg(feature = "testing")]
pub mod testing;
pub mod utf8;

use std::sync::Arc;

use arrow_array::{Array, RecordBatch};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};

pub use embedded::{EmbeddedConfig, EmbeddedEngine};
pub use engine::{BatchStream, Engine, EngineKind};
pub use error::{Result, WarehouseError};
pub use migrate::MigrationReport;
pub use remote::{RemoteConfig, RemoteEngine};
pub use sql::{Ident, PlaceholderStyle, Sql, Value};

/// Which engine to use and how to reach it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WarehouseConfig {
    /// `embedded` (chDB in-process, the default) or `remote` (a ClickHouse server).
    pub engine: EngineChoice,
    /// The ClickHouse database holding Numu's tables.
    pub database: String,
    pub embedded: EmbeddedConfig,
    /// The ClickHouse server or cluster, when `engine = "remote"`.
    pub remote: RemoteConfig,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineChoice {
    #[default]
    Embedded,
    Remote,
}

impl Default for WarehouseConfig {
    fn default() -> Self {
        WarehouseConfig {
            engine: EngineChoice::Embedded,
            database: "numu".into(),
            embedded: EmbeddedConfig::default(),
            remote: RemoteConfig::default(),
        }
    }
}

/// Result of a readiness check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Health {
    pub engine: &'static str,
    pub version: String,
    pub pending_migrations: usize,
}

/// The warehouse as services see it.
#[derive(Clone)]
pub struct Warehouse {
    engine: Arc<dyn Engine>,
}

impl std::fmt::Debug for Warehouse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Warehouse").field("engine", &self.engine.kind()).finish()
    }
}

impl Warehouse {
    /// Opens the configured engine.
    pub async fn open(config: &WarehouseConfig) -> Result<Warehouse> {
        match config.engine {
            EngineChoice::Embedded => {
                let engine = EmbeddedEngine::open(&config.embedded, &config.database).await?;
                Ok(Warehouse::from_engine(Arc::new(engine)))
            }
            EngineChoice::Remote => {
                let engine = RemoteEngine::open(&config.remote, &config.database).await?;
                Ok(Warehouse::from_engine(Arc::new(engine)))
            }
        }
    }

    pub fn from_engine(engine: Arc<dyn Engine>) -> Warehouse {
        Warehouse { engine }
    }

    pub fn kind(&self) -> EngineKind {
        self.engine.kind()
    }

    pub fn placeholder_style(&self) -> PlaceholderStyle {
        self.engine.placeholder_style()
    }

    /// Streams the result of `sql`.
    pub async fn query(&self, sql: &Sql) -> Result<BatchStream> {
        self.engine.query(sql).await
    }

    /// Collects the whole result of `sql` (for results known to be small).
    pub async fn query_all(&self, sql: &Sql) -> Result<Vec<RecordBatch>> {
        self.engine.query(sql).await?.try_collect().await
    }

    pub async fn execute(&self, sql: &Sql) -> Result<()> {
        self.engine.execute(sql).await
    }

    /// Inserts `batch` into `table`, matching columns by name.
    pub async fn insert(&self, table: &str, batch: RecordBatch) -> Result<u64> {
        self.engine.insert(table, batch).await
    }

    /// Inserts with an idempotency token: retrying with the same token stores the rows once.
    pub async fn insert_deduplicated(&self, table: &str, batch: RecordBatch, token: &str) -> Result<u64> {
        self.engine.insert_deduplicated(table, batch, token).await
    }

    pub async fn version(&self) -> Result<String> {
        self.engine.version().await
    }

    /// Applies pending migrations in order; applying twice is a no-op.
    pub async fn migrate(&self) -> Result<MigrationReport> {
        migrate::apply(self).await
    }

    /// Engine reachable, its version, and how many migrations are not applied yet.
    pub async fn health(&self) -> Result<Health> {
        let version = self.version().await?;
        let pending_migrations = migrate::pending(self).await?.len();
        let engine = match self.kind() {
            EngineKind::Embedded => "embedded",
            EngineKind::Remote => "remote",
        };
        Ok(Health { engine, version, pending_migrations })
    }
}

/// The first cell of a result as text (`None` when there are no rows).
pub async fn scalar_string(engine: &(impl Engine + ?Sized), sql: &Sql) -> Result<String> {
    let batches: Vec<RecordBatch> = engine.query(sql).await?.try_collect().await?;
    first_cell(&batches).ok_or_else(|| WarehouseError::Internal(format!("no rows from `{sql}`")))
}

/// The first cell of a list of batches formatted as text.
pub fn first_cell(batches: &[RecordBatch]) -> Option<String> {
    let batch = batches.iter().find(|b| b.num_rows() > 0)?;
    let column = batch.column(0);
    if column.is_null(0) {
        return Some(String::new());
    }
    arrow_cast::display::array_value_to_string(column, 0).ok()
}
