//! HTTP answers: the status of each error, JSON error bodies, CORS headers, the pixel.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, HttpResponseBuilder};
use numu_appstate::Project;
use numu_ingest_decode::DecodeError;

use crate::front::FrontError;

/// The HTTP status of an error.
pub fn status_of(error: &FrontError) -> StatusCode {
    match error {
        FrontError::MissingWriteKey | FrontError::UnknownWriteKey => StatusCode::UNAUTHORIZED,
        FrontError::DisabledWriteKey | FrontError::OriginNotAllowed(_) => StatusCode::FORBIDDEN,
        FrontError::PayloadTooLarge { .. }
        | FrontError::Decode(DecodeError::EventTooLarge { .. } | DecodeError::DecompressedTooLarge { .. }) => {
            StatusCode::PAYLOAD_TOO_LARGE
        }
        FrontError::Decode(DecodeError::UnsupportedEncoding(_)) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        FrontError::Decode(
            DecodeError::InvalidGzip(_)
            | DecodeError::InvalidUtf8 { .. }
            | DecodeError::InvalidJson(_)
            | DecodeError::WrongType { .. }
            | DecodeError::MissingField(_)
            | DecodeError::InvalidValue { .. },
        )
        | FrontError::SchemaViolation { .. } => StatusCode::BAD_REQUEST,
        FrontError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
        FrontError::Full { .. } | FrontError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        FrontError::Internal(_) | FrontError::Config(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// `{"error": "...", "code": "..."}` with the error's status and the headers it needs.
pub fn error_response(error: &FrontError) -> HttpResponseBuilder {
    let mut builder = HttpResponse::build(status_of(error));
    match error {
        FrontError::Full { retry_after_secs } => {
            builder.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        FrontError::Unavailable(_) => {
            builder.insert_header((header::RETRY_AFTER, "5"));
        }
        FrontError::MethodNotAllowed { allowed, .. } => {
            builder.insert_header((header::ALLOW, *allowed));
        }
        _ => {}
    }
    builder
}

/// The error answered as JSON.
pub fn error_json(error: &FrontError) -> HttpResponse {
    error_response(error).json(serde_json::json!({ "error": error.to_string(), "code": error.code() }))
}

/// Whether `origin` may send events to `project` (an empty list allows any origin).
/// Entries are full origins (`https://shop.example`), bare hosts, or `*`.
pub fn origin_allowed(project: &Project, origin: &str) -> bool {
    if project.allowed_origins.is_empty() {
        return true;
    }
    let host = origin.split_once("://").map_or(origin, |(_, h)| h);
    project.allowed_origins.iter().map(|o| o.trim().trim_end_matches('/')).any(|allowed| {
        allowed == "*" || allowed.eq_ignore_ascii_case(origin) || allowed.eq_ignore_ascii_case(host)
    })
}

/// Adds CORS headers to a snippet response (`/e`). Every answer, success or error, gets
/// `Access-Control-Allow-Origin: *` (sdk-js/PROTOCOL.md): no credentials are ever sent,
/// and the snippet must read the status to know whether to retry — a page on a foreign
/// origin then sees its 403 and stops. Allowed origins are enforced by refusing the data
/// and by the preflight, not by hiding the answer.
pub fn add_cors(response: &mut HttpResponse) {
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("Retry-After"));
}

/// The preflight answer for an allowed origin: that origin echoed, methods and headers.
pub fn add_preflight(response: &mut HttpResponse, origin: Option<&str>) {
    let headers = response.headers_mut();
    let allow = origin.and_then(|o| HeaderValue::from_str(o).ok()).unwrap_or(HeaderValue::from_static("*"));
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow);
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("POST, OPTIONS"));
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Content-Type, Content-Encoding"),
    );
    headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
}

/// A transparent 1×1 GIF (43 bytes).
pub const PIXEL_GIF: [u8; 43] = [
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff,
    0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
    0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

/// The pixel, never cached (every open must reach us).
pub fn gif() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("image/gif")
        .insert_header((header::CACHE_CONTROL, "no-cache, no-store, must-revalidate, private, max-age=0"))
        .insert_header((header::PRAGMA, "no-cache"))
        .insert_header((header::EXPIRES, "0"))
        .body(PIXEL_GIF.as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(origins: &[&str]) -> Project {
        Project {
            id: 1,
            name: "p".into(),
            write_key: "nw_x".into(),
            write_key_disabled: false,
            allowed_origins: origins.iter().map(|o| o.to_string()).collect(),
            created_at: String::new(),
        }
    }

    #[test]
    fn allowed_origins_are_matched() {
        assert!(origin_allowed(&project(&[]), "https://any.example"));
        let shop = project(&["https://shop.example/", "blog.example"]);
        assert!(origin_allowed(&shop, "https://shop.example"));
        assert!(origin_allowed(&shop, "https://SHOP.example"));
        assert!(origin_allowed(&shop, "http://blog.example"));
        assert!(!origin_allowed(&shop, "https://evil.example"));
        assert!(!origin_allowed(&shop, "http://shop.example"), "the scheme is part of a full origin");
        assert!(origin_allowed(&project(&["*"]), "https://x.example"));
        let mut response = HttpResponse::Ok().finish();
        add_cors(&mut response);
        assert_eq!(response.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN).unwrap(), "*");
        assert_eq!(response.headers().get(header::ACCESS_CONTROL_EXPOSE_HEADERS).unwrap(), "Retry-After");
    }

    #[test]
    fn statuses_follow_the_contract() {
        assert_eq!(status_of(&FrontError::UnknownWriteKey), StatusCode::UNAUTHORIZED);
        assert_eq!(status_of(&FrontError::DisabledWriteKey), StatusCode::FORBIDDEN);
        assert_eq!(
            status_of(&DecodeError::EventTooLarge { size: 2, limit: 1 }.into()),
            StatusCode::PAYLOAD_TOO_LARGE
        );
        assert_eq!(status_of(&DecodeError::MissingField("x".into()).into()), StatusCode::BAD_REQUEST);
        let full = error_json(&FrontError::Full { retry_after_secs: 3 });
        assert_eq!(full.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(full.headers().get(header::RETRY_AFTER).unwrap(), "3");
    }
}
