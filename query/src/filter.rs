//! Property filters: `{property, type, operator, value}` → a SQL condition with every value
//! bound. Regular expressions are checked here (RE2 and Rust's `regex` share their syntax for
//! everything a filter needs) so a bad one is a 400 naming the field, not an engine error.

use numu_warehouse::{Sql, Value};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::QueryError;
use crate::limits::Limits;
use crate::property::{Kind, Needs, Property, PropertyType};

/// Longest regular expression a filter may carry.
pub const MAX_REGEX_LEN: usize = 1_000;

/// How a property is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    Equals,
    NotEquals,
    /// Case-insensitive substring.
    Contains,
    NotContains,
    /// RE2 regular expression, unanchored.
    Regex,
    NotRegex,
    /// Numeric greater-than (text values that are not numbers never match).
    Gt,
    /// Numeric less-than.
    Lt,
    IsSet,
    IsNotSet,
    /// One of a list of values.
    In,
    NotIn,
}

/// One value of a filter: text, number or boolean.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Scalar {
    Bool(bool),
    Number(f64),
    Text(String),
}

/// A filter's value: one scalar, or a list for `in` / `not_in`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum FilterValue {
    List(Vec<Scalar>),
    One(Scalar),
}

/// `{"property": "browser", "operator": "equals", "value": "Chrome"}`, or a cohort filter
/// `{"cohort": 7}` (the event's person is a member; `"operator": "not_in"` for not a member).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PropertyFilter {
    /// A typed column (`browser`, `$browser`), a custom event key, a person key or a session
    /// attribute, depending on `type`. Absent with `cohort`.
    #[serde(default)]
    #[schema(example = "browser")]
    pub property: String,
    #[serde(default, rename = "type")]
    pub kind: PropertyType,
    /// Required, except with `cohort` (default `in`; `not_in` keeps non-members).
    #[serde(default)]
    pub operator: Option<Operator>,
    /// Absent for `is_set` / `is_not_set`; a list for `in` / `not_in`.
    #[serde(default)]
    pub value: Option<FilterValue>,
    /// A saved cohort of the project: keeps the events of its current members.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cohort: Option<u64>,
}

/// A compiled filter: its condition and the joins it needs.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    pub sql: Sql,
    pub needs: Needs,
}

impl Scalar {
    /// The value as events store it in text (non-string JSON values as JSON text).
    fn text(&self) -> String {
        match self {
            Scalar::Bool(b) => b.to_string(),
            Scalar::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            Scalar::Number(n) => n.to_string(),
            Scalar::Text(t) => t.clone(),
        }
    }

    fn number(&self, field: &str) -> Result<f64, QueryError> {
        let parsed = match self {
            Scalar::Number(n) => Some(*n),
            Scalar::Text(t) => t.trim().parse::<f64>().ok(),
            Scalar::Bool(_) => None,
        };
        parsed.filter(|n| n.is_finite()).ok_or_else(|| QueryError::bad(field, "must be a number"))
    }

    fn boolean(&self, field: &str) -> Result<bool, QueryError> {
        match self {
            Scalar::Bool(b) => Ok(*b),
            Scalar::Text(t) if t == "true" || t == "false" => Ok(t == "true"),
            _ => Err(QueryError::bad(field, "must be true or false")),
        }
    }

    /// This value bound for a comparison with a property of `kind`.
    fn bound(&self, kind: Kind, field: &str) -> Result<Value, QueryError> {
        Ok(match kind {
            Kind::Text => Value::String(self.text()),
            Kind::Number => Value::Float64(self.number(field)?),
            Kind::Bool => Value::Bool(self.boolean(field)?),
        })
    }
}

impl PropertyFilter {
    /// The condition; `field` is this filter's path in the request (`filters[0]`).
    pub fn compile(&self, field: &str, limits: &Limits) -> Result<Condition, QueryError> {
        if let Some(cohort) = self.cohort {
            return crate::cohorts::filter_condition(self, cohort, field);
        }
        if self.operator.is_none() {
            return Err(QueryError::bad(&format!("{field}.operator"), "missing field `operator`"));
        }
        let property = Property::resolve(&format!("{field}.property"), &self.property, self.kind)?;
        let value_field = format!("{field}.value");
        let sql = match self.op() {
            Operator::IsSet => property.is_set(),
            Operator::IsNotSet => Sql::new("NOT (").append(property.is_set()).push(")"),
            Operator::In | Operator::NotIn => self.list(&property, &value_field, limits)?,
            _ => self.compare(&property, &value_field)?,
        };
        Ok(Condition { sql, needs: property.needs() })
    }

