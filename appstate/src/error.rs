//! The application state's one error type.

#[derive(Debug, thiserror::Error)]
pub enum AppStateError {
    #[error("application state database {path}: {source}")]
    Open { path: String, source: sqlx::Error },
    #[error("application state migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("application state: {0}")]
    Database(#[from] sqlx::Error),
    #[error("project {0} not found")]
    ProjectNotFound(i64),
    #[error("invalid input: {0}")]
    Invalid(String),
}

pub type Result<T, E = AppStateError> = std::result::Result<T, E>;
