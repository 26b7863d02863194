//! Errors as a ClickHouse server reports them over HTTP: `Code: N. DB::Exception: … (NAME)
//! (version …)` in the body, the code in `X-ClickHouse-Exception-Code`, and the HTTP status
//! ClickHouse maps that code to.

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::{Response, StatusCode};
use numu_warehouse::WarehouseError;

use crate::Body;

/// ClickHouse error codes the stand-in produces itself.
pub mod codes {
    pub const UNSUPPORTED_METHOD: i32 = 1;
    pub const CANNOT_PARSE_INPUT_ASSERTION_FAILED: i32 = 27;
    pub const CANNOT_READ_ALL_DATA: i32 = 33;
    pub const CHECKSUM_DOESNT_MATCH: i32 = 40;
    pub const SYNTAX_ERROR: i32 = 62;
    pub const NO_SUCH_COLUMN_IN_TABLE: i32 = 16;
    pub const UNKNOWN_FORMAT: i32 = 73;
    pub const UNKNOWN_DATABASE: i32 = 81;
    pub const UNKNOWN_SETTING: i32 = 115;
    pub const TIMEOUT_EXCEEDED: i32 = 159;
    pub const CANNOT_DECOMPRESS: i32 = 271;
    pub const UNKNOWN_QUERY_PARAMETER: i32 = 456;
    pub const BAD_QUERY_PARAMETER: i32 = 457;
    pub const AUTHENTICATION_FAILED: i32 = 516;
    pub const STD_EXCEPTION: i32 = 1001;
}

/// A ClickHouse exception: its code and its message (without the `Code:` prefix).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exception {
    pub code: i32,
    pub message: String,
}

impl Exception {
    pub fn new(code: i32, message: impl Into<String>) -> Exception {
        Exception { code, message: message.into() }
    }

    /// The symbolic name ClickHouse appends in parentheses, for the codes produced here.
    fn name(&self) -> Option<&'static str> {
        use codes::*;
        Some(match self.code {
            UNSUPPORTED_METHOD => "UNSUPPORTED_METHOD",
            CANNOT_PARSE_INPUT_ASSERTION_FAILED => "CANNOT_PARSE_INPUT_ASSERTION_FAILED",
            CANNOT_READ_ALL_DATA => "CANNOT_READ_ALL_DATA",
            CHECKSUM_DOESNT_MATCH => "CHECKSUM_DOESNT_MATCH",
            SYNTAX_ERROR => "SYNTAX_ERROR",
            NO_SUCH_COLUMN_IN_TABLE => "NO_SUCH_COLUMN_IN_TABLE",
            UNKNOWN_FORMAT => "UNKNOWN_FORMAT",
            UNKNOWN_DATABASE => "UNKNOWN_DATABASE",
            UNKNOWN_SETTING => "UNKNOWN_SETTING",
            TIMEOUT_EXCEEDED => "TIMEOUT_EXCEEDED",
            CANNOT_DECOMPRESS => "CANNOT_DECOMPRESS",
            UNKNOWN_QUERY_PARAMETER => "UNKNOWN_QUERY_PARAMETER",
            BAD_QUERY_PARAMETER => "BAD_QUERY_PARAMETER",
            AUTHENTICATION_FAILED => "AUTHENTICATION_FAILED",
            STD_EXCEPTION => "STD_EXCEPTION",
            _ => return None,
        })
    }

    /// The text ClickHouse writes: `Code: N. DB::Exception: message. (NAME) (version V)`.
    pub fn text(&self, version: &str) -> String {
        let mut text = format!("Code: {}. DB::Exception: {}", self.code, self.message);
        if let Some(name) = self.name().filter(|n| !self.message.contains(&format!("({n})"))) {
            text.push_str(&format!(" ({name})"));
        }
        text.push_str(&format!(" (version {version} (numu-standin over chDB))"));
        text
    }

    /// The HTTP status ClickHouse answers this code with.
    pub fn status(&self) -> StatusCode {
        match self.code {
            192..=194 | codes::AUTHENTICATION_FAILED => StatusCode::FORBIDDEN,
            codes::SYNTAX_ERROR
            | codes::CANNOT_PARSE_INPUT_ASSERTION_FAILED
            | codes::UNKNOWN_QUERY_PARAMETER
            | codes::BAD_QUERY_PARAMETER
            | codes::CANNOT_DECOMPRESS
            | codes::CHECKSUM_DOESNT_MATCH => StatusCode::BAD_REQUEST,
            // UNKNOWN_TABLE, UNKNOWN_IDENTIFIER, UNKNOWN_FUNCTION, UNKNOWN_TYPE, …
            codes::NO_SUCH_COLUMN_IN_TABLE
            | 46
            | 47
            | 50
            | 60
            | codes::UNKNOWN_FORMAT
            | codes::UNKNOWN_DATABASE
            | codes::UNKNOWN_SETTING => StatusCode::NOT_FOUND,
            codes::UNSUPPORTED_METHOD => StatusCode::NOT_IMPLEMENTED,
            codes::TIMEOUT_EXCEEDED => StatusCode::REQUEST_TIMEOUT,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The whole error response.
    pub fn response(&self, version: &str) -> Response<Body> {
        let body = format!("{}\n", self.text(version));
        let mut response = Response::new(
            http_body_util::Full::new(Bytes::from(body)).map_err(|e| match e {}).boxed_unsync(),
        );
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        headers.insert("Content-Type", hyper::header::HeaderValue::from_static("text/plain; charset=UTF-8"));
        if let Ok(code) = hyper::header::HeaderValue::from_str(&self.code.to_string()) {
            headers.insert("X-ClickHouse-Exception-Code", code);
        }
        response
    }
}

impl From<WarehouseError> for Exception {
    fn from(error: WarehouseError) -> Exception {
        match error {
            WarehouseError::Sql { code, message } => {
                // The embedded engine's message may already carry ClickHouse's prefix.
                let message = match numu_warehouse::remote::parse_exception(&message) {
                    Some((_, inner)) => inner,
                    None => message,
                };
                Exception::new(code.unwrap_or(codes::STD_EXCEPTION), message)
            }
            WarehouseError::Timeout(limit) => Exception::new(
                codes::TIMEOUT_EXCEEDED,
                format!("Timeout exceeded: maximum: {}", limit.as_secs_f64()),
            ),
            WarehouseError::InvalidIdentifier(name) => {
                Exception::new(codes::SYNTAX_ERROR, format!("Invalid identifier {name:?}"))
            }
            other => Exception::new(codes::STD_EXCEPTION, other.to_string()),
        }
    }
}

impl From<arrow_schema::ArrowError> for Exception {
    fn from(error: arrow_schema::ArrowError) -> Exception {
        Exception::new(codes::CANNOT_PARSE_INPUT_ASSERTION_FAILED, format!("Arrow: {error}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_status_follow_clickhouse() {
        let e = Exception::new(
            codes::AUTHENTICATION_FAILED,
            "numu: Authentication failed: password is incorrect",
        );
        assert_eq!(
            e.text("26.9.1"),
            "Code: 516. DB::Exception: numu: Authentication failed: password is incorrect (AUTHENTICATION_FAILED) \
             (version 26.9.1 (numu-standin over chDB))"
        );
        assert_eq!(e.status(), StatusCode::FORBIDDEN);
        let e = Exception::new(60, "Unknown table expression identifier 'x'. (UNKNOWN_TABLE)");
        assert!(!e.text("1").contains("(UNKNOWN_TABLE) (UNKNOWN_TABLE)"));
        assert_eq!(e.status(), StatusCode::NOT_FOUND);
    }
}