    /// The operator (`in` when absent, which only a cohort filter may leave out).
    pub fn op(&self) -> Operator {
        self.operator.unwrap_or(Operator::In)
    }

    fn one(&self, field: &str) -> Result<&Scalar, QueryError> {
        match &self.value {
            Some(FilterValue::One(value)) => Ok(value),
            Some(FilterValue::List(_)) => {
                Err(QueryError::bad(field, "a list needs the operator `in` or `not_in`"))
            }
            None => Err(QueryError::bad(field, "this operator needs a value")),
        }
    }

    fn compare(&self, property: &Property, field: &str) -> Result<Sql, QueryError> {
        let value = self.one(field)?;
        let kind = property.kind();
        let not_for_bool = || {
            QueryError::bad(field, format!("`{}` does not apply to true/false properties", self.op_name()))
        };
        Ok(match self.op() {
            Operator::Equals => property.expr().push(" = ").bind(value.bound(kind, field)?),
            Operator::NotEquals => property.expr().push(" != ").bind(value.bound(kind, field)?),
            Operator::Contains | Operator::NotContains => {
                if kind == Kind::Bool {
                    return Err(not_for_bool());
                }
                let op = if self.op() == Operator::Contains { " > 0" } else { " = 0" };
                Sql::new("positionCaseInsensitiveUTF8(")
                    .append(property.text_expr())
                    .push(", ")
                    .bind(value.text())
                    .push(")")
                    .push(op)
            }
            Operator::Regex | Operator::NotRegex => {
                if kind == Kind::Bool {
                    return Err(not_for_bool());
                }
                let pattern = checked_regex(field, value)?;
                let head = if self.op() == Operator::Regex { "match(" } else { "NOT match(" };
                Sql::new(head).append(property.text_expr()).push(", ").bind(pattern).push(")")
            }
            Operator::Gt | Operator::Lt => {
                if kind == Kind::Bool {
                    return Err(not_for_bool());
                }
                let op = if self.op() == Operator::Gt { " > " } else { " < " };
                Sql::new("ifNull(")
                    .append(property.number_expr())
                    .push(op)
                    .bind(value.number(field)?)
                    .push(", 0)")
            }
            Operator::IsSet | Operator::IsNotSet | Operator::In | Operator::NotIn => {
                unreachable!("handled by compile")
            }
        })
    }

    fn list(&self, property: &Property, field: &str, limits: &Limits) -> Result<Sql, QueryError> {
        let values = match &self.value {
            Some(FilterValue::List(values)) if !values.is_empty() => values,
            Some(FilterValue::One(value)) => std::slice::from_ref(value),
            _ => return Err(QueryError::bad(field, "`in` / `not_in` need a non-empty list")),
        };
        Limits::at_most(field, values.len(), limits.max_list_values, "values in one list")?;
        let kind = property.kind();
        let bound = values.iter().map(|v| v.bound(kind, field).map(|v| Sql::new("").bind(v)));
        let bound: Vec<Sql> = bound.collect::<Result<_, _>>()?;
        let op = if self.op() == Operator::In { " IN (" } else { " NOT IN (" };
        Ok(property.expr().push(op).join(bound, ", ").push(")"))
    }

    fn op_name(&self) -> String {
        serde_json::to_value(self.op()).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
    }
}

fn checked_regex(field: &str, value: &Scalar) -> Result<String, QueryError> {
    let Scalar::Text(pattern) = value else {
        return Err(QueryError::bad(field, "a regular expression is text"));
    };
    if pattern.len() > MAX_REGEX_LEN {
        return Err(QueryError::bad(
            field,
            format!("regular expressions have at most {MAX_REGEX_LEN} bytes"),
        ));
    }
    regex_syntax::Parser::new().parse(pattern).map_err(|e| {
        QueryError::bad(field, format!("invalid regular expression: {}", first_line(&e.to_string())))
    })?;
    Ok(pattern.clone())
}

fn first_line(text: &str) -> String {
    text.lines()
        .rev()
        .find(|l| l.starts_with("error:"))
        .unwrap_or(text.lines().next().unwrap_or(text))
        .to_string()
}

/// All filters ANDed (`1` when there are none), with the joins they need.
pub fn all(filters: &[PropertyFilter], prefix: &str, limits: &Limits) -> Result<Condition, QueryError> {
    and(filters.iter().enumerate(), prefix, limits)
}

/// The event and person filters, and apart from them the session filters (for analyses that
/// aggregate sessions first and filter them as a whole).
pub fn split(
    filters: &[PropertyFilter],
    prefix: &str,
    limits: &Limits,
) -> Result<(Condition, Condition), QueryError> {
    let is_session = |f: &(usize, &PropertyFilter)| f.1.kind == PropertyType::Session;
    let events = and(filters.iter().enumerate().filter(|f| !is_session(f)), prefix, limits)?;
    let sessions = and(filters.iter().enumerate().filter(is_session), prefix, limits)?;
    Ok((events, sessions))
}

