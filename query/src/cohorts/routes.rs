//! The cohort routes under `/api/projects/{project_id}/cohorts`: reading needs a secret key
//! with `read`, changes `write`. Bodies are JSON ([`CohortRequest`]) except the static upload
//! (CSV); the member export is CSV.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use numu_appstate::{Cohort, Scope};
use serde::Serialize;
use utoipa::ToSchema;

use super::definition::Builder;
use super::refresh::{self, STALE_AFTER_MS};
use super::{upload, CohortRequest, CohortView};
use crate::error::QueryError;
use crate::http::{authenticate, QueryState};
use crate::run::Runner;

#[derive(Clone, Debug)]
struct CohortHandlers {
    state: QueryState,
    runner: Runner,
}

/// Mounts the cohort routes (called by [`crate::http::configure_with_limits`]).
pub fn configure(cfg: &mut web::ServiceConfig, state: QueryState, runner: Runner) {
    let base = "/api/projects/{project_id}/cohorts";
    cfg.app_data(web::Data::new(CohortHandlers { state, runner }))
        .route(base, web::get().to(list))
        .route(base, web::post().to(create))
        .route(&format!("{base}/{{cohort_id}}"), web::get().to(get))
        .route(&format!("{base}/{{cohort_id}}"), web::put().to(update))
        .route(&format!("{base}/{{cohort_id}}"), web::delete().to(delete))
        .route(&format!("{base}/{{cohort_id}}/members.csv"), web::get().to(members_csv))
        .route(&format!("{base}/{{cohort_id}}/sizes"), web::get().to(sizes))
        .route(&format!("{base}/{{cohort_id}}/refresh"), web::post().to(refresh_now))
        .service(
            web::resource(format!("{base}/{{cohort_id}}/upload"))
                .app_data(web::PayloadConfig::new(upload::MAX_BYTES + 1))
                .route(web::post().to(upload_csv)),
        );
}

/// `GET …/sizes`: the size at each refresh, oldest first.
#[derive(Serialize, ToSchema)]
pub struct SizesAnswer {
    pub cohort_id: i64,
    pub sizes: Vec<SizePoint>,
}

#[derive(Serialize, ToSchema)]
pub struct SizePoint {
    pub at_ms: i64,
    pub size: i64,
}

fn path_id(req: &HttpRequest, name: &str) -> Result<i64, QueryError> {
    req.match_info()
        .get(name)
        .and_then(|id| id.parse::<i64>().ok())
        .filter(|id| *id > 0)
        .ok_or_else(|| QueryError::bad(name, "must be a positive integer"))
}

impl CohortHandlers {
    /// The project of the path, if the caller's key may act on it with `scope`.
    async fn project(&self, req: &HttpRequest, scope: Scope) -> Result<i64, QueryError> {
        let project_id = path_id(req, "project_id")?;
        authenticate(req, &self.state.app_state, project_id, scope).await?;
        Ok(project_id)
    }

    /// The cohort of the path, if the caller may act on its project with `scope`.
    async fn cohort(&self, req: &HttpRequest, scope: Scope) -> Result<Cohort, QueryError> {
        let project_id = self.project(req, scope).await?;
        let id = path_id(req, "cohort_id")?;
        self.state
            .app_state
            .cohort(project_id, id)
            .await?
            .ok_or_else(|| QueryError::NotFound(format!("cohort {id}")))
    }

    /// Parses a body and checks its definition builds (filters, names, numbers).
    fn checked(&self, project_id: i64, body: &[u8]) -> Result<CohortRequest, QueryError> {
        let request = CohortRequest::parse(body)?;
        if let Some(definition) = &request.definition {
            let builder = Builder { project: project_id as u64, now_ms: 0, limits: self.runner.limits() };
            builder.persons(definition, "definition")?;
        }
        if request.name.trim().is_empty() || request.name.chars().count() > 200 {
            return Err(QueryError::bad("name", "a cohort name has 1 to 200 characters"));
        }
        Ok(request)
    }
}

