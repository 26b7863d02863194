//! The front half's one error type. Each variant has a stable machine-readable code; the
//! HTTP status is chosen in `http::respond`, not here, so decoders stay free of HTTP.

/// Why a request or one event in it was refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum FrontError {
    #[error(
        "missing write key: send it as the HTTP Basic auth user, as `writeKey` in the body, or as `?k=`"
    )]
    MissingWriteKey,
    #[error("unknown write key")]
    UnknownWriteKey,
    #[error("this project's write key is disabled")]
    DisabledWriteKey,
    #[error("origin `{0}` is not allowed to send events to this project")]
    OriginNotAllowed(String),
    #[error("request body exceeds the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("event is {size} bytes; the limit is {limit} bytes")]
    EventTooLarge { size: usize, limit: usize },
    #[error("gzip body decompresses to more than the limit of {limit} bytes")]
    DecompressedTooLarge { limit: usize },
    #[error("invalid gzip body: {0}")]
    InvalidGzip(String),
    #[error("unsupported Content-Encoding `{0}`: send identity or gzip")]
    UnsupportedEncoding(String),
    #[error("body is not valid UTF-8 (first invalid byte at offset {offset})")]
    InvalidUtf8 { offset: usize },
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    #[error("`{field}` has the wrong type: {message}")]
    WrongType { field: String, message: String },
    #[error("missing field `{0}`")]
    MissingField(String),
    #[error("`{field}`: {message}")]
    InvalidValue { field: String, message: String },
    #[error("properties of `{event}` do not match the project's schema: {message}")]
    SchemaViolation { event: String, message: String },
    #[error("method {method} is not allowed here; allowed: {allowed}")]
    MethodNotAllowed { method: String, allowed: &'static str },
    #[error("the collector's log is full; retry after {retry_after_secs} s")]
    Full { retry_after_secs: u64 },
    #[error("the collector cannot accept events right now: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
    #[error("collector configuration: {0}")]
    Config(String),
}

impl FrontError {
    /// The stable code sent to clients and stored as a dead letter's `reason`.
    pub fn code(&self) -> &'static str {
        match self {
            FrontError::MissingWriteKey => "missing_write_key",
            FrontError::UnknownWriteKey => "unknown_write_key",
            FrontError::DisabledWriteKey => "disabled_write_key",
            FrontError::OriginNotAllowed(_) => "origin_not_allowed",
            FrontError::PayloadTooLarge { .. } => "payload_too_large",
            FrontError::EventTooLarge { .. } => "event_too_large",
            FrontError::DecompressedTooLarge { .. } => "decompressed_too_large",
            FrontError::InvalidGzip(_) => "invalid_gzip",
            FrontError::UnsupportedEncoding(_) => "unsupported_encoding",
            FrontError::InvalidUtf8 { .. } => "invalid_utf8",
            FrontError::InvalidJson(_) => "invalid_json",
            FrontError::WrongType { .. } => "wrong_type",
            FrontError::MissingField(_) => "missing_field",
            FrontError::InvalidValue { .. } => "invalid_value",
            FrontError::SchemaViolation { .. } => "schema_violation",
            FrontError::MethodNotAllowed { .. } => "method_not_allowed",
            FrontError::Full { .. } => "log_full",
            FrontError::Unavailable(_) => "unavailable",
            FrontError::Internal(_) => "internal",
            FrontError::Config(_) => "config",
        }
    }

    /// True when the error is about the data sent (a dead letter keeps it), as opposed
    /// to credentials, methods or the collector's own state.
    pub fn is_data(&self) -> bool {
        matches!(
            self,
            FrontError::PayloadTooLarge { .. }
                | FrontError::EventTooLarge { .. }
                | FrontError::DecompressedTooLarge { .. }
                | FrontError::InvalidGzip(_)
                | FrontError::UnsupportedEncoding(_)
                | FrontError::InvalidUtf8 { .. }
                | FrontError::InvalidJson(_)
                | FrontError::WrongType { .. }
                | FrontError::MissingField(_)
                | FrontError::InvalidValue { .. }
                | FrontError::SchemaViolation { .. }
        )
    }

    /// True when the error is about the caller's credentials, not the data: such requests
    /// are counted but never dead-lettered (an unauthenticated flood must not fill storage).
    pub fn is_auth(&self) -> bool {
        matches!(
            self,
            FrontError::MissingWriteKey
                | FrontError::UnknownWriteKey
                | FrontError::DisabledWriteKey
                | FrontError::OriginNotAllowed(_)
        )
    }
}

impl From<crate::SinkError> for FrontError {
    fn from(error: crate::SinkError) -> Self {
        match error {
            crate::SinkError::Full { retry_after_secs } => FrontError::Full { retry_after_secs },
            other => FrontError::Unavailable(other.to_string()),
        }
    }
}
