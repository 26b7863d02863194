//! Optional per-project property schemas: a JSON Schema per event name that the event's
//! `properties` must match. A small subset of JSON Schema is implemented rather than the
//! `jsonschema` crate, whose default build pulls an HTTP client and TLS stack into the
//! collector and whose per-event cost is higher than this tree walk:
//!
//! `type` (name or list), `properties`, `required`, `additionalProperties` (boolean),
//! `enum`, `const`, `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`,
//! `minLength`, `maxLength`, `items` (one schema), `minItems`, `maxItems`. Annotations
//! (`title`, `description`, `$schema`, `$id`, `$comment`, `default`, `examples`) are
//! ignored; any other keyword is refused when the schema is added, so nobody believes a
//! rule is enforced when it is not.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::validate::json_kind;
use super::FrontError;

const ANNOTATIONS: &[&str] = &["title", "description", "$schema", "$id", "$comment", "default", "examples"];

#[derive(Clone, Debug, Default, PartialEq)]
struct Node {
    types: Vec<String>,
    properties: Vec<(String, Node)>,
    required: Vec<String>,
    additional: bool,
    allowed: Option<Vec<Value>>,
    minimum: Option<(f64, bool)>,
    maximum: Option<(f64, bool)>,
    min_length: Option<usize>,
    max_length: Option<usize>,
    items: Option<Box<Node>>,
    min_items: Option<usize>,
    max_items: Option<usize>,
}

fn bad(path: &str, message: impl std::fmt::Display) -> FrontError {
    FrontError::Config(format!("property schema at `{path}`: {message}"))
}

fn count(value: &Value, path: &str, key: &str) -> Result<usize, FrontError> {
    value
        .as_u64()
        .map(|n| n as usize)
        .ok_or_else(|| bad(path, format!("`{key}` must be a non-negative integer")))
}

fn number(value: &Value, path: &str, key: &str) -> Result<f64, FrontError> {
    value.as_f64().ok_or_else(|| bad(path, format!("`{key}` must be a number")))
}

fn compile(schema: &Value, path: &str) -> Result<Node, FrontError> {
    let object = schema.as_object().ok_or_else(|| bad(path, "a schema must be an object"))?;
    let mut node = Node { additional: true, ..Node::default() };
    for (key, value) in object {
        match key.as_str() {
            "type" => node.types = type_names(value, path)?,
            "properties" => {
                let props = value.as_object().ok_or_else(|| bad(path, "`properties` must be an object"))?;
                for (name, sub) in props {
                    node.properties.push((name.clone(), compile(sub, &format!("{path}.{name}"))?));
                }
            }
            "required" => {
                let names = value.as_array().ok_or_else(|| bad(path, "`required` must be an array"))?;
                node.required = names.iter().filter_map(Value::as_str).map(str::to_string).collect();
            }
            "additionalProperties" => {
                node.additional = value
                    .as_bool()
                    .ok_or_else(|| bad(path, "only boolean `additionalProperties` is supported"))?
            }
            "enum" => {
                node.allowed =
                    Some(value.as_array().cloned().ok_or_else(|| bad(path, "`enum` must be an array"))?)
            }
            "const" => node.allowed = Some(vec![value.clone()]),
            "minimum" => node.minimum = Some((number(value, path, key)?, false)),
            "exclusiveMinimum" => node.minimum = Some((number(value, path, key)?, true)),
            "maximum" => node.maximum = Some((number(value, path, key)?, false)),
            "exclusiveMaximum" => node.maximum = Some((number(value, path, key)?, true)),
            "minLength" => node.min_length = Some(count(value, path, key)?),
            "maxLength" => node.max_length = Some(count(value, path, key)?),
            "minItems" => node.min_items = Some(count(value, path, key)?),
            "maxItems" => node.max_items = Some(count(value, path, key)?),
            "items" => node.items = Some(Box::new(compile(value, &format!("{path}[]"))?)),
            other if ANNOTATIONS.contains(&other) => {}
            other => return Err(bad(path, format!("keyword `{other}` is not supported"))),
        }
    }
    Ok(node)
}

fn type_names(value: &Value, path: &str) -> Result<Vec<String>, FrontError> {
    let names: Vec<String> = match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => return Err(bad(path, "`type` must be a string or an array of strings")),
    };
    for name in &names {
        if !["null", "boolean", "object", "array", "number", "string", "integer"].contains(&name.as_str()) {
            return Err(bad(path, format!("unknown type `{name}`")));
        }
    }
    Ok(names)
}

fn type_matches(name: &str, value: &Value) -> bool {
    match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "number" => value.is_number(),
        "string" => value.is_string(),
        "integer" => value.as_f64().is_some_and(|n| n.fract() == 0.0),
        _ => false,
    }
}

fn within(value: f64, bound: Option<(f64, bool)>, above: bool) -> bool {
    match bound {
        None => true,
        Some((limit, exclusive)) if above => {
            if exclusive {
                value > limit
            } else {
                value >= limit
            }
        }
        Some((limit, exclusive)) => {
            if exclusive {
                value < limit
            } else {
                value <= limit
            }
        }
    }
}

