//! The embedded engine: chDB loaded in-process through its ADBC driver, with a pool of
//! connections so concurrent requests never share one (sharing aborts the engine).

mod insert_thread;
mod locate;
mod pool;
mod process;

use std::path::PathBuf;
use std::sync::Arc;

use adbc_core::{Connection, Statement};
use arrow_array::{RecordBatch, RecordBatchReader};
use serde::{Deserialize, Serialize};

pub use locate::{locate, EngineFiles, CHDB_VERSION};
pub use process::close;

use crate::engine::{BatchStream, Engine, EngineKind};
use crate::error::{Result, WarehouseError};
use crate::sql::{Ident, PlaceholderStyle, Sql};
use pool::{Lease, Pool};

/// Configuration of the embedded engine.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmbeddedConfig {
    /// The storage directory (exclusive to one process).
    pub path: PathBuf,
    /// The Python interpreter that installed `chdb-core`; asked where the engine is.
    pub python: PathBuf,
    /// Explicit engine library (`chdb/_chdb.abi3.so`), skipping the interpreter probe.
    pub chdb_library: Option<PathBuf>,
    /// Explicit shared libpython, skipping the interpreter probe.
    pub libpython: Option<PathBuf>,
    /// Connections kept for concurrent queries and inserts.
    pub pool_size: usize,
    /// Engine memory cap in bytes (`max_server_memory_usage`); unset = engine default.
    pub max_memory_bytes: Option<u64>,
    /// Threads per query (`max_threads`); unset = number of cores.
    pub max_threads: Option<u32>,
}

impl Default for EmbeddedConfig {
    fn default() -> Self {
        EmbeddedConfig {
            path: PathBuf::from("data/warehouse"),
            python: PathBuf::from(".venv/bin/python3"),
            chdb_library: None,
            libpython: None,
            pool_size: 4,
            max_memory_bytes: None,
            max_threads: None,
        }
    }
}

/// The embedded engine bound to one database of the process-wide chDB instance.
pub struct EmbeddedEngine {
    pool: Arc<Pool>,
}

impl EmbeddedEngine {
    /// Loads the engine (once per process), creates `database` if needed and opens a pool.
    pub async fn open(config: &EmbeddedConfig, database: &str) -> Result<EmbeddedEngine> {
        let database =
            Ident::new(database).ok_or_else(|| WarehouseError::InvalidIdentifier(database.into()))?;
        let config = config.clone();
        let process = blocking(move || {
            let files = locate(&config.python, config.chdb_library.as_deref(), config.libpython.as_deref())?;
            let mut settings = process::OpenSettings::default();
            if let Some(bytes) = config.max_memory_bytes {
                settings.settings.push(("max_server_memory_usage".into(), bytes.to_string()));
            }
            if let Some(threads) = config.max_threads {
                settings.settings.push(("max_threads".into(), threads.to_string()));
            }
            let process = process::open(&config.path, &files, &settings)?;
            Ok((process, config.pool_size.max(1)))
        })
        .await?;
        let (process, size) = process;
        let pool = Arc::new(Pool::new(process, database, size));
        let lease = pool.checkout().await?;
        drop(lease);
        Ok(EmbeddedEngine { pool })
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| WarehouseError::Internal(format!("engine task failed: {e}")))?
}

fn sql_error(e: adbc_core::error::Error) -> WarehouseError {
    let code = e.vendor_code;
    let message = e.message.lines().next().unwrap_or_default().to_string();
    let code = (code != 0 && code != i32::MIN).then_some(code);
    WarehouseError::Sql { code, message }
}

/// Prepares and runs `sql`, returning the statement (kept alive) and its reader.
fn run_query(
    lease: &mut Lease,
    text: &str,
    params: &[crate::sql::Value],
) -> Result<(adbc_driver_manager::ManagedStatement, Box<dyn RecordBatchReader + Send>)> {
    let mut statement = lease.connection().new_statement().map_err(sql_error)?;
    statement.set_sql_query(text).map_err(sql_error)?;
    if !params.is_empty() {
        statement.bind(crate::params::params_batch(params)?).map_err(sql_error)?;
    }
    let reader = statement.execute().map_err(sql_error)?;
    Ok((statement, reader))
}

