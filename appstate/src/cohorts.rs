//! Saved cohorts: name, kind (dynamic with a JSON definition, or static from an uploaded id
//! list), the last refresh (member version in the warehouse, size, time) and the history of
//! sizes. The definition is opaque text here; the query service interprets it.

use serde::Serialize;
use sqlx::Row;

use crate::error::{AppStateError, Result};
use crate::store::{now, AppState};

/// A saved cohort.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Cohort {
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub description: String,
    /// Static cohorts hold an uploaded id list; dynamic ones a definition.
    pub is_static: bool,
    /// JSON text; empty for static cohorts.
    pub definition: String,
    pub created_at: String,
    pub updated_at: String,
    /// The warehouse member version of the last refresh (`None`: never computed).
    pub member_version: Option<i64>,
    pub size: Option<i64>,
    pub refreshed_at_ms: Option<i64>,
}

/// What a create or update sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CohortInput {
    pub name: String,
    pub description: String,
    pub is_static: bool,
    pub definition: String,
}

/// A cohort's size at a refresh.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct CohortSize {
    pub at_ms: i64,
    pub size: i64,
}

const COLUMNS: &str = "id, project_id, name, description, kind, definition, created_at, updated_at, \
                       member_version, size, refreshed_at_ms";

fn from_row(row: &sqlx::sqlite::SqliteRow) -> Result<Cohort> {
    Ok(Cohort {
        id: row.try_get("id")?,
        project_id: row.try_get("project_id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        is_static: row.try_get::<String, _>("kind")? == "static",
        definition: row.try_get("definition")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        member_version: row.try_get("member_version")?,
        size: row.try_get("size")?,
        refreshed_at_ms: row.try_get("refreshed_at_ms")?,
    })
}

fn checked(input: &CohortInput) -> Result<()> {
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppStateError::Invalid("a cohort name needs 1 to 200 characters".into()));
    }
    if input.description.chars().count() > 2000 || input.definition.len() > 100_000 {
        return Err(AppStateError::Invalid("description or definition too long".into()));
    }
    Ok(())
}

impl AppState {
    pub async fn create_cohort(&self, project_id: i64, input: &CohortInput) -> Result<Cohort> {
        checked(input)?;
        let at = now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO cohorts (project_id, name, description, kind, definition, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
        )
        .bind(project_id)
        .bind(input.name.trim())
        .bind(&input.description)
        .bind(if input.is_static { "static" } else { "dynamic" })
        .bind(&input.definition)
        .bind(&at)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(d) if d.message().contains("FOREIGN KEY") => {
                AppStateError::ProjectNotFound(project_id)
            }
            other => AppStateError::Database(other),
        })?;
        self.cohort(project_id, id).await?.ok_or(AppStateError::ProjectNotFound(project_id))
    }

    /// A cohort of the project (`None` when absent or of another project).
    pub async fn cohort(&self, project_id: i64, id: i64) -> Result<Option<Cohort>> {
        let sql = format!("SELECT {COLUMNS} FROM cohorts WHERE id = $1 AND project_id = $2");
        let row = sqlx::query(&sql).bind(id).bind(project_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(from_row).transpose()
    }

    pub async fn cohorts(&self, project_id: i64) -> Result<Vec<Cohort>> {
        let sql = format!("SELECT {COLUMNS} FROM cohorts WHERE project_id = $1 ORDER BY id");
        let rows = sqlx::query(&sql).bind(project_id).fetch_all(&self.pool).await?;
        rows.iter().map(from_row).collect()
    }

    /// Every cohort of every project (the scheduled refresh).
    pub async fn all_cohorts(&self) -> Result<Vec<Cohort>> {
        let sql = format!("SELECT {COLUMNS} FROM cohorts ORDER BY id");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(from_row).collect()
    }

    /// Replaces name, description and definition (the kind stays); `None` when absent.
    pub async fn update_cohort(
        &self,
        project_id: i64,
        id: i64,
        input: &CohortInput,
    ) -> Result<Option<Cohort>> {
        checked(input)?;
        let done = sqlx::query(
            "UPDATE cohorts SET name = $1, description = $2, definition = $3, updated_at = $4, \
             refreshed_at_ms = NULL WHERE id = $5 AND project_id = $6",
        )
        .bind(input.name.trim())
        .bind(&input.description)
        .bind(&input.definition)
        .bind(now())
        .bind(id)
        .bind(project_id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        self.cohort(project_id, id).await
    }

    pub async fn delete_cohort(&self, project_id: i64, id: i64) -> Result<bool> {
        sqlx::query("DELETE FROM cohort_sizes WHERE cohort_id IN (SELECT id FROM cohorts WHERE id = $1 AND project_id = $2)")
            .bind(id)
            .bind(project_id)
            .execute(&self.pool)
            .await?;
        let done = sqlx::query("DELETE FROM cohorts WHERE id = $1 AND project_id = $2")
            .bind(id)
            .bind(project_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a refresh: the new member version, size and time, and the size in the history.
    pub async fn record_cohort_refresh(&self, id: i64, version: i64, size: i64, at_ms: i64) -> Result<()> {
        sqlx::query("UPDATE cohorts SET member_version = $1, size = $2, refreshed_at_ms = $3 WHERE id = $4")
            .bind(version)
            .bind(size)
            .bind(at_ms)
            .bind(id)
            .execute(&self.pool)
            .await?;
        sqlx::query("INSERT INTO cohort_sizes (cohort_id, at_ms, size) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(at_ms)
            .bind(size)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The sizes recorded at each refresh, oldest first.
    pub async fn cohort_sizes(&self, id: i64) -> Result<Vec<CohortSize>> {
        let rows = sqlx::query("SELECT at_ms, size FROM cohort_sizes WHERE cohort_id = $1 ORDER BY at_ms")
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok(CohortSize { at_ms: r.try_get("at_ms")?, size: r.try_get("size")? })).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn cohorts_are_scoped_to_their_project() {
        let state = AppState::in_memory().await.unwrap();
        let a = state.create_project("A").await.unwrap().project.id;
        let b = state.create_project("B").await.unwrap().project.id;
        let input = CohortInput {
            name: "Buyers".into(),
            description: String::new(),
            is_static: false,
            definition: "{}".into(),
        };
        let cohort = state.create_cohort(a, &input).await.unwrap();
        assert!(state.cohort(b, cohort.id).await.unwrap().is_none());
        assert_eq!(state.cohorts(a).await.unwrap().len(), 1);
        state.record_cohort_refresh(cohort.id, 7, 3, 1000).await.unwrap();
        let renamed = CohortInput { name: "Payers".into(), ..input.clone() };
        let updated = state.update_cohort(a, cohort.id, &renamed).await.unwrap().unwrap();
        assert_eq!((updated.name.as_str(), updated.refreshed_at_ms, updated.size), ("Payers", None, Some(3)));
        assert_eq!(state.cohort_sizes(cohort.id).await.unwrap(), vec![CohortSize { at_ms: 1000, size: 3 }]);
        assert!(state.update_cohort(b, cohort.id, &input).await.unwrap().is_none());
        assert!(!state.delete_cohort(b, cohort.id).await.unwrap());
        assert!(state.delete_cohort(a, cohort.id).await.unwrap());
        assert!(state.cohorts(a).await.unwrap().is_empty());
        let blank = CohortInput { name: " ".into(), ..input };
        assert!(matches!(state.create_cohort(a, &blank).await, Err(AppStateError::Invalid(_))));
    }
}
