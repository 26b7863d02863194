//! The front half's one error type. Each variant has a stable machine-readable code; the
//! HTTP status is chosen in `http::respond`, not here, so decoders stay free of HTTP.

use numu_ingest_decode::DecodeError;

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
    /// Data the decoders or validation refused (`numu-ingest-decode`); its message and
    /// code are the decoder's.
    #[error(transparent)]
    Decode(#[from] DecodeError),
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
            FrontError::Decode(error) => error.code(),
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
            FrontError::PayloadTooLarge { .. } | FrontError::Decode(_) | FrontError::SchemaViolation { .. }
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
