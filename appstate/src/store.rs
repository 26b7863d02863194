//! The store: a pool over the application database and the operations services need.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{Row, SqlitePool};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::auth::{Principal, Scope};
use crate::error::{AppStateError, Result};
use crate::keys::{generate_secret_key, generate_write_key, hash_secret};

/// A project: the unit every event, key and query belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Project {
    pub id: i64,
    pub name: String,
    pub write_key: String,
    pub write_key_disabled: bool,
    pub allowed_origins: Vec<String>,
    pub created_at: String,
}

/// A secret API key as listed (never the key itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApiKey {
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub created_at: String,
    pub revoked: bool,
}

/// A new project with its keys, shown once.
#[derive(Clone, Debug, Serialize)]
pub struct NewProject {
    pub project: Project,
    pub write_key: String,
    /// An admin-scoped secret key; only its hash is stored.
    pub secret_key: String,
}

/// The application database.
#[derive(Clone, Debug)]
pub struct AppState {
    pub(crate) pool: SqlitePool,
}

pub(crate) fn now() -> String {
    OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default()
}

fn project_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<Project> {
    let origins: String = row.try_get("allowed_origins")?;
    Ok(Project {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        write_key: row.try_get("write_key")?,
        write_key_disabled: row.try_get::<i64, _>("write_key_disabled")? != 0,
        allowed_origins: origins.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect(),
        created_at: row.try_get("created_at")?,
    })
}

fn scopes_from_text(text: &str) -> Vec<Scope> {
    text.split(',').filter_map(Scope::parse).collect()
}

const PROJECT_COLUMNS: &str = "id, name, write_key, write_key_disabled, allowed_origins, created_at";

