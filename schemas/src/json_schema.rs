//! JSON Schemas of the wire types, generated from the serde types and committed under
//! `schemas/json/` (a test keeps the committed files equal to the generated ones).

use serde_json::Value;

use crate::event::{Batch, Message};

/// The JSON Schema of one Segment-style message.
pub fn message_schema() -> Value {
    serde_json::to_value(schemars::schema_for!(Message)).unwrap_or(Value::Null)
}

/// The JSON Schema of a `/v1/batch` body.
pub fn batch_schema() -> Value {
    serde_json::to_value(schemars::schema_for!(Batch)).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(file: &str, generated: &Value) {
        let path = format!("{}/json/{file}", env!("CARGO_MANIFEST_DIR"));
        let pretty = serde_json::to_string_pretty(generated).unwrap() + "\n";
        if std::env::var_os("NUMU_BLESS").is_some() {
            std::fs::write(&path, &pretty).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(committed, pretty, "{path} is stale: run with NUMU_BLESS=1");
    }

    #[test]
    fn committed_schemas_match_the_types() {
        check("message.schema.json", &message_schema());
        check("batch.schema.json", &batch_schema());
    }

    #[test]
    fn schema_names_the_event_types() {
        let text = message_schema().to_string();
        for kind in crate::EventType::ALL {
            assert!(text.contains(&format!("\"{}\"", kind.as_str())), "{text}");
        }
    }
}
