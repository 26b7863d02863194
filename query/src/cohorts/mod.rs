//! Cohorts: saved sets of persons. Dynamic cohorts have a definition (behavioural, property
//! and funnel-step conditions combined with `and` / `or`, see [`definition`]); static ones an
//! uploaded list of ids ([`upload`]). Members are computed on demand and on a schedule and
//! written to the warehouse table `cohort_members` with a new `version` each time, so a
//! cohort filter (`{"cohort": 7}`) is a subquery with bound values only — ADBC cannot bind
//! lists. Definitions live in the application state (`numu_appstate::Cohort`).
//!
//! `definition` and `upload` are pure; `refresh` does the IO (warehouse and application
//! state) and `routes` is the HTTP surface.

pub mod definition;
pub mod refresh;
pub mod routes;
pub mod upload;

use numu_warehouse::Sql;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::QueryError;
use crate::filter::{Condition, Operator, PropertyFilter};
use crate::property::{Needs, PropertyType};

pub use definition::CohortCondition;
pub use refresh::{refresh_all, RefreshConfig, Refresher};

/// The members of cohort `cohort` at its newest version, as `(project_id, person_id)` pairs.
pub fn members_sql(cohort: u64) -> Sql {
    Sql::new("SELECT project_id, person_id FROM cohort_members WHERE cohort_id = ")
        .bind(cohort)
        .push(
            " AND person_id != '' AND version = (SELECT max(version) FROM cohort_members WHERE cohort_id = ",
        )
        .bind(cohort)
        .push(")")
}

/// The condition of a cohort filter: the event's person is (`in`, default) or is not
/// (`not_in`) a current member. Matching on the project too keeps a cohort of another project
/// from ever matching (the API also refuses such ids).
pub fn filter_condition(filter: &PropertyFilter, cohort: u64, field: &str) -> Result<Condition, QueryError> {
    if !filter.property.is_empty() || filter.value.is_some() || filter.kind != PropertyType::Event {
        return Err(QueryError::bad(field, "a cohort filter has only `cohort` and an optional `operator`"));
    }
    let head = match filter.op() {
        Operator::In | Operator::Equals => "(e.project_id, e.person) IN (",
        Operator::NotIn | Operator::NotEquals => "(e.project_id, e.person) NOT IN (",
        _ => {
            return Err(QueryError::bad(
                &format!("{field}.operator"),
                "a cohort filter takes `in` or `not_in`",
            ))
        }
    };
    let needs = Needs { person: true, ..Needs::default() };
    Ok(Condition { sql: Sql::new(head).append(members_sql(cohort)).push(")"), needs })
}

/// The body of a cohort create or update.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CohortRequest {
    #[schema(example = "Repeat buyers")]
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// A static cohort's members come from `POST …/upload` (no definition).
    #[serde(default)]
    pub is_static: bool,
    /// Required for dynamic cohorts.
    #[serde(default)]
    pub definition: Option<CohortCondition>,
}

/// A cohort as the API shows it.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct CohortView {
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub description: String,
    pub is_static: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub definition: Option<CohortCondition>,
    pub created_at: String,
    pub updated_at: String,
    /// Members at the last refresh (`null`: never computed).
    pub size: Option<i64>,
    pub refreshed_at_ms: Option<i64>,
}

impl CohortView {
    pub fn from_stored(cohort: &numu_appstate::Cohort) -> CohortView {
        CohortView {
            id: cohort.id,
            project_id: cohort.project_id,
            name: cohort.name.clone(),
            description: cohort.description.clone(),
            is_static: cohort.is_static,
            definition: serde_json::from_str(&cohort.definition).ok(),
            created_at: cohort.created_at.clone(),
            updated_at: cohort.updated_at.clone(),
            size: cohort.size,
            refreshed_at_ms: cohort.refreshed_at_ms,
        }
    }
}

impl CohortRequest {
    /// Parses and checks a body; errors name the field (`definition.conditions[0].days`).
    pub fn parse(body: &[u8]) -> Result<CohortRequest, QueryError> {
        let value: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| QueryError::bad("body", format!("not JSON: {e}")))?;
        let request: CohortRequest = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." { "body".to_string() } else { path };
            QueryError::bad(&field, e.into_inner().to_string())
        })?;
        match (&request.definition, request.is_static) {
            (Some(_), true) => Err(QueryError::bad("definition", "a static cohort has no definition")),
            (None, false) => Err(QueryError::bad("definition", "a dynamic cohort needs a definition")),
            (Some(d), false) => {
                d.check("definition")?;
                Ok(request)
            }
            (None, true) => Ok(request),
        }
    }

    pub fn to_input(&self) -> numu_appstate::CohortInput {
        numu_appstate::CohortInput {
            name: self.name.clone(),
            description: self.description.clone(),
            is_static: self.is_static,
            definition: self
                .definition
                .as_ref()
                .map(|d| serde_json::to_string(d).unwrap_or_default())
                .unwrap_or_default(),
        }
    }
}

