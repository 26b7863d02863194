//! Running analyses: the one place that does IO for them. Brings the person mapping up to
//! date when the identity links changed, runs each plan's statements with the configured
//! `SETTINGS` (time, memory, result rows), maps the engine's limit errors to refusals, and
//! hands the rows to the plan's fold.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use arrow_array::RecordBatch;
use futures::lock::Mutex;
use numu_warehouse::{Sql, Warehouse};

use crate::error::QueryError;
use crate::funnels::{self, FunnelAnswer, FunnelQuery};
use crate::identity::{self, LinkState};
use crate::limits::Limits;
use crate::paths::{self, PathsAnswer, PathsQuery};
use crate::people::{self, PersonAnswer, PersonQuery, PersonsAnswer, PersonsQuery};
use crate::table;
use crate::trends::{self, TrendsAnswer, TrendsQuery};
use crate::web::{self, WebAnswer, WebQuery};

/// How many statements of one question run at once.
const STATEMENTS_AT_ONCE: usize = 3;

/// Runs analyses against one warehouse.
#[derive(Clone, Debug)]
pub struct Runner {
    warehouse: Warehouse,
    limits: Limits,
    /// The link graph each project's mapping was last written for.
    synced: Arc<Mutex<HashMap<u64, LinkState>>>,
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

impl Runner {
    pub fn new(warehouse: Warehouse, limits: Limits) -> Runner {
        Runner { warehouse, limits, synced: Arc::new(Mutex::new(HashMap::new())) }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub async fn trends(&self, project: u64, query: &TrendsQuery) -> Result<TrendsAnswer, QueryError> {
        self.trends_at(project, query, now_ms()).await
    }

    /// As [`Runner::trends`], with relative dates resolved at `now_ms`.
    pub async fn trends_at(
        &self,
        project: u64,
        query: &TrendsQuery,
        now_ms: i64,
    ) -> Result<TrendsAnswer, QueryError> {
        let plan = trends::plan(query, project, now_ms, &self.limits)?;
        self.sync_persons(project).await?;
        plan.fold(self.run_all(plan.statements()).await?)
    }

    pub async fn web(&self, project: u64, query: &WebQuery) -> Result<WebAnswer, QueryError> {
        self.web_at(project, query, now_ms()).await
    }

    pub async fn web_at(&self, project: u64, query: &WebQuery, now_ms: i64) -> Result<WebAnswer, QueryError> {
        self.web_reading(project, query, now_ms, web::Read::Fastest).await
    }

    /// As [`Runner::web_at`], choosing where client sessions are read from.
    pub async fn web_reading(
        &self,
        project: u64,
        query: &WebQuery,
        now_ms: i64,
        read: web::Read,
    ) -> Result<WebAnswer, QueryError> {
        let plan = web::plan_reading(query, project, now_ms, &self.limits, read)?;
        self.sync_persons(project).await?;
        plan.fold(self.run_all(plan.statements()).await?)
    }

    pub async fn persons(&self, project: u64, query: &PersonsQuery) -> Result<PersonsAnswer, QueryError> {
        let plan = people::plan_persons(query, project, now_ms(), &self.limits)?;
        self.sync_persons(project).await?;
        plan.fold(self.run_all(plan.statements()).await?)
    }

    pub async fn person(&self, project: u64, query: &PersonQuery) -> Result<PersonAnswer, QueryError> {
        let plan = people::plan_person(query, project, now_ms(), &self.limits)?;
        self.sync_persons(project).await?;
        plan.fold(self.run_all(plan.statements()).await?)
    }

    pub async fn funnel(&self, project: u64, query: &FunnelQuery) -> Result<FunnelAnswer, QueryError> {
        self.funnel_at(project, query, now_ms()).await
    }

    /// A funnel: its per-person rows are streamed batch by batch into the fold (they are
    /// folded, not returned, so the result-row limit does not apply; time and memory do).
    pub async fn funnel_at(
        &self,
        project: u64,
        query: &FunnelQuery,
        now_ms: i64,
    ) -> Result<FunnelAnswer, QueryError> {
        use futures::TryStreamExt;
        let plan = funnels::plan(query, project, now_ms, &self.limits)?;
        self.sync_persons(project).await?;
        let settings = Limits { max_result_rows: 0, ..self.limits.clone() }.settings_clause();
        let statement = plan.statement().clone().push(settings);
        let failed = |e| {
            tracing::debug!(sql = %statement, error = %e, "funnel statement failed");
            QueryError::from_warehouse(e)
        };
        let mut stream = self.warehouse.query(&statement).await.map_err(failed)?;
        let mut folder = plan.folder();
        while let Some(batch) = stream.try_next().await.map_err(failed)? {
            folder.add(&batch)?;
        }
        folder.finish()
    }

    pub async fn paths(&self, project: u64, query: &PathsQuery) -> Result<PathsAnswer, QueryError> {
        self.paths_at(project, query, now_ms()).await
    }

    pub async fn paths_at(
        &self,
        project: u64,
        query: &PathsQuery,
        now_ms: i64,
    ) -> Result<PathsAnswer, QueryError> {
        let plan = paths::plan(query, project, now_ms, &self.limits)?;
        self.sync_persons(project).await?;
        plan.fold(self.run_all(plan.statements()).await?)
    }

    pub async fn retention(
        &self,
        project: u64,
        query: &crate::retention::RetentionQuery,
    ) -> Result<crate::retention::RetentionAnswer, QueryError> {
        self.retention_at(project, query, now_ms()).await
    }

    /// As [`Runner::retention`], with relative dates (and periods not yet begun) at `now_ms`.
    pub async fn retention_at(
        &self,
        project: u64,
        query: &crate::retention::RetentionQuery,
        now_ms: i64,
    ) -> Result<crate::retention::RetentionAnswer, QueryError> {
        let plan = crate::retention::plan(query, project, now_ms, &self.limits)?;
        self.sync_persons(project).await?;
        plan.fold(self.run_all(plan.statements()).await?)
    }

    /// The warehouse (cohort membership writes).
    pub(crate) fn warehouse(&self) -> &Warehouse {
        &self.warehouse
    }

    /// An internal statement (cohort membership): time and memory limits, no row limit.
    pub(crate) async fn fetch_internal(&self, statement: Sql) -> Result<Vec<RecordBatch>, QueryError> {
        self.fetch(statement, false).await
    }

    /// Runs statements one after another (the embedded engine gains nothing from parallel
    /// queries on few cores, and the pool stays free for ingest).
    /// The statements' results in order, a few at a time: each carries fixed costs (planning,
    /// a round trip) that overlap, and a trend asks one statement per series and period.
    async fn run_all(&self, statements: &[Sql]) -> Result<Vec<Vec<RecordBatch>>, QueryError> {
        use futures::{StreamExt, TryStreamExt};
        futures::stream::iter(statements.iter().map(|statement| self.fetch(statement.clone(), true)))
            .buffered(STATEMENTS_AT_ONCE)
            .try_collect()
            .await
    }

    /// One statement with the limits' `SETTINGS`; internal statements (identity) are not
    /// bounded in result rows.
    async fn fetch(&self, statement: Sql, bound_rows: bool) -> Result<Vec<RecordBatch>, QueryError> {
        let settings = if bound_rows {
            self.limits.settings_clause()
        } else {
            Limits { max_result_rows: 0, ..self.limits.clone() }.settings_clause()
        };
        let statement = statement.push(settings);
        self.warehouse.query_all(&statement).await.map_err(|e| {
            tracing::debug!(sql = %statement, error = %e, "analysis statement failed");
            QueryError::from_warehouse(e)
        })
    }

    /// Brings `person_distinct_ids` up to date with the project's identity links, if they
    /// changed since the last look (see [`crate::identity`]).
    pub async fn sync_persons(&self, project: u64) -> Result<(), QueryError> {
        let mut synced = self.synced.lock().await;
        let rows = self.fetch(identity::state_sql(project), false).await?;
        let state = LinkState {
            edges: table::ints(&rows, "edges")?.first().copied().unwrap_or(0) as u64,
            max_ts: table::ints(&rows, "max_ts")?.first().copied().unwrap_or(0),
        };
        if synced.get(&project) == Some(&state) {
            return Ok(());
        }
        if state.edges > 0 {
            let links = self.fetch(identity::links_sql(project), false).await?;
            let (from, to) = (table::strings(&links, "distinct_id")?, table::strings(&links, "linked_id")?);
            let resolved =
                identity::components(from.iter().map(String::as_str).zip(to.iter().map(String::as_str)));
            let stored = self.fetch(identity::mapping_sql(project), false).await?;
            let version = table::ints(&stored, "mapped_version")?.into_iter().max().unwrap_or(0) as u64 + 1;
            let stored: HashMap<String, String> = table::strings(&stored, "distinct_id")?
                .into_iter()
                .zip(table::strings(&stored, "mapped_person_id")?)
                .collect();
            let changes = identity::changes(&resolved, &stored);
            if !changes.is_empty() {
                let batch = identity::mapping_batch(project, &changes, version)
                    .map_err(|e| QueryError::Internal(format!("person mapping batch: {e}")))?;
                self.warehouse
                    .insert("person_distinct_ids", batch)
                    .await
                    .map_err(QueryError::from_warehouse)?;
                tracing::info!(project, ids = changes.len(), version, "person mapping updated");
            }
        }
        synced.insert(project, state);
        Ok(())
    }
}
