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

/// What the engine says its memory holds, in bytes (ClickHouse's `system.metrics`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EngineMemory {
    /// All memory the engine tracks (`MemoryTracking`): caches, parts' metadata, queries,
    /// merges. In the embedded engine this is part of the process's resident memory.
    pub tracked: u64,
    /// Each cache's size (`MarkCacheBytes` → `mark`, …), the ones that are not empty.
    pub caches: Vec<(String, u64)>,
}

impl EngineMemory {
    /// Reads it from `system.metrics` rows (metric name, value).
    fn from_rows(rows: impl IntoIterator<Item = (String, u64)>) -> EngineMemory {
        let mut memory = EngineMemory::default();
        for (metric, value) in rows {
            if metric == "MemoryTracking" {
                memory.tracked = value;
            } else if let Some(cache) = metric.strip_suffix("CacheBytes") {
                memory.caches.push((snake_case(cache), value));
            }
        }
        memory
    }
}

/// `PrimaryIndex` → `primary_index`.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

impl Warehouse {
    /// The engine's own account of its memory (for `/metrics`: tells the engine's growth
    /// from the rest of the process's).
    pub async fn memory(&self) -> Result<EngineMemory> {
        let batches = self.query_all(&Sql::new(include_str!("../sql/memory.sql"))).await?;
        let mut rows = Vec::new();
        for batch in &batches {
            for row in 0..batch.num_rows() {
                let cell = |column: usize| {
                    arrow_cast::display::array_value_to_string(batch.column(column), row).unwrap_or_default()
                };
                if let Ok(value) = cell(1).parse::<u64>() {
                    rows.push((cell(0), value));
                }
            }
        }
        Ok(EngineMemory::from_rows(rows))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_memory_reads_the_tracker_and_names_caches_in_snake_case() {
        let rows =
            [("MarkCacheBytes", 10), ("MemoryTracking", 5_000), ("PrimaryIndexCacheBytes", 7), ("Query", 3)];
        let memory = EngineMemory::from_rows(rows.into_iter().map(|(m, v)| (m.to_string(), v)));
        assert_eq!(memory.tracked, 5_000);
        assert_eq!(memory.caches, vec![("mark".to_string(), 10), ("primary_index".to_string(), 7)]);
    }
}
