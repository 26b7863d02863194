//! The warehouse's one error type. Messages are single lines that name the fix where a
//! person can apply one.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum WarehouseError {
    #[error("embedded ClickHouse engine (chDB) not found: {detail}; run `make setup` (installs chdb-core {version} into ./.venv) or set warehouse.python / warehouse.chdb_library")]
    EngineMissing { detail: String, version: &'static str },

    #[error("could not load the embedded engine from {path}: {message}")]
    EngineLoad { path: PathBuf, message: String },

    #[error("data directory {path} is locked by another Numu process (lock file {lock}); stop that process or set warehouse.path to another directory")]
    Locked { path: PathBuf, lock: PathBuf },

    #[error("data directory {path} is not writable ({reason}); fix its permissions or set warehouse.path to a writable directory")]
    Unwritable { path: PathBuf, reason: String },

    #[error("this process already holds the embedded warehouse at {held}; one process can open only one storage path (asked for {asked})")]
    OtherPathOpen { held: PathBuf, asked: PathBuf },

    #[error("invalid identifier {0:?}: use letters, digits and underscores")]
    InvalidIdentifier(String),

    #[error("ClickHouse error{}: {message}", code.map(|c| format!(" {c}")).unwrap_or_default())]
    Sql { code: Option<i32>, message: String },

    #[error("warehouse connection failed: {0}")]
    Connection(String),

    #[error("ClickHouse at {url} refused user {user:?} (code {code}: {message}); check warehouse.remote.user and warehouse.remote.password")]
    Authentication { url: String, user: String, code: i32, message: String },

    #[error("database {database:?} does not exist on ClickHouse at {url}; run `numu migrate` to create it, or check warehouse.database")]
    UnknownDatabase { url: String, database: String },

    #[error("invalid warehouse configuration: {0}")]
    Config(String),

    #[error("query exceeded its time limit of {0:?}")]
    Timeout(std::time::Duration),

    #[error("migration {version} ({name}) failed: {message}")]
    Migration { version: u32, name: String, message: String },

    #[error("migration {version} ({name}) was applied with checksum {recorded} but the file now has {current}; migrations must not be edited once applied")]
    MigrationEdited { version: u32, name: String, recorded: String, current: String },

    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),

    #[error("io: {0}")]
    Io(#[from] std::io::Error),

    #[error("internal: {0}")]
    Internal(String),
}

pub type Result<T, E = WarehouseError> = std::result::Result<T, E>;

impl WarehouseError {
    /// Whether retrying the same call later may succeed (outages, timeouts).
    pub fn is_transient(&self) -> bool {
        matches!(self, WarehouseError::Connection(_) | WarehouseError::Timeout(_))
    }
}
