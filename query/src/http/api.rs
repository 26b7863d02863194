//! Request and answer envelopes of the query API. The questions and answers themselves are
//! the analyses' types; the OpenAPI document is generated from these same types.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::error::QueryError;
use crate::funnels::{FunnelAnswer, FunnelQuery};
use crate::paths::{PathsAnswer, PathsQuery};
use crate::people::{PersonAnswer, PersonQuery, PersonsAnswer, PersonsQuery};
use crate::retention::{RetentionAnswer, RetentionQuery};
use crate::trends::{TrendsAnswer, TrendsQuery};
use crate::web::{WebAnswer, WebQuery};

/// The body of `POST /api/projects/{project_id}/query`: a question of one `kind`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum QueryRequest {
    /// Series of events over time.
    Trends(TrendsQuery),
    /// Plausible-style site figures and reports.
    WebAnalytics(WebQuery),
    /// Search persons.
    Persons(PersonsQuery),
    /// One person's profile and timeline.
    Person(PersonQuery),
    /// Conversion through ordered steps (`view`: steps, time to convert, trends, persons).
    Funnel(FunnelQuery),
    /// The most common paths after a start or before an end, as a Sankey chart.
    Paths(PathsQuery),
    /// Cohorts by the period of a start event and how many return in each later period.
    Retention(RetentionQuery),
}

/// The answer, tagged with the question's `kind`.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum QueryAnswer {
    Trends(TrendsAnswer),
    WebAnalytics(Box<WebAnswer>),
    Persons(PersonsAnswer),
    Person(PersonAnswer),
    Funnel(Box<FunnelAnswer>),
    Paths(PathsAnswer),
    Retention(RetentionAnswer),
}

/// `GET /api/projects/{project_id}/events`.
#[derive(Serialize, ToSchema)]
pub struct EventsAnswer {
    pub project_id: i64,
    /// Matching events (all pages).
    pub count: u64,
    /// Distinct message ids among them: equal to `count` when nothing is duplicated.
    pub unique_message_ids: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub events: Option<Vec<Map<String, Value>>>,
}

impl QueryRequest {
    /// Parses a body, naming the offending field of a bad one (`series[0].math`).
    pub fn parse(body: &[u8]) -> Result<QueryRequest, QueryError> {
        let value: Value =
            serde_json::from_slice(body).map_err(|e| QueryError::bad("body", format!("not JSON: {e}")))?;
        let Value::Object(mut object) = value else {
            return Err(QueryError::bad("body", "expected a JSON object with a `kind`"));
        };
        let kind = object.remove("kind");
        let fields = Value::Object(object);
        match kind.as_ref().and_then(Value::as_str) {
            Some("trends") => typed(fields).map(QueryRequest::Trends),
            Some("web_analytics") => typed(fields).map(QueryRequest::WebAnalytics),
            Some("persons") => typed(fields).map(QueryRequest::Persons),
            Some("person") => typed(fields).map(QueryRequest::Person),
            Some("funnel") => typed(fields).map(QueryRequest::Funnel),
            Some("paths") => typed(fields).map(QueryRequest::Paths),
            Some("retention") => typed(fields).map(QueryRequest::Retention),
            _ => Err(QueryError::bad(
                "kind",
                "one of `trends`, `web_analytics`, `persons`, `person`, `funnel`, `paths`, `retention`",
            )),
        }
    }
}

fn typed<T: DeserializeOwned>(fields: Value) -> Result<T, QueryError> {
    serde_path_to_error::deserialize(fields).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "body".to_string() } else { path };
        QueryError::bad(&field, e.into_inner().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(body: &str) -> String {
        match QueryRequest::parse(body.as_bytes()) {
            Err(QueryError::BadRequest { field, .. }) => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bodies_parse_by_kind_and_errors_name_the_field() {
        let body = r#"{"kind": "trends", "date_range": {"from": "-7d"}, "series": [{"event": "$pageview"}]}"#;
        assert!(matches!(QueryRequest::parse(body.as_bytes()), Ok(QueryRequest::Trends(_))));
        assert_eq!(field_of(r#"{"kind": "nope"}"#), "kind");
        assert_eq!(field_of(r#"{"date_range": {}}"#), "kind");
        assert_eq!(field_of("[1]"), "body");
        assert_eq!(field_of("{"), "body");
        assert_eq!(
            field_of(r#"{"kind": "trends", "date_range": {"from": "-7d"}, "series": [{"math": "median"}]}"#),
            "series[0].math"
        );
        assert_eq!(
            field_of(r#"{"kind": "trends", "date_range": {"from": "-7d"}, "series": [], "typo": 1}"#),
            "typo"
        );
        assert_eq!(
            field_of(
                r#"{"kind": "web_analytics", "date_range": {"from": "-7d"}, "filters": [{"property": "x", "operator": "bogus"}]}"#
            ),
            "filters[0].operator"
        );
    }
}
