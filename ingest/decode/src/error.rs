//! The decoders' one error type: what is wrong with the data sent. Each variant has a
//! stable machine-readable code; the HTTP status is chosen by the front half.

/// Why a body, or one event in it, could not be decoded or failed validation.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum DecodeError {
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
}

impl DecodeError {
    /// The stable code sent to clients and stored as a dead letter's `reason`.
    pub fn code(&self) -> &'static str {
        match self {
            DecodeError::EventTooLarge { .. } => "event_too_large",
            DecodeError::DecompressedTooLarge { .. } => "decompressed_too_large",
            DecodeError::InvalidGzip(_) => "invalid_gzip",
            DecodeError::UnsupportedEncoding(_) => "unsupported_encoding",
            DecodeError::InvalidUtf8 { .. } => "invalid_utf8",
            DecodeError::InvalidJson(_) => "invalid_json",
            DecodeError::WrongType { .. } => "wrong_type",
            DecodeError::MissingField(_) => "missing_field",
            DecodeError::InvalidValue { .. } => "invalid_value",
        }
    }
}
