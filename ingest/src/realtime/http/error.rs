//! The real-time endpoints' errors and their HTTP statuses; JSON bodies shaped like the
//! query service's (`{"error": …, "code": …}`).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use numu_appstate::Denied;
use serde::Serialize;

/// Stable, machine-readable error codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    BadRequest,
    TooManyStreams,
    Internal,
}

impl ErrorCode {
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
            ErrorCode::TooManyStreams => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RealtimeError {
    #[error("{0}")]
    Denied(#[from] Denied),
    #[error(
        "API keys are not accepted in URLs (they end up in logs and browser history): send \
         `Authorization: Bearer <secret key>`, or sign in to the dashboard"
    )]
    KeyInUrl,
    #[error("invalid `{field}`: {message}")]
    BadRequest { field: &'static str, message: String },
    #[error(
        "project {project_id} already has {limit} real-time streams open; close one \
         (another tab?) or raise realtime.max_streams_per_project"
    )]
    TooManyStreams { project_id: u64, limit: usize },
    #[error("application state: {0}")]
    AppState(#[from] numu_appstate::AppStateError),
}

impl RealtimeError {
    pub fn bad(field: &'static str, message: impl Into<String>) -> RealtimeError {
        RealtimeError::BadRequest { field, message: message.into() }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            RealtimeError::Denied(d) if d.is_unauthenticated() => ErrorCode::Unauthenticated,
            RealtimeError::KeyInUrl => ErrorCode::Unauthenticated,
            RealtimeError::Denied(_) => ErrorCode::Forbidden,
            RealtimeError::BadRequest { .. } => ErrorCode::BadRequest,
            RealtimeError::TooManyStreams { .. } => ErrorCode::TooManyStreams,
            RealtimeError::AppState(_) => ErrorCode::Internal,
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

impl ResponseError for RealtimeError {
    fn status_code(&self) -> StatusCode {
        self.code().status()
    }

    fn error_response(&self) -> HttpResponse {
        if self.code() == ErrorCode::Internal {
            tracing::error!(error = %self, "realtime request failed");
        }
        let field = match self {
            RealtimeError::BadRequest { field, .. } => Some(*field),
            _ => None,
        };
        HttpResponse::build(self.status_code()).json(ErrorBody {
            error: self.to_string(),
            code: self.code(),
            field,
        })
    }
}
