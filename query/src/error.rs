//! The query service's error codes and how each maps to an HTTP status.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use numu_appstate::Denied;
use serde::Serialize;
use utoipa::ToSchema;

/// Stable, machine-readable error codes of the query API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    BadRequest,
    NotFound,
    /// The query needs more time, memory or rows than the configured limits allow.
    LimitExceeded,
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
            ErrorCode::LimitExceeded => StatusCode::UNPROCESSABLE_ENTITY,
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
    #[error("{0} not found")]
    NotFound(String),
    /// The engine stopped the query at a configured limit (time, memory, result rows).
    #[error("query refused: it exceeds the {limit} limit ({detail}); narrow the date range, add filters or lower the row count")]
    LimitExceeded { limit: &'static str, detail: String },
    #[error("warehouse: {0}")]
    Warehouse(#[from] numu_warehouse::WarehouseError),
    #[error("application state: {0}")]
    AppState(#[from] numu_appstate::AppStateError),
    #[error("internal: {0}")]
    Internal(String),
    /// A state-changing request signed in by cookie without its session's CSRF token.
    #[error("missing or wrong CSRF token: send the session's token in the `X-CSRF-Token` header")]
    Csrf,
}

impl QueryError {
    pub fn bad(field: &str, message: impl Into<String>) -> QueryError {
        QueryError::BadRequest { field: field.to_string(), message: message.into() }
    }

    /// A warehouse error, with the engine's limit and regex errors told apart: a query stopped
    /// at a configured limit is the caller's to narrow, not an outage.
    pub fn from_warehouse(error: numu_warehouse::WarehouseError) -> QueryError {
        use numu_warehouse::WarehouseError;
        let (code, message) = match &error {
            WarehouseError::Timeout(limit) => {
                return QueryError::LimitExceeded { limit: "execution time", detail: format!("{limit:?}") };
            }
            WarehouseError::Sql { code, message } => {
                (code.or_else(|| clickhouse_code(message)), message.clone())
            }
            // An engine error met while reading the result stream arrives through Arrow.
            WarehouseError::Arrow(e) => {
                let message = e.to_string();
                (clickhouse_code(&message), message)
            }
            _ => return QueryError::Warehouse(error),
        };
        let message = message.as_str();
        let detail = message.split(" DB::Exception: ").last().unwrap_or(message);
        let detail = detail.split(". (").next().unwrap_or(detail).to_string();
        match code {
            Some(159) => QueryError::LimitExceeded { limit: "execution time", detail },
            Some(241) => QueryError::LimitExceeded { limit: "memory", detail },
            Some(158 | 396) => QueryError::LimitExceeded { limit: "result rows", detail },
            Some(427) => {
                QueryError::bad("filters", format!("the warehouse refused a regular expression: {detail}"))
            }
            _ => QueryError::Warehouse(error),
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            QueryError::Denied(d) if d.is_unauthenticated() => ErrorCode::Unauthenticated,
            QueryError::Denied(_) | QueryError::Csrf => ErrorCode::Forbidden,
            QueryError::BadRequest { .. } => ErrorCode::BadRequest,
            QueryError::ProjectNotFound(_) | QueryError::NotFound(_) => ErrorCode::NotFound,
            QueryError::LimitExceeded { .. } => ErrorCode::LimitExceeded,
            QueryError::Warehouse(_) => ErrorCode::Warehouse,
            QueryError::AppState(_) | QueryError::Internal(_) => ErrorCode::Internal,
        }
    }
}

/// The `Code: N.` ClickHouse writes into its exception messages.
fn clickhouse_code(message: &str) -> Option<i32> {
    let rest = &message[message.find("Code: ")? + 6..];
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// Every refusal: a message, a stable code and, for bad requests, the offending field
/// (`series[0].property`, `date_range`, `filters[2].value`, …).
#[derive(Serialize, ToSchema)]
pub struct ErrorBody<'a> {
    pub error: String,
    pub code: ErrorCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'a str>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use numu_warehouse::WarehouseError;

    #[test]
    fn engine_limits_become_limit_exceeded() {
        let sql = |m: &str| WarehouseError::Sql { code: None, message: m.into() };
        let timeout =
            sql("[chdb] Code: 159. DB::Exception: Timeout exceeded: elapsed 1002 ms. (TIMEOUT_EXCEEDED)");
        assert!(matches!(
            QueryError::from_warehouse(timeout),
            QueryError::LimitExceeded { limit: "execution time", detail } if detail == "Timeout exceeded: elapsed 1002 ms"
        ));
        let memory = WarehouseError::Sql { code: Some(241), message: "memory".into() };
        assert_eq!(QueryError::from_warehouse(memory).code(), ErrorCode::LimitExceeded);
        let regex = sql("Code: 427. DB::Exception: cannot compile re2");
        assert!(
            matches!(QueryError::from_warehouse(regex), QueryError::BadRequest { field, .. } if field == "filters")
        );
        assert_eq!(QueryError::from_warehouse(sql("Code: 60. no table")).code(), ErrorCode::Warehouse);
        let streamed = WarehouseError::Arrow(arrow_schema::ArrowError::CDataInterface(
            "Producer error: Code: 396. DB::Exception: Limit for result exceeded. (TOO_MANY_ROWS_OR_BYTES)"
                .into(),
        ));
        assert!(matches!(
            QueryError::from_warehouse(streamed),
            QueryError::LimitExceeded { limit: "result rows", .. }
        ));
    }
}
