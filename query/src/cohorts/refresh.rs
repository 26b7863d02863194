//! Computing cohort members (the IO of cohorts): a refresh writes the persons of a cohort to
//! `cohort_members` under a new version (plus a marker row with person `''`, so an empty
//! result still has a version) and records the version and size in the application state.
//! Static cohorts re-resolve their current members through the identity mapping (a late
//! `identify` moves a member to its merged person). [`Refresher`] does it on a schedule;
//! [`ensure_fresh`] on read when the last refresh is older than the allowed age.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arrow_array::{ArrayRef, RecordBatch, StringArray, UInt64Array};
use arrow_schema::{Field, Schema};
use numu_appstate::{AppState, Cohort};
use numu_warehouse::Sql;

use super::definition::{Builder, CohortCondition};
use super::members_sql;
use crate::error::QueryError;
use crate::identity;
use crate::limits::Limits;
use crate::run::Runner;
use crate::table;

/// Members older than this are recomputed when read (a question filtering by the cohort, the
/// export, the cohort itself).
pub const STALE_AFTER_MS: i64 = 15 * 60_000;

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// The schedule (meant for the server's `[cohorts]` section): refresh every cohort every
/// `interval_seconds` (default 900); 0 turns the schedule off (reads still refresh stale ones).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RefreshConfig {
    pub interval_seconds: u64,
}

impl Default for RefreshConfig {
    fn default() -> RefreshConfig {
        RefreshConfig { interval_seconds: 900 }
    }
}

/// Refreshes every cohort of every project on a schedule.
#[derive(Clone, Debug)]
pub struct Refresher {
    pub runner: Runner,
    pub app_state: AppState,
    pub interval: Duration,
}

impl Refresher {
    pub fn new(runner: Runner, app_state: AppState, interval: Duration) -> Refresher {
        Refresher { runner, app_state, interval }
    }

    /// The refresher of `config`; `None` when the schedule is off.
    pub fn from_config(runner: Runner, app_state: AppState, config: &RefreshConfig) -> Option<Refresher> {
        (config.interval_seconds > 0)
            .then(|| Refresher::new(runner, app_state, Duration::from_secs(config.interval_seconds)))
    }

    /// Refreshes all cohorts, waits `interval`, and again, forever (spawn it on the server's
    /// runtime; failures are logged and retried at the next round).
    pub async fn run(self) {
        loop {
            match refresh_all(&self.runner, &self.app_state).await {
                Ok(count) => tracing::debug!(count, "cohorts refreshed"),
                Err(e) => tracing::warn!(error = %e, "cohort refresh round failed"),
            }
            actix_web::rt::time::sleep(self.interval).await;
        }
    }
}

/// Refreshes every cohort of every project; returns how many succeeded (a failing cohort is
/// logged and skipped).
pub async fn refresh_all(runner: &Runner, app_state: &AppState) -> Result<usize, QueryError> {
    let mut done = 0;
    for cohort in app_state.all_cohorts().await? {
        match refresh(runner, app_state, &cohort).await {
            Ok(_) => done += 1,
            Err(e) => tracing::warn!(cohort = cohort.id, error = %e, "cohort refresh failed"),
        }
    }
    Ok(done)
}

/// Refreshes `cohort` if it was never computed or is older than `max_age_ms`.
pub async fn ensure_fresh(
    runner: &Runner,
    app_state: &AppState,
    cohort: &Cohort,
    max_age_ms: i64,
) -> Result<(), QueryError> {
    let fresh = cohort.refreshed_at_ms.is_some_and(|at| now_ms() - at <= max_age_ms);
    if !fresh {
        refresh(runner, app_state, cohort).await?;
    }
    Ok(())
}

/// Checks that every cohort a question's filters use belongs to the project (400 naming the
/// filter otherwise) and refreshes the stale ones.
pub async fn ensure_fresh_for_query(
    runner: &Runner,
    app_state: &AppState,
    project_id: i64,
    body: &[u8],
) -> Result<(), QueryError> {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Ok(());
    };
    for (id, path) in super::referenced(&json) {
        let cohort = i64::try_from(id).ok().map(|id| app_state.cohort(project_id, id));
        let cohort = match cohort {
            Some(found) => found.await?,
            None => None,
        };
        let cohort = cohort.ok_or_else(|| {
            QueryError::bad(&format!("{path}.cohort"), format!("no cohort {id} in this project"))
        })?;
        ensure_fresh(runner, app_state, &cohort, STALE_AFTER_MS).await?;
    }
    Ok(())
}

fn next_version(cohort: &Cohort, at_ms: i64) -> u64 {
    (at_ms.max(cohort.member_version.unwrap_or(0) + 1)) as u64
}