/// The refusals every cohort route documents (one definition instead of one per route).
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // only describes responses for the OpenAPI document
enum CohortRefusals {
    /// Bad input; `field` names it
    #[response(status = 400)]
    BadRequest(#[to_schema] crate::error::ErrorBody<'static>),
    /// No, malformed or unknown key
    #[response(status = 401)]
    Unauthenticated(#[to_schema] crate::error::ErrorBody<'static>),
    /// A write key, another project's key or a missing scope
    #[response(status = 403)]
    Forbidden(#[to_schema] crate::error::ErrorBody<'static>),
    /// No such cohort in this project
    #[response(status = 404)]
    NotFound(#[to_schema] crate::error::ErrorBody<'static>),
}

#[utoipa::path(
    get,
    path = "/api/projects/{project_id}/cohorts",
    tag = "cohorts",
    description = "The project's cohorts (`read`).",
    params(("project_id" = i64, Path, description = "The project")),
    responses(
        (status = 200, body = Vec<CohortView>),
        CohortRefusals,
    ),
    security(("secret_key" = []))
)]
async fn list(req: HttpRequest, h: web::Data<CohortHandlers>) -> Result<HttpResponse, QueryError> {
    let project_id = h.project(&req, Scope::Read).await?;
    let cohorts = h.state.app_state.cohorts(project_id).await?;
    Ok(HttpResponse::Ok().json(cohorts.iter().map(CohortView::from_stored).collect::<Vec<_>>()))
}

#[utoipa::path(
    post,
    path = "/api/projects/{project_id}/cohorts",
    tag = "cohorts",
    description = "Creates a cohort (`write`).",
    params(("project_id" = i64, Path, description = "The project")),
    request_body = CohortRequest,
    responses(
        (status = 201, body = CohortView),
        CohortRefusals,
    ),
    security(("secret_key" = []))
)]
async fn create(
    req: HttpRequest,
    body: web::Bytes,
    h: web::Data<CohortHandlers>,
) -> Result<HttpResponse, QueryError> {
    let project_id = h.project(&req, Scope::Write).await?;
    let request = h.checked(project_id, &body)?;
    let cohort = h.state.app_state.create_cohort(project_id, &request.to_input()).await?;
    Ok(HttpResponse::Created().json(CohortView::from_stored(&cohort)))
}

#[utoipa::path(
    get,
    path = "/api/projects/{project_id}/cohorts/{cohort_id}",
    tag = "cohorts",
    description = "One cohort (`read`).",
    params(("project_id" = i64, Path, description = "The project"), ("cohort_id" = i64, Path, description = "The cohort")),
    responses(
        (status = 200, body = CohortView),
        CohortRefusals,
    ),
    security(("secret_key" = []))
)]
async fn get(req: HttpRequest, h: web::Data<CohortHandlers>) -> Result<HttpResponse, QueryError> {
    let cohort = h.cohort(&req, Scope::Read).await?;
    Ok(HttpResponse::Ok().json(CohortView::from_stored(&cohort)))
}

#[utoipa::path(
    put,
    path = "/api/projects/{project_id}/cohorts/{cohort_id}",
    tag = "cohorts",
    description = "Replaces name, description and definition; the kind stays (`write`).",
    params(("project_id" = i64, Path, description = "The project"), ("cohort_id" = i64, Path, description = "The cohort")),
    request_body = CohortRequest,
    responses(
        (status = 200, body = CohortView),
        CohortRefusals,
    ),
    security(("secret_key" = []))
)]
async fn update(
    req: HttpRequest,
    body: web::Bytes,
    h: web::Data<CohortHandlers>,
) -> Result<HttpResponse, QueryError> {
    let cohort = h.cohort(&req, Scope::Write).await?;
    let request = h.checked(cohort.project_id, &body)?;
    if request.is_static != cohort.is_static {
        return Err(QueryError::bad("is_static", "a cohort's kind cannot change"));
    }
    let updated = h
        .state
        .app_state
        .update_cohort(cohort.project_id, cohort.id, &request.to_input())
        .await?
        .ok_or_else(|| QueryError::NotFound(format!("cohort {}", cohort.id)))?;
    Ok(HttpResponse::Ok().json(CohortView::from_stored(&updated)))
}