impl AppState {
    /// Opens (creating if needed) the SQLite file at `path` and applies migrations. Several
    /// processes may open it at once (`numu project create` beside a running server).
    pub async fn open(path: &Path) -> Result<AppState> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| AppStateError::Open {
                path: path.display().to_string(),
                source: sqlx::Error::Io(e),
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|source| AppStateError::Open { path: path.display().to_string(), source })?;
        Self::migrated(pool).await
    }

    /// A private in-memory database (tests).
    pub async fn in_memory() -> Result<AppState> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")?.foreign_keys(true);
        // One connection: each in-memory connection would be a separate database.
        let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await?;
        Self::migrated(pool).await
    }

    async fn migrated(pool: SqlitePool) -> Result<AppState> {
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(AppState { pool })
    }

    /// Whether the database answers (readiness).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Creates a project with a write key and an admin secret key.
    pub async fn create_project(&self, name: &str) -> Result<NewProject> {
        let name = name.trim();
        if name.is_empty() || name.len() > 200 {
            return Err(AppStateError::Invalid("a project name needs 1 to 200 characters".into()));
        }
        let write_key = generate_write_key();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO projects (name, write_key, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(name)
        .bind(&write_key)
        .bind(now())
        .fetch_one(&self.pool)
        .await?;
        let (_, secret_key) = self.create_api_key(id, "initial admin key", &[Scope::Admin]).await?;
        let project = self.project(id).await?.ok_or(AppStateError::ProjectNotFound(id))?;
        Ok(NewProject { project, write_key, secret_key })
    }

    pub async fn project(&self, id: i64) -> Result<Option<Project>> {
        let sql = format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(project_from_row).transpose()
    }

    pub async fn projects(&self) -> Result<Vec<Project>> {
        let sql = format!("SELECT {PROJECT_COLUMNS} FROM projects ORDER BY id");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(project_from_row).collect()
    }

    /// The project a write key belongs to (disabled keys included: the caller decides).
    pub async fn project_by_write_key(&self, write_key: &str) -> Result<Option<Project>> {
        let sql = format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE write_key = $1");
        let row = sqlx::query(&sql).bind(write_key).fetch_optional(&self.pool).await?;
        row.as_ref().map(project_from_row).transpose()
    }

    pub async fn set_write_key_disabled(&self, project_id: i64, disabled: bool) -> Result<()> {
        let done = sqlx::query("UPDATE projects SET write_key_disabled = $1 WHERE id = $2")
            .bind(i64::from(disabled))
            .bind(project_id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(AppStateError::ProjectNotFound(project_id));
        }
        Ok(())
    }

    /// Creates a secret key; returns its listing and the key itself (shown once).
    pub async fn create_api_key(
        &self,
        project_id: i64,
        name: &str,
        scopes: &[Scope],
    ) -> Result<(ApiKey, String)> {
        if scopes.is_empty() {
            return Err(AppStateError::Invalid("a key needs at least one scope".into()));
        }
        let key = generate_secret_key();
        let scope_text: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_keys (project_id, name, prefix, hash, scopes, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(project_id)
        .bind(name)
        .bind(&key[..12])
        .bind(hash_secret(&key))
        .bind(scope_text.join(","))
        .bind(now())
        .fetch_one(&self.pool)
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(d) if d.message().contains("FOREIGN KEY") => {
                AppStateError::ProjectNotFound(project_id)
            }
            other => AppStateError::Database(other),
        })?;
        let listing = ApiKey {
            id,
            project_id,
            name: name.to_string(),
            prefix: key[..12].to_string(),
            scopes: scopes.to_vec(),
            created_at: now(),
            revoked: false,
        };
        Ok((listing, key))
    }

    pub async fn api_keys(&self, project_id: i64) -> Result<Vec<ApiKey>> {
        let rows = sqlx::query(
            "SELECT id, project_id, name, prefix, scopes, created_at, revoked_at FROM api_keys \
             WHERE project_id = $1 ORDER BY id",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ApiKey {
                    id: row.try_get("id")?,
                    project_id: row.try_get("project_id")?,
                    name: row.try_get("name")?,
                    prefix: row.try_get("prefix")?,
                    scopes: scopes_from_text(&row.try_get::<String, _>("scopes")?),
                    created_at: row.try_get("created_at")?,
                    revoked: row.try_get::<Option<String>, _>("revoked_at")?.is_some(),
                })
            })
            .collect()
    }

    pub async fn revoke_api_key(&self, project_id: i64, key_id: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND project_id = $3 AND revoked_at IS NULL",
        )
        .bind(now())
        .bind(key_id)
        .bind(project_id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Looks a secret key up by its hash; `None` for unknown or revoked keys.
    pub async fn principal_for_secret(&self, key: &str) -> Result<Option<Principal>> {
        let row =
            sqlx::query("SELECT id, project_id, scopes FROM api_keys WHERE hash = $1 AND revoked_at IS NULL")
                .bind(hash_secret(key))
                .fetch_optional(&self.pool)
                .await?;
        row.map(|row| {
            Ok(Principal {
                key_id: row.try_get("id")?,
                project_id: row.try_get("project_id")?,
                scopes: scopes_from_text(&row.try_get::<String, _>("scopes")?),
            })
        })
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn project_keys_are_stored_as_promised() {
        let state = AppState::in_memory().await.unwrap();
        let created = state.create_project("Shop").await.unwrap();
        // The write key is stored in clear and finds its project.
        let by_key = state.project_by_write_key(&created.write_key).await.unwrap().unwrap();
        assert_eq!(by_key.id, created.project.id);
        // The secret is not stored in clear anywhere.
        let stored: Vec<String> = sqlx::query_scalar("SELECT hash || prefix || name FROM api_keys")
            .fetch_all(&state.pool)
            .await
            .unwrap();
        assert!(stored.iter().all(|s| !s.contains(&created.secret_key)));
        let principal = state.principal_for_secret(&created.secret_key).await.unwrap().unwrap();
        assert_eq!(principal.project_id, created.project.id);
        assert_eq!(principal.scopes, vec![Scope::Admin]);
        // Revoked keys stop working.
        let (key, secret) = state.create_api_key(created.project.id, "reader", &[Scope::Read]).await.unwrap();
        assert!(state.principal_for_secret(&secret).await.unwrap().is_some());
        assert!(state.revoke_api_key(created.project.id, key.id).await.unwrap());
        assert!(state.principal_for_secret(&secret).await.unwrap().is_none());
        assert_eq!(state.api_keys(created.project.id).await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn bad_input_is_refused() {
        let state = AppState::in_memory().await.unwrap();
        assert!(matches!(state.create_project("  ").await, Err(AppStateError::Invalid(_))));
        assert!(matches!(
            state.create_api_key(99, "x", &[Scope::Read]).await,
            Err(AppStateError::ProjectNotFound(99))
        ));
        assert!(matches!(
            state.set_write_key_disabled(99, true).await,
            Err(AppStateError::ProjectNotFound(99))
        ));
        assert!(state.principal_for_secret("nsk_nope").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_second_process_can_open_the_same_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.sqlite");
        let first = AppState::open(&path).await.unwrap();
        let second = AppState::open(&path).await.unwrap();
        let created = second.create_project("Blog").await.unwrap();
        assert_eq!(first.project(created.project.id).await.unwrap().unwrap().name, "Blog");
    }
}
