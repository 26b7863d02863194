//! The query service's HTTP surface: request and response types, authentication by secret
//! key, and the handlers that call the analyses.

mod auth;

use actix_web::{web, HttpRequest, HttpResponse};
use numu_appstate::{AppState, Scope};
use numu_warehouse::Warehouse;
use serde::Serialize;
use serde_json::{Map, Value};

pub use auth::authenticate;

use crate::error::QueryError;
use crate::events::EventsQuery;

/// What the handlers need.
#[derive(Clone, Debug)]
pub struct QueryState {
    pub warehouse: Warehouse,
    pub app_state: AppState,
}

/// Mounts the query routes.
pub fn configure(cfg: &mut web::ServiceConfig, state: QueryState) {
    cfg.app_data(web::Data::new(state))
        .route("/api/projects/{project_id}/events", web::get().to(list_events));
}

#[derive(Serialize)]
struct EventsAnswer {
    project_id: i64,
    /// Matching events (all pages).
    count: u64,
    /// Distinct message ids among them: equal to `count` when nothing is duplicated.
    unique_message_ids: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    events: Option<Vec<Map<String, Value>>>,
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

async fn list_events(req: HttpRequest, state: web::Data<QueryState>) -> Result<HttpResponse, QueryError> {
    let project_id = project_id(&req)?;
    authenticate(&req, &state.app_state, project_id, Scope::Read).await?;
    let query: EventsQuery = parse_query(&req)?;
    query.validate()?;
    let scope = project_id as u64;
    let counts = state.warehouse.query_all(&query.count_sql(scope)).await?;
    let counts = crate::json::rows(&counts)?;
    let read = |name: &str| counts.first().and_then(|row| row.get(name)).and_then(Value::as_u64).unwrap_or(0);
    let (count, unique_message_ids) = (read("count"), read("unique_message_ids"));
    let events = if query.count_only {
        None
    } else {
        let batches = state.warehouse.query_all(&query.rows_sql(scope)).await?;
        Some(crate::json::rows(&batches)?)
    };
    Ok(HttpResponse::Ok().json(EventsAnswer { project_id, count, unique_message_ids, events }))
}