#[utoipa::path(
    delete,
    path = "/api/projects/{project_id}/cohorts/{cohort_id}",
    tag = "cohorts",
    description = "Deletes a cohort (`write`).",
    params(("project_id" = i64, Path, description = "The project"), ("cohort_id" = i64, Path, description = "The cohort")),
    responses(
        (status = 204, description = "Deleted"),
        CohortRefusals,
    ),
    security(("secret_key" = []))
)]
async fn delete(req: HttpRequest, h: web::Data<CohortHandlers>) -> Result<HttpResponse, QueryError> {
    let cohort = h.cohort(&req, Scope::Write).await?;
    h.state.app_state.delete_cohort(cohort.project_id, cohort.id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    post,
    path = "/api/projects/{project_id}/cohorts/{cohort_id}/upload",
    tag = "cohorts",
    description = "Replaces a static cohort's members with a CSV of distinct ids, one per line, optional header `distinct_id` (`write`).",
    params(("project_id" = i64, Path, description = "The project"), ("cohort_id" = i64, Path, description = "The cohort")),
    request_body(content = String, content_type = "text/csv"),
    responses(
        (status = 200, body = CohortView),
        CohortRefusals,
    ),
    security(("secret_key" = []))
)]
async fn upload_csv(
    req: HttpRequest,
    body: web::Bytes,
    h: web::Data<CohortHandlers>,
) -> Result<HttpResponse, QueryError> {
    let cohort = h.cohort(&req, Scope::Write).await?;
    if !cohort.is_static {
        return Err(QueryError::bad("cohort_id", "only static cohorts take an upload"));
    }
    let ids = upload::parse(&body)?;
    refresh::upload(&h.runner, &h.state.app_state, &cohort, &ids).await?;
    let cohort = h.cohort(&req, Scope::Write).await?;
    Ok(HttpResponse::Ok().json(CohortView::from_stored(&cohort)))
}

#[utoipa::path(
    post,
    path = "/api/projects/{project_id}/cohorts/{cohort_id}/refresh",
    tag = "cohorts",
    description = "Recomputes the members now (`write`).",
    params(("project_id" = i64, Path, description = "The project"), ("cohort_id" = i64, Path, description = "The cohort")),
    responses(
        (status = 200, body = CohortView),
        CohortRefusals,
    ),
    security(("secret_key" = []))
)]
async fn refresh_now(req: HttpRequest, h: web::Data<CohortHandlers>) -> Result<HttpResponse, QueryError> {
    let cohort = h.cohort(&req, Scope::Write).await?;
    refresh::refresh(&h.runner, &h.state.app_state, &cohort).await?;
    let cohort = h.cohort(&req, Scope::Write).await?;
    Ok(HttpResponse::Ok().json(CohortView::from_stored(&cohort)))
}

#[utoipa::path(
    get,
    path = "/api/projects/{project_id}/cohorts/{cohort_id}/members.csv",
    tag = "cohorts",
    description = "The current members as CSV (`person_id` header), recomputed first when stale (`read`).",
    params(("project_id" = i64, Path, description = "The project"), ("cohort_id" = i64, Path, description = "The cohort")),
    responses(
        (status = 200, description = "CSV", content_type = "text/csv", body = String),
        CohortRefusals,
    ),
    security(("secret_key" = []))
)]
async fn members_csv(req: HttpRequest, h: web::Data<CohortHandlers>) -> Result<HttpResponse, QueryError> {
    let cohort = h.cohort(&req, Scope::Read).await?;
    refresh::ensure_fresh(&h.runner, &h.state.app_state, &cohort, STALE_AFTER_MS).await?;
    let members = refresh::members(&h.runner, cohort.project_id as u64, cohort.id as u64).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"cohort-{}-members.csv\"", cohort.id),
        ))
        .body(upload::to_csv(&members)))
}

#[utoipa::path(
    get,
    path = "/api/projects/{project_id}/cohorts/{cohort_id}/sizes",
    tag = "cohorts",
    description = "The size at each refresh (`read`).",
    params(("project_id" = i64, Path, description = "The project"), ("cohort_id" = i64, Path, description = "The cohort")),
    responses(
        (status = 200, body = SizesAnswer),
        CohortRefusals,
    ),
    security(("secret_key" = []))
)]
async fn sizes(req: HttpRequest, h: web::Data<CohortHandlers>) -> Result<HttpResponse, QueryError> {
    let cohort = h.cohort(&req, Scope::Read).await?;
    let sizes = h.state.app_state.cohort_sizes(cohort.id).await?;
    let sizes = sizes.into_iter().map(|s| SizePoint { at_ms: s.at_ms, size: s.size }).collect();
    Ok(HttpResponse::Ok().json(SizesAnswer { cohort_id: cohort.id, sizes }))
}