/// The ids of the cohorts a question's filters use, with the path of each filter, found in
/// its JSON (any `filters` list at any depth).
pub fn referenced(body: &serde_json::Value) -> Vec<(u64, String)> {
    fn walk(value: &serde_json::Value, path: &str, out: &mut Vec<(u64, String)>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, inner) in map {
                    let here = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                    if key == "cohort" {
                        if let Some(id) = inner.as_u64() {
                            out.push((id, path.to_string()));
                        }
                    }
                    walk(inner, &here, out);
                }
            }
            serde_json::Value::Array(items) => {
                for (i, inner) in items.iter().enumerate() {
                    walk(inner, &format!("{path}[{i}]"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(body, "", &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::definition::Builder;
    use super::*;
    use crate::limits::Limits;
    use numu_warehouse::{PlaceholderStyle, Value};

    fn build(json: serde_json::Value) -> Result<(String, Vec<Value>), QueryError> {
        let condition: CohortCondition = serde_json::from_value(json).unwrap();
        condition.check("definition")?;
        let builder = Builder { project: 3, now_ms: 1_700_000_000_000, limits: &Limits::default() };
        Ok(builder.persons(&condition, "definition")?.render(PlaceholderStyle::QuestionMark))
    }

    fn field_of(json: serde_json::Value) -> String {
        match build(json) {
            Err(QueryError::BadRequest { field, .. }) => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn user_values_are_bound_never_spliced() {
        let evil = "x'); DROP TABLE events; --";
        let (text, values) = build(serde_json::json!({"type": "or", "conditions": [
            {"type": "behavioral", "event": evil, "min_count": 2, "days": 7, "did": false},
            {"type": "funnel_step", "steps": [{"event": evil}, {"event": "b"}], "step": 2, "days": 30},
            {"type": "property", "filters": [{"property": evil, "type": "person", "operator": "equals", "value": evil}]}
        ]}))
        .unwrap();
        assert!(!text.contains("DROP"), "{text}");
        assert!(values.contains(&Value::from(evil)));
        assert!(values.contains(&Value::UInt64(3)), "scoped to the project");
        assert!(text.contains("windowFunnel(?)"));
    }

    #[test]
    fn bad_definitions_name_the_field() {
        let days0 = serde_json::json!({"type": "behavioral", "days": 0});
        assert_eq!(field_of(days0.clone()), "definition.days");
        assert_eq!(
            field_of(
                serde_json::json!({"type": "and", "conditions": [{"type": "behavioral", "days": 1}, days0]})
            ),
            "definition.conditions[1].days"
        );
        assert_eq!(field_of(serde_json::json!({"type": "or", "conditions": []})), "definition");
        let step = serde_json::json!({"type": "funnel_step", "steps": [{"event": "a"}, {"event": "b"}], "step": 3, "days": 1});
        assert_eq!(field_of(step), "definition.step");
        let mut deep = serde_json::json!({"type": "behavioral", "days": 1});
        for _ in 0..6 {
            deep = serde_json::json!({"type": "and", "conditions": [deep]});
        }
        assert!(field_of(deep).starts_with("definition"));
    }

    #[test]
    fn cohort_filters_and_references() {
        let filter: PropertyFilter = serde_json::from_value(serde_json::json!({"cohort": 7})).unwrap();
        let condition = filter.compile("filters[0]", &Limits::default()).unwrap();
        let (text, values) = condition.sql.render(PlaceholderStyle::QuestionMark);
        assert!(
            text.starts_with("(e.project_id, e.person) IN (SELECT project_id, person_id FROM cohort_members")
        );
        assert_eq!(values, vec![Value::UInt64(7), Value::UInt64(7)]);
        let bad: PropertyFilter =
            serde_json::from_value(serde_json::json!({"cohort": 7, "operator": "contains"})).unwrap();
        assert!(bad.compile("filters[0]", &Limits::default()).is_err());
        let body = serde_json::json!({"kind": "trends", "filters": [{"cohort": 4}], "series": [{"filters": [{"cohort": 5}]}]});
        assert_eq!(
            referenced(&body),
            vec![(4, "filters[0]".to_string()), (5, "series[0].filters[0]".to_string())]
        );
    }
}