fn run_update(lease: &mut Lease, text: &str, bind: Option<RecordBatch>) -> Result<u64> {
    let mut statement = lease.connection().new_statement().map_err(sql_error)?;
    statement.set_sql_query(text).map_err(sql_error)?;
    if let Some(batch) = bind {
        statement.bind(batch).map_err(sql_error)?;
    }
    let rows = statement.execute_update().map_err(sql_error)?;
    Ok(rows.unwrap_or(0).max(0) as u64)
}

/// A checked idempotency token: it is spliced as a setting value, so only plain characters.
fn checked_token(token: &str) -> Result<&str> {
    let ok = !token.is_empty()
        && token.len() <= 128
        && token.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c));
    ok.then_some(token).ok_or_else(|| WarehouseError::InvalidIdentifier(token.to_string()))
}

/// `INSERT INTO t (a, b) VALUES (?, ?)`: binding the batch matches by name, unlike ADBC's
/// positional append ingest. (A SETTINGS clause here would turn the bulk bind into a
/// per-value bind that cannot take maps, so the token is set on the session instead.)
pub(crate) fn insert_statement(table: &Ident, batch: &RecordBatch) -> Result<String> {
    let mut columns = Vec::new();
    for field in batch.schema().fields() {
        let ident = Ident::new(field.name())
            .ok_or_else(|| WarehouseError::InvalidIdentifier(field.name().clone()))?;
        columns.push(ident.to_string());
    }
    let marks = vec!["?"; columns.len()].join(", ");
    Ok(format!("INSERT INTO {table} ({}) VALUES ({marks})", columns.join(", ")))
}

impl EmbeddedEngine {
    async fn insert_with(&self, table: &str, batch: RecordBatch, token: Option<String>) -> Result<u64> {
        let table = Ident::new(table).ok_or_else(|| WarehouseError::InvalidIdentifier(table.into()))?;
        if batch.num_rows() == 0 {
            return Ok(0);
        }
        let statement = insert_statement(&table, &batch)?;
        let token = token.as_deref().map(checked_token).transpose()?.map(str::to_string);
        let mut lease = self.pool.checkout().await?;
        let rows = batch.num_rows() as u64;
        insert_thread::run(move || {
            if let Some(token) = &token {
                run_update(&mut lease, "SET insert_deduplicate = 1", None)?;
                run_update(&mut lease, &format!("SET insert_deduplication_token = '{token}'"), None)?;
            }
            let result = run_update(&mut lease, &statement, Some(batch));
            if token.is_some() {
                // The token is session state: clear it before the connection is reused.
                run_update(&mut lease, "SET insert_deduplication_token = ''", None)?;
            }
            result.map(|_| ())
        })
        .await?;
        Ok(rows)
    }
}

#[async_trait::async_trait]
impl Engine for EmbeddedEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Embedded
    }

    fn placeholder_style(&self) -> PlaceholderStyle {
        PlaceholderStyle::QuestionMark
    }

    async fn query(&self, sql: &Sql) -> Result<BatchStream> {
        let (text, params) = sql.render(PlaceholderStyle::QuestionMark);
        let lease = self.pool.checkout().await?;
        pool::stream_query(lease, text, params).await
    }

    async fn execute(&self, sql: &Sql) -> Result<()> {
        let (text, params) = sql.render(PlaceholderStyle::QuestionMark);
        let mut lease = self.pool.checkout().await?;
        blocking(move || {
            let bind = if params.is_empty() { None } else { Some(crate::params::params_batch(&params)?) };
            run_update(&mut lease, &text, bind).map(|_| ())
        })
        .await
    }

    async fn insert(&self, table: &str, batch: RecordBatch) -> Result<u64> {
        self.insert_with(table, batch, None).await
    }

    async fn insert_deduplicated(&self, table: &str, batch: RecordBatch, token: &str) -> Result<u64> {
        self.insert_with(table, batch, Some(token.to_string())).await
    }

    async fn version(&self) -> Result<String> {
        crate::scalar_string(self, &Sql::new("SELECT version()")).await
    }
}
