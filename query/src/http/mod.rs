//! The query service's HTTP surface: request and response types, authentication by secret
//! key, and the handlers that call the analyses.
//!
//! - `POST /api/projects/{project_id}/query` — a question of any kind (`read` scope).
//! - `GET /api/projects/{project_id}/events` — the raw event listing (`read` scope).
//! - `GET /api/openapi.json` — the OpenAPI 3 document of these routes (public).

pub mod api;
mod auth;
pub mod openapi;

use actix_web::{web, HttpRequest, HttpResponse};
use numu_appstate::{AppState, Scope};
use numu_warehouse::Warehouse;
use serde_json::Value;

pub use auth::{authenticate, configure_sessions, SessionAuth, SessionCheck, SessionOutcome};

use crate::error::QueryError;
use crate::events::EventsQuery;
use crate::limits::Limits;
use crate::run::Runner;
use api::{EventsAnswer, QueryAnswer, QueryRequest};

/// What the handlers need.
#[derive(Clone, Debug)]
pub struct QueryState {
    pub warehouse: Warehouse,
    pub app_state: AppState,
}

/// The handlers' shared state: the stores and the analysis runner.
#[derive(Clone, Debug)]
struct Handlers {
    state: QueryState,
    runner: Runner,
}

/// Mounts the query routes with the default [`Limits`].
pub fn configure(cfg: &mut web::ServiceConfig, state: QueryState) {
    configure_with_limits(cfg, state, Limits::default());
}

/// Mounts the query routes with `limits` (the server's `[query]` configuration).
pub fn configure_with_limits(cfg: &mut web::ServiceConfig, state: QueryState, limits: Limits) {
    let runner = Runner::new(state.warehouse.clone(), limits);
    let (state_for_cohorts, runner_for_cohorts) = (state.clone(), runner.clone());
    cfg.app_data(web::Data::new(Handlers { state, runner }))
        .route("/api/projects/{project_id}/events", web::get().to(list_events))
        .route("/api/projects/{project_id}/query", web::post().to(run_query))
        .route("/api/openapi.json", web::get().to(openapi_json));
    crate::cohorts::routes::configure(cfg, state_for_cohorts, runner_for_cohorts);
}

fn parse_query<T: serde::de::DeserializeOwned>(req: &HttpRequest) -> Result<T, QueryError> {
    serde_urlencoded::from_str(req.query_string()).map_err(|e| QueryError::bad("query", e.to_string()))
}

fn project_id(req: &HttpRequest) -> Result<i64, QueryError> {
    req.match_info()
        .get("project_id")
        .and_then(|id| id.parse::<i64>().ok())
        .filter(|id| *id > 0)
        .ok_or_else(|| QueryError::bad("project_id", "must be a positive integer"))
}

/// Answers a question about the project in the path.
#[utoipa::path(
    post,
    path = "/api/projects/{project_id}/query",
    tag = "query",
    params(("project_id" = i64, Path, description = "The project asked about")),
    request_body = QueryRequest,
    responses(
        (status = 200, description = "The answer, tagged with the question's kind", body = QueryAnswer),
        (status = 400, description = "A bad question; `field` names the offending field", body = crate::error::ErrorBody),
        (status = 401, description = "No, malformed or unknown key", body = crate::error::ErrorBody),
        (status = 403, description = "A write key, another project's key or a key without `read`", body = crate::error::ErrorBody),
        (status = 404, description = "No such person", body = crate::error::ErrorBody),
        (status = 422, description = "Beyond the configured time, memory or row limits", body = crate::error::ErrorBody),
    ),
    security(("secret_key" = []))
)]
async fn run_query(
    req: HttpRequest,
    body: web::Bytes,
    handlers: web::Data<Handlers>,
) -> Result<HttpResponse, QueryError> {
    let project_id = project_id(&req)?;
    authenticate(&req, &handlers.state.app_state, project_id, Scope::Read).await?;
    let project = project_id as u64;
    let runner = &handlers.runner;
    let request = QueryRequest::parse(&body)?;
    crate::cohorts::refresh::ensure_fresh_for_query(runner, &handlers.state.app_state, project_id, &body)
        .await?;
    let answer = match request {
        QueryRequest::Trends(q) => QueryAnswer::Trends(runner.trends(project, &q).await?),
        QueryRequest::WebAnalytics(q) => QueryAnswer::WebAnalytics(Box::new(runner.web(project, &q).await?)),
        QueryRequest::Persons(q) => QueryAnswer::Persons(runner.persons(project, &q).await?),
        QueryRequest::Person(q) => QueryAnswer::Person(runner.person(project, &q).await?),
        QueryRequest::Funnel(q) => QueryAnswer::Funnel(Box::new(runner.funnel(project, &q).await?)),
        QueryRequest::Paths(q) => QueryAnswer::Paths(runner.paths(project, &q).await?),
        QueryRequest::Retention(q) => QueryAnswer::Retention(runner.retention(project, &q).await?),
    };
    Ok(HttpResponse::Ok().json(answer))
}

/// The raw event listing: what landed, with filters and counts.
#[utoipa::path(
    get,
    path = "/api/projects/{project_id}/events",
    tag = "query",
    params(("project_id" = i64, Path, description = "The project"), EventsQuery),
    responses(
        (status = 200, body = EventsAnswer),
        (status = 400, body = crate::error::ErrorBody),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody),
    ),
    security(("secret_key" = []))
)]
async fn list_events(req: HttpRequest, handlers: web::Data<Handlers>) -> Result<HttpResponse, QueryError> {
    let project_id = project_id(&req)?;
    authenticate(&req, &handlers.state.app_state, project_id, Scope::Read).await?;
    let query: EventsQuery = parse_query(&req)?;
    query.validate()?;
    let scope = project_id as u64;
    let warehouse = &handlers.state.warehouse;
    let counts = warehouse.query_all(&query.count_sql(scope)).await?;
    let counts = crate::json::rows(&counts)?;
    let read = |name: &str| counts.first().and_then(|row| row.get(name)).and_then(Value::as_u64).unwrap_or(0);
    let (count, unique_message_ids) = (read("count"), read("unique_message_ids"));
    let events = if query.count_only {
        None
    } else {
        let batches = warehouse.query_all(&query.rows_sql(scope)).await?;
        Some(crate::json::rows(&batches)?)
    };
    Ok(HttpResponse::Ok().json(EventsAnswer { project_id, count, unique_message_ids, events }))
}

/// This API's OpenAPI 3 document (no key needed).
#[utoipa::path(get, path = "/api/openapi.json", tag = "meta", responses((status = 200, description = "OpenAPI 3 JSON")))]
async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(openapi::document())
}
