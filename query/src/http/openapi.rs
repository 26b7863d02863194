//! The OpenAPI 3 document, generated from the request and answer types and the handlers'
//! annotations, so it cannot drift from what the routes accept.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Numu query API",
        description = "Questions over a project's events: trends, web analytics and people. \
            Authenticate with a secret API key (`Authorization: Bearer nsk_…`) of the project in the path."
    ),
    paths(
        super::run_query,
        super::list_events,
        super::openapi_json,
        crate::cohorts::routes::list,
        crate::cohorts::routes::create,
        crate::cohorts::routes::get,
        crate::cohorts::routes::update,
        crate::cohorts::routes::delete,
        crate::cohorts::routes::upload_csv,
        crate::cohorts::routes::refresh_now,
        crate::cohorts::routes::members_csv,
        crate::cohorts::routes::sizes
    ),
    components(schemas(super::api::QueryRequest, super::api::QueryAnswer, crate::error::ErrorBody, crate::error::ErrorCode)),
    modifiers(&SecretKey),
    tags((name = "query", description = "Analyses"), (name = "cohorts", description = "Saved cohorts"), (name = "meta", description = "This document"))
)]
struct ApiDoc;

struct SecretKey;

impl Modify for SecretKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("nsk_…").build();
        components.add_security_scheme("secret_key", SecurityScheme::Http(scheme));
    }
}

/// The document as served at `/api/openapi.json`.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_describes_every_kind_and_route() {
        let json = serde_json::to_value(document()).unwrap();
        assert!(json["openapi"].as_str().unwrap().starts_with("3."));
        for path in [
            "/api/projects/{project_id}/query",
            "/api/projects/{project_id}/events",
            "/api/openapi.json",
            "/api/projects/{project_id}/cohorts/{cohort_id}/members.csv",
        ] {
            assert!(json["paths"].get(path).is_some(), "{path}");
        }
        let schemas = &json["components"]["schemas"];
        for name in [
            "QueryRequest",
            "QueryAnswer",
            "TrendsQuery",
            "WebQuery",
            "PersonsQuery",
            "PersonQuery",
            "PropertyFilter",
            "Operator",
            "TrendsAnswer",
            "WebAnswer",
            "ErrorBody",
            "RetentionQuery",
            "RetentionAnswer",
            "CohortRequest",
            "CohortView",
        ] {
            assert!(schemas.get(name).is_some(), "schema {name}");
        }
        let maths = schemas["Math"]["enum"].as_array().unwrap();
        assert!(maths.iter().any(|m| m == "p99"));
        assert!(json["components"]["securitySchemes"].get("secret_key").is_some());
    }
}

#[cfg(test)]
mod refusal_tests {
    #[test]
    fn cohort_routes_document_every_refusal() {
        let doc = serde_json::to_value(super::document()).unwrap();
        let responses =
            &doc["paths"]["/api/projects/{project_id}/cohorts/{cohort_id}/refresh"]["post"]["responses"];
        for status in ["200", "400", "401", "403", "404"] {
            assert!(responses.get(status).is_some(), "{status} missing: {responses}");
        }
        assert_eq!(responses["404"]["description"], "No such cohort in this project");
    }
}