impl Node {
    fn check(&self, value: &Value, path: &str) -> Result<(), String> {
        if !self.types.is_empty() && !self.types.iter().any(|t| type_matches(t, value)) {
            return Err(format!("`{path}` must be {}, got {}", self.types.join(" or "), json_kind(value)));
        }
        if let Some(allowed) = &self.allowed {
            if !allowed.contains(value) {
                return Err(format!("`{path}` must be one of {}", Value::Array(allowed.clone())));
            }
        }
        match value {
            Value::Number(n) => {
                let n = n.as_f64().unwrap_or(f64::NAN);
                if !within(n, self.minimum, true) || !within(n, self.maximum, false) {
                    return Err(format!("`{path}` = {n} is out of range"));
                }
            }
            Value::String(s) => {
                let chars = s.chars().count();
                if self.min_length.is_some_and(|m| chars < m) || self.max_length.is_some_and(|m| chars > m) {
                    return Err(format!("`{path}` has {chars} characters, outside the allowed length"));
                }
            }
            Value::Array(items) => self.check_items(items, path)?,
            Value::Object(map) => self.check_object(map, path)?,
            _ => {}
        }
        Ok(())
    }

    fn check_items(&self, items: &[Value], path: &str) -> Result<(), String> {
        if self.min_items.is_some_and(|m| items.len() < m) || self.max_items.is_some_and(|m| items.len() > m)
        {
            return Err(format!("`{path}` has {} items, outside the allowed count", items.len()));
        }
        if let Some(item) = &self.items {
            for (i, value) in items.iter().enumerate() {
                item.check(value, &format!("{path}[{i}]"))?;
            }
        }
        Ok(())
    }

    fn check_object(&self, map: &Map<String, Value>, path: &str) -> Result<(), String> {
        if let Some(missing) = self.required.iter().find(|name| !map.contains_key(*name)) {
            return Err(format!("`{path}.{missing}` is required"));
        }
        for (name, node) in &self.properties {
            if let Some(value) = map.get(name) {
                node.check(value, &format!("{path}.{name}"))?;
            }
        }
        if !self.additional {
            if let Some(extra) = map.keys().find(|k| !self.properties.iter().any(|(name, _)| name == *k)) {
                return Err(format!("`{path}.{extra}` is not allowed"));
            }
        }
        Ok(())
    }
}

/// Property schemas by project and event name (for now given at start; project settings
/// will provide them later through the same interface).
#[derive(Clone, Debug, Default)]
pub struct PropertySchemas {
    by_project: HashMap<u64, HashMap<String, Node>>,
}

impl PropertySchemas {
    pub fn new() -> PropertySchemas {
        PropertySchemas::default()
    }

    /// Adds (or replaces) the schema of `event` in `project_id`.
    pub fn insert(&mut self, project_id: u64, event: &str, schema: &Value) -> Result<(), FrontError> {
        let node = compile(schema, "properties")?;
        self.by_project.entry(project_id).or_default().insert(event.to_string(), node);
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.by_project.is_empty()
    }

    /// Checks an event's properties against its schema, if one is set.
    pub fn check(
        &self,
        project_id: u64,
        event: &str,
        properties: Option<&Map<String, Value>>,
    ) -> Result<(), FrontError> {
        let Some(node) = self.by_project.get(&project_id).and_then(|events| events.get(event)) else {
            return Ok(());
        };
        let empty = Map::new();
        node.check_object(properties.unwrap_or(&empty), "properties")
            .map_err(|message| FrontError::SchemaViolation { event: event.to_string(), message })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schemas() -> PropertySchemas {
        let mut schemas = PropertySchemas::new();
        let schema = json!({
            "title": "Order Completed",
            "type": "object",
            "required": ["order_id", "total"],
            "additionalProperties": false,
            "properties": {
                "order_id": {"type": "string", "minLength": 1, "maxLength": 20},
                "total": {"type": "number", "minimum": 0},
                "currency": {"enum": ["EUR", "USD"]},
                "items": {"type": "array", "maxItems": 2, "items": {"type": "object", "required": ["sku"]}}
            }
        });
        schemas.insert(1, "Order Completed", &schema).unwrap();
        schemas
    }

    fn check(properties: Value) -> Result<(), FrontError> {
        schemas().check(1, "Order Completed", properties.as_object())
    }

    #[test]
    fn properties_are_checked_against_the_event_schema() {
        assert!(
            check(json!({"order_id": "o1", "total": 5, "currency": "EUR", "items": [{"sku": "a"}]})).is_ok()
        );
        let message = |v: Value| match check(v) {
            Err(FrontError::SchemaViolation { message, .. }) => message,
            other => panic!("{other:?}"),
        };
        assert_eq!(message(json!({"total": 5})), "`properties.order_id` is required");
        assert_eq!(
            message(json!({"order_id": 1, "total": 5})),
            "`properties.order_id` must be string, got a number"
        );
        assert!(message(json!({"order_id": "o", "total": -1})).contains("out of range"));
        assert!(message(json!({"order_id": "o", "total": 1, "currency": "GBP"})).contains("one of"));
        assert!(
            message(json!({"order_id": "o", "total": 1, "x": 1})).contains("`properties.x` is not allowed")
        );
        assert!(message(json!({"order_id": "o", "total": 1, "items": [{}]}))
            .contains("`properties.items[0].sku` is required"));
        // Other events and projects are unchecked.
        assert!(schemas().check(2, "Order Completed", None).is_ok());
        assert!(schemas().check(1, "Other", None).is_ok());
    }

    #[test]
    fn unsupported_keywords_are_refused() {
        let mut schemas = PropertySchemas::new();
        let err = schemas.insert(1, "e", &json!({"properties": {"a": {"pattern": "^x"}}})).unwrap_err();
        assert_eq!(
            err,
            FrontError::Config(
                "property schema at `properties.a`: keyword `pattern` is not supported".into()
            )
        );
        assert!(schemas.insert(1, "e", &json!({"type": "strng"})).is_err());
    }
}
