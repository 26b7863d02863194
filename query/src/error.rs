//! The query service's error codes and how each maps to an HTTP status.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use numu_appstate::Denied;
use serde::Serialize;

/// Stable, machine-readable error codes of the query API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    BadRequest,
    NotFound,
    Warehouse,
    Internal,
}

impl ErrorCode {
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::Warehouse => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("{0}")]
    Denied(#[from] Denied),
    #[error("invalid `{field}`: {message}")]
    BadRequest { field: String, message: String },
    #[error("project {0} not found")]
    ProjectNotFound(i64),
    #[error("warehouse: {0}")]
    Warehouse(#[from] numu_warehouse::WarehouseError),
    #[error("application state: {0}")]
    AppState(#[from] numu_appstate::AppStateError),
    #[error("internal: {0}")]
    Internal(String),
}

impl QueryError {
    pub fn bad(field: &str, message: impl Into<String>) -> QueryError {
        QueryError::BadRequest { field: field.to_string(), message: message.into() }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            QueryError::Denied(d) if d.is_unauthenticated() => ErrorCode::Unauthenticated,
            QueryError::Denied(_) => ErrorCode::Forbidden,
            QueryError::BadRequest { .. } => ErrorCode::BadRequest,
            QueryError::ProjectNotFound(_) => ErrorCode::NotFound,
            QueryError::Warehouse(_) => ErrorCode::Warehouse,
            QueryError::AppState(_) | QueryError::Internal(_) => ErrorCode::Internal,
        }
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: String,
    code: ErrorCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ResponseError for QueryError {
    fn status_code(&self) -> StatusCode {
        self.code().status()
    }

    fn error_response(&self) -> HttpResponse {
        if matches!(self.code(), ErrorCode::Internal | ErrorCode::Warehouse) {
            tracing::error!(error = %self, "query failed");
        }
        let field = match self {
            QueryError::BadRequest { field, .. } => Some(field.as_str()),
            _ => None,
        };
        HttpResponse::build(self.status_code()).json(ErrorBody {
            error: self.to_string(),
            code: self.code(),
            field,
        })
    }
}