fn and<'a>(
    filters: impl Iterator<Item = (usize, &'a PropertyFilter)>,
    prefix: &str,
    limits: &Limits,
) -> Result<Condition, QueryError> {
    let mut parts = Vec::new();
    let mut needs = Needs::default();
    for (i, filter) in filters {
        let condition = filter.compile(&format!("{prefix}[{i}]"), limits)?;
        needs = needs.merge(condition.needs);
        parts.push(Sql::new("(").append(condition.sql).push(")"));
    }
    let sql = if parts.is_empty() { Sql::new("1") } else { Sql::new("").join(parts, " AND ") };
    Ok(Condition { sql, needs })
}

#[cfg(test)]
mod tests {
    use super::*;
    use numu_warehouse::PlaceholderStyle;

    fn filter(json: serde_json::Value) -> PropertyFilter {
        serde_json::from_value(json).unwrap()
    }

    fn compile(json: serde_json::Value) -> Result<(String, Vec<Value>), QueryError> {
        let condition = filter(json).compile("filters[0]", &Limits::default())?;
        Ok(condition.sql.render(PlaceholderStyle::QuestionMark))
    }

    fn field_of(json: serde_json::Value) -> String {
        match compile(json) {
            Err(QueryError::BadRequest { field, .. }) => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn operators_render_with_bound_values() {
        let (sql, values) =
            compile(serde_json::json!({"property": "browser", "operator": "equals", "value": "Chrome"}))
                .unwrap();
        assert_eq!((sql.as_str(), values), ("e.browser = ?", vec![Value::from("Chrome")]));
        let (sql, values) =
            compile(serde_json::json!({"property": "plan", "operator": "in", "value": ["a", 2, true]}))
                .unwrap();
        assert_eq!(sql, "e.properties[?] IN (?, ?, ?)");
        assert_eq!(
            values,
            vec![Value::from("plan"), Value::from("a"), Value::from("2"), Value::from("true")]
        );
        let (sql, _) =
            compile(serde_json::json!({"property": "revenue", "operator": "gt", "value": "9.5"})).unwrap();
        assert_eq!(sql, "ifNull(toNullable(toFloat64(e.revenue)) > ?, 0)");
        let (sql, _) =
            compile(serde_json::json!({"property": "plan", "type": "person", "operator": "is_not_set"}))
                .unwrap();
        assert_eq!(sql, "NOT (mapContains(pp.props, ?))");
        let (sql, _) = compile(
            serde_json::json!({"property": "$pageviews", "type": "session", "operator": "lt", "value": 2}),
        )
        .unwrap();
        assert_eq!(sql, "ifNull(toNullable(toFloat64(ss.pageviews)) < ?, 0)");
    }

    #[test]
    fn bad_filters_name_their_field() {
        assert_eq!(
            field_of(serde_json::json!({"property": "path", "operator": "regex", "value": "(unclosed"})),
            "filters[0].value"
        );
        assert_eq!(
            field_of(serde_json::json!({"property": "$nope", "operator": "is_set"})),
            "filters[0].property"
        );
        assert_eq!(
            field_of(serde_json::json!({"property": "revenue", "operator": "gt", "value": "lots"})),
            "filters[0].value"
        );
        assert_eq!(
            field_of(serde_json::json!({"property": "path", "operator": "equals"})),
            "filters[0].value"
        );
        assert_eq!(
            field_of(serde_json::json!({"property": "path", "operator": "in", "value": []})),
            "filters[0].value"
        );
        assert_eq!(
            field_of(serde_json::json!({"property": "is_bot", "operator": "contains", "value": "t"})),
            "filters[0].value"
        );
    }

    #[test]
    fn all_joins_conditions_and_needs() {
        let filters = vec![
            filter(
                serde_json::json!({"property": "plan", "type": "person", "operator": "equals", "value": "pro"}),
            ),
            filter(
                serde_json::json!({"property": "$is_bounce", "type": "session", "operator": "equals", "value": true}),
            ),
        ];
        let condition = all(&filters, "filters", &Limits::default()).unwrap();
        assert!(condition.needs.person_props && condition.needs.sessions);
        let (text, _) = condition.sql.render(PlaceholderStyle::QuestionMark);
        assert_eq!(text, "(pp.props[?] = ?) AND (ss.is_bounce = ?)");
        assert_eq!(all(&[], "filters", &Limits::default()).unwrap().sql, Sql::new("1"));
    }
}