/// Recomputes the members of `cohort` now; returns the new size.
pub async fn refresh(runner: &Runner, app_state: &AppState, cohort: &Cohort) -> Result<i64, QueryError> {
    let project = cohort.project_id as u64;
    runner.sync_persons(project).await?;
    let at_ms = now_ms();
    let version = next_version(cohort, at_ms);
    let persons = if cohort.is_static {
        static_persons(project, cohort.id as u64)
    } else {
        let definition: CohortCondition = serde_json::from_str(&cohort.definition)
            .map_err(|e| QueryError::Internal(format!("cohort {} definition: {e}", cohort.id)))?;
        let builder = Builder { project, now_ms: at_ms, limits: runner.limits() };
        builder.persons(&definition, "definition")?
    };
    let size = write_members(runner, project, cohort.id as u64, version, persons).await?;
    app_state.record_cohort_refresh(cohort.id, version as i64, size, at_ms).await?;
    tracing::info!(cohort = cohort.id, version, size, "cohort refreshed");
    Ok(size)
}

/// The current members of a static cohort mapped to their persons now.
fn static_persons(project: u64, cohort: u64) -> Sql {
    Sql::new("SELECT DISTINCT if(m.mapped_person_id = '', c.person_id, m.mapped_person_id) AS person FROM (")
        .append(members_sql(cohort))
        .push(") AS c LEFT JOIN (")
        .append(identity::mapping_sql(project))
        .push(") AS m ON m.distinct_id = c.person_id WHERE c.project_id = ")
        .bind(project)
}

async fn write_members(
    runner: &Runner,
    project: u64,
    cohort: u64,
    version: u64,
    persons: Sql,
) -> Result<i64, QueryError> {
    let insert = Sql::new("INSERT INTO cohort_members (project_id, cohort_id, person_id, version) SELECT ")
        .bind(project)
        .push(", ")
        .bind(cohort)
        .push(", person, ")
        .bind(version)
        .push(" FROM (SELECT DISTINCT toString(person) AS person FROM (")
        .append(persons)
        .push(") UNION ALL SELECT '' AS person)")
        .push(Limits { max_result_rows: 0, ..runner.limits().clone() }.settings_clause());
    runner.warehouse().execute(&insert).await.map_err(QueryError::from_warehouse)?;
    let count = Sql::new("SELECT uniqExact(person_id) AS n FROM cohort_members WHERE project_id = ")
        .bind(project)
        .push(" AND cohort_id = ")
        .bind(cohort)
        .push(" AND version = ")
        .bind(version)
        .push(" AND person_id != ''");
    let rows = runner.fetch_internal(count).await?;
    Ok(table::ints(&rows, "n")?.first().copied().unwrap_or(0))
}

/// The current members of a cohort of `project`, sorted.
pub async fn members(runner: &Runner, project: u64, cohort: u64) -> Result<Vec<String>, QueryError> {
    let sql = Sql::new("SELECT DISTINCT person_id FROM (")
        .append(members_sql(cohort))
        .push(") WHERE project_id = ")
        .bind(project)
        .push(" ORDER BY person_id");
    let rows = runner.fetch_internal(sql).await?;
    table::strings(&rows, "person_id")
}

/// Replaces a static cohort's members with uploaded distinct ids (resolved to persons);
/// returns the new size.
pub async fn upload(
    runner: &Runner,
    app_state: &AppState,
    cohort: &Cohort,
    ids: &[String],
) -> Result<i64, QueryError> {
    let project = cohort.project_id as u64;
    let version = next_version(cohort, now_ms());
    let mut people: Vec<String> = ids.to_vec();
    people.push(String::new());
    let n = people.len();
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("project_id", Arc::new(UInt64Array::from(vec![project; n]))),
        ("cohort_id", Arc::new(UInt64Array::from(vec![cohort.id as u64; n]))),
        ("person_id", Arc::new(StringArray::from(people))),
        ("version", Arc::new(UInt64Array::from(vec![version; n]))),
    ];
    let fields: Vec<Field> =
        columns.iter().map(|(name, a)| Field::new(*name, a.data_type().clone(), false)).collect();
    let batch =
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns.into_iter().map(|(_, a)| a).collect())
            .map_err(|e| QueryError::Internal(format!("cohort upload batch: {e}")))?;
    runner.warehouse().insert("cohort_members", batch).await.map_err(QueryError::from_warehouse)?;
    let uploaded = Cohort { member_version: Some(version as i64), ..cohort.clone() };
    refresh(runner, app_state, &uploaded).await
}
