//! Decoders for the Segment HTTP Tracking API: one message (`/v1/track`, …) and a
//! `/v1/batch` envelope whose events are decoded one by one, so one bad event refuses
//! only itself.

use numu_schemas::{Context, EventType, Message};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::decode::{first_significant, from_json, Hints, Incoming, Parsed};
use crate::DecodeError;

/// A decoded `/v1/batch` body.
#[derive(Debug)]
pub struct SegmentBatch<'a> {
    pub events: Vec<Incoming<'a>>,
    pub write_key: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope<'a> {
    #[serde(borrow)]
    batch: Vec<&'a RawValue>,
    #[serde(default)]
    sent_at: Option<String>,
    #[serde(default)]
    write_key: Option<String>,
    #[serde(default)]
    context: Option<Context>,
}

pub(crate) fn require_object(text: &str) -> Result<(), DecodeError> {
    match first_significant(text) {
        Some(b'{') => Ok(()),
        None => Err(DecodeError::InvalidJson("empty body".into())),
        // Not an object: say whether it is valid JSON of the wrong shape or not JSON at all.
        Some(_) => match serde_json::from_str::<serde::de::IgnoredAny>(text) {
            Err(e) => Err(DecodeError::InvalidJson(e.to_string())),
            Ok(_) => Err(DecodeError::WrongType {
                field: "(root)".into(),
                message: "expected a JSON object".into(),
            }),
        },
    }
}

/// Decodes the body of a single-message endpoint. The endpoint fixes the type, as Segment
/// does: a `type` field in the body is ignored.
pub fn decode_message(text: &str, kind: EventType) -> Result<Message, DecodeError> {
    require_object(text)?;
    let mut message: Message = from_json(text)?;
    message.kind = Some(kind);
    Ok(message)
}

/// Decodes a `/v1/batch` body. Envelope errors refuse the whole body; event errors are
/// kept per event. `max_event_bytes` bounds each event's raw size.
pub fn decode_batch(text: &str, max_event_bytes: usize) -> Result<SegmentBatch<'_>, DecodeError> {
    require_object(text)?;
    let envelope: Envelope = from_json(text)?;
    let events = envelope
        .batch
        .iter()
        .enumerate()
        .map(|(index, raw)| {
            let raw = raw.get();
            let parsed = decode_batch_event(raw, max_event_bytes, &envelope);
            Incoming { index, raw, parsed }
        })
        .collect();
    Ok(SegmentBatch { events, write_key: envelope.write_key })
}

fn decode_batch_event(raw: &str, max_event_bytes: usize, envelope: &Envelope) -> Result<Parsed, DecodeError> {
    if raw.len() > max_event_bytes {
        return Err(DecodeError::EventTooLarge { size: raw.len(), limit: max_event_bytes });
    }
    require_object(raw)?;
    let mut message: Message = from_json(raw)?;
    if message.kind.is_none() {
        return Err(DecodeError::MissingField("type".into()));
    }
    // Envelope-level values apply to events that lack their own (some libraries send
    // `context` and `sentAt` once per batch).
    if message.sent_at.is_none() {
        message.sent_at.clone_from(&envelope.sent_at);
    }
    if message.context.is_none() {
        message.context.clone_from(&envelope.context);
    }
    Ok(Parsed { message, hints: Hints::default() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_messages_take_the_endpoint_type() {
        let message =
            decode_message(r#"{"type":"page","event":"x","userId":"u"}"#, EventType::Track).unwrap();
        assert_eq!(message.kind, Some(EventType::Track));
        assert!(matches!(decode_message("[]", EventType::Track), Err(DecodeError::WrongType { .. })));
        assert!(matches!(decode_message("", EventType::Track), Err(DecodeError::InvalidJson(_))));
        assert!(matches!(decode_message("[", EventType::Track), Err(DecodeError::InvalidJson(_))));
        let err = decode_message(r#"{"properties":[1]}"#, EventType::Track).unwrap_err();
        assert!(matches!(&err, DecodeError::WrongType { field, .. } if field == "properties"), "{err:?}");
    }

    #[test]
    fn batch_events_fail_alone_and_inherit_envelope_values() {
        let body = r#"{"writeKey":"nw_k","sentAt":"2026-01-01T00:00:00Z","context":{"ip":"1.2.3.4"},
            "batch":[{"type":"track","event":"a","userId":"u"},{"event":"b"},{"type":"track","timestamp":5},7]}"#;
        let batch = decode_batch(body, 32 * 1024).unwrap();
        assert_eq!(batch.write_key.as_deref(), Some("nw_k"));
        assert_eq!(batch.events.len(), 4);
        let first = batch.events[0].parsed.as_ref().unwrap();
        assert_eq!(first.message.sent_at.as_deref(), Some("2026-01-01T00:00:00Z"));
        assert_eq!(first.message.context.as_ref().unwrap().ip.as_deref(), Some("1.2.3.4"));
        assert_eq!(batch.events[1].parsed, Err(DecodeError::MissingField("type".into())));
        assert!(
            matches!(&batch.events[2].parsed, Err(DecodeError::WrongType { field, .. }) if field == "timestamp")
        );
        assert!(matches!(&batch.events[3].parsed, Err(DecodeError::WrongType { .. })));
        assert_eq!(batch.events[3].raw, "7");
        assert_eq!(decode_batch("{}", 10).unwrap_err(), DecodeError::MissingField("batch".into()));
        let big = format!(r#"{{"batch":[{{"type":"track","event":"{}"}}]}}"#, "x".repeat(100));
        assert!(matches!(
            decode_batch(&big, 50).unwrap().events[0].parsed,
            Err(DecodeError::EventTooLarge { .. })
        ));
    }
}
