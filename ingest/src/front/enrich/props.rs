//! Properties and traits → the stored `properties` map (strings as-is, other JSON values
//! as JSON text), `$set` / `$set_once` person updates, and revenue.

use numu_schemas::EventType;
use serde_json::{Map, Value};

/// What a message's properties and traits turn into.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Props {
    /// Sorted by key.
    pub stored: Vec<(String, String)>,
    pub set: Vec<(String, String)>,
    pub set_once: Vec<(String, String)>,
    pub revenue: f64,
}

/// A JSON value as stored in a `Map(String, String)` column.
pub fn value_text(value: Value) -> String {
    match value {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

fn revenue_of(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|v| v.is_finite())
}

impl Props {
    fn absorb(&mut self, map: Map<String, Value>, traits_are_set: bool) {
        for (key, value) in map {
            match (key.as_str(), value) {
                ("$set", Value::Object(inner)) => {
                    self.set.extend(inner.into_iter().map(|(k, v)| (k, value_text(v))))
                }
                ("$set_once", Value::Object(inner)) => {
                    self.set_once.extend(inner.into_iter().map(|(k, v)| (k, value_text(v))))
                }
                (_, value) => {
                    if traits_are_set {
                        self.set.push((key.clone(), value_text(value.clone())));
                    }
                    self.stored.push((key, value_text(value)));
                }
            }
        }
    }
}

/// Splits a message's properties and traits. `identify` traits are `$set` on the person;
/// `identify` and `group` traits are also stored as the event's properties (the event
/// has no other payload). `$set` / `$set_once` objects anywhere become person updates
/// and are not stored as properties.
pub fn split(
    kind: EventType,
    properties: Option<Map<String, Value>>,
    traits: Option<Map<String, Value>>,
) -> Props {
    let mut props = Props::default();
    if let Some(properties) = properties {
        props.revenue =
            ["revenue", "value"].iter().find_map(|k| properties.get(*k).and_then(revenue_of)).unwrap_or(0.0);
        props.absorb(properties, false);
    }
    match (kind, traits) {
        (EventType::Identify, Some(traits)) => props.absorb(traits, true),
        (EventType::Group, Some(traits)) => props.absorb(traits, false),
        _ => {}
    }
    props.stored.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    // A key given in both properties and traits is kept once (the first after sorting).
    props.stored.dedup_by(|a, b| a.0 == b.0);
    props
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Option<Map<String, Value>> {
        value.as_object().cloned()
    }

    #[test]
    fn values_are_stored_as_text_and_set_objects_split_out() {
        let props = split(
            EventType::Track,
            map(
                json!({"plan":"pro","seats":3,"tags":["a"],"revenue":"12.5","$set":{"tier":"gold"},"$set_once":{"first":1}}),
            ),
            None,
        );
        let stored: Vec<(&str, &str)> = props.stored.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(stored, vec![("plan", "pro"), ("revenue", "12.5"), ("seats", "3"), ("tags", "[\"a\"]")]);
        assert_eq!(props.set, vec![("tier".to_string(), "gold".to_string())]);
        assert_eq!(props.set_once, vec![("first".to_string(), "1".to_string())]);
        assert_eq!(props.revenue, 12.5);
        assert_eq!(split(EventType::Track, map(json!({"value": 4})), None).revenue, 4.0);
        assert_eq!(split(EventType::Track, map(json!({"revenue": "lots"})), None).revenue, 0.0);
    }

    #[test]
    fn identify_traits_are_set_and_stored() {
        let props =
            split(EventType::Identify, None, map(json!({"email":"a@b.c","$set_once":{"signup":"2026"}})));
        assert_eq!(props.set, vec![("email".to_string(), "a@b.c".to_string())]);
        assert_eq!(props.set_once, vec![("signup".to_string(), "2026".to_string())]);
        assert_eq!(props.stored, vec![("email".to_string(), "a@b.c".to_string())]);
        let track = split(EventType::Track, None, map(json!({"email":"a@b.c"})));
        assert!(track.set.is_empty() && track.stored.is_empty());
    }
}
