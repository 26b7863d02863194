//! Decoders for the Numu snippet's compact format (`POST /e`, short field names, see
//! sdk-js/PROTOCOL.md) and the pixel's query string (`GET /p.gif`). Both produce the same
//! [`Parsed`] as the Segment decoders, so one pipeline validates and enriches all three.

use numu_schemas::event::{PageContext, Screen};
use numu_schemas::{Context, EventType, Message};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::decode::{first_significant, from_json, Hints, Incoming, Parsed};
use crate::DecodeError;

/// Library names recorded for the two formats.
pub const SNIPPET_LIBRARY: &str = "numu-js";
pub const PIXEL_LIBRARY: &str = "numu-pixel";

/// One compact event. Unknown fields are ignored so newer snippets keep working.
#[derive(Debug, Default, Deserialize)]
pub struct CompactEvent {
    pub t: Option<String>,
    pub e: Option<String>,
    pub id: Option<String>,
    pub ts: Option<f64>,
    pub sa: Option<f64>,
    pub a: Option<String>,
    pub u: Option<String>,
    pub s: Option<String>,
    pub pid: Option<String>,
    pub g: Option<String>,
    pub url: Option<String>,
    #[serde(rename = "ref")]
    pub referrer: Option<String>,
    pub ti: Option<String>,
    pub sw: Option<u32>,
    pub sh: Option<u32>,
    pub vw: Option<u32>,
    pub vh: Option<u32>,
    pub lang: Option<String>,
    pub p: Option<Map<String, Value>>,
    pub tr: Option<Map<String, Value>>,
}

fn event_type(t: Option<&str>) -> Result<EventType, DecodeError> {
    let t = t.ok_or_else(|| DecodeError::MissingField("t".into()))?;
    EventType::parse(t).ok_or_else(|| DecodeError::InvalidValue {
        field: "t".into(),
        message: format!(
            "unknown type `{}`; expected one of track, page, screen, identify, alias, group",
            t.chars().take(40).collect::<String>()
        ),
    })
}

/// Epoch milliseconds as the snippet sends them (a JS number; fractions are dropped).
fn millis(value: Option<f64>, field: &str) -> Result<Option<i64>, DecodeError> {
    match value {
        None => Ok(None),
        Some(v) if v.is_finite() && (0.0..1e15).contains(&v) => Ok(Some(v as i64)),
        Some(v) => Err(DecodeError::InvalidValue {
            field: field.into(),
            message: format!("{v} is not an epoch time in milliseconds"),
        }),
    }
}

impl CompactEvent {
    /// The equivalent Segment message.
    pub fn into_parsed(self, library: &'static str) -> Result<Parsed, DecodeError> {
        let kind = event_type(self.t.as_deref())?;
        let hints = Hints {
            timestamp_ms: millis(self.ts, "ts")?,
            sent_at_ms: millis(self.sa, "sa")?,
            viewport: self.vw.zip(self.vh),
            library: Some(library),
        };
        let (event, name) = match kind {
            EventType::Page | EventType::Screen => (None, self.e),
            _ => (self.e, None),
        };
        let page =
            (self.url.is_some() || self.referrer.is_some() || self.ti.is_some()).then_some(PageContext {
                url: self.url,
                referrer: self.referrer,
                title: self.ti,
                ..PageContext::default()
            });
        let screen = (self.sw.is_some() || self.sh.is_some()).then_some(Screen {
            width: self.sw,
            height: self.sh,
            density: None,
        });
        let context = Context {
            locale: self.lang,
            page,
            screen,
            session_id: self.s.map(Value::String),
            ..Context::default()
        };
        let message = Message {
            kind: Some(kind),
            message_id: self.id,
            anonymous_id: self.a.map(Value::String),
            user_id: self.u.map(Value::String),
            previous_id: self.pid.map(Value::String),
            group_id: self.g.map(Value::String),
            event,
            name,
            properties: self.p,
            traits: self.tr,
            context: Some(context),
            ..Message::default()
        };
        Ok(Parsed { message, hints })
    }
}

fn decode_one(raw: &str, max_event_bytes: usize) -> Result<Parsed, DecodeError> {
    if raw.len() > max_event_bytes {
        return Err(DecodeError::EventTooLarge { size: raw.len(), limit: max_event_bytes });
    }
    crate::segment::require_object(raw)?;
    let event: CompactEvent = from_json(raw)?;
    // The snippet always sends both (PROTOCOL.md): the id dedupes retries and replays,
    // and an event without its time would be stored at the wrong one after a replay.
    if event.id.as_deref().is_none_or(str::is_empty) {
        return Err(DecodeError::MissingField("id".into()));
    }
    if event.ts.is_none() {
        return Err(DecodeError::MissingField("ts".into()));
    }
    event.into_parsed(SNIPPET_LIBRARY)
}

/// Decodes a `/e` body: one event object or an array of them. Each event needs `t`,
/// `id` and `ts`.
pub fn decode_compact(text: &str, max_event_bytes: usize) -> Result<Vec<Incoming<'_>>, DecodeError> {
    match first_significant(text) {
        Some(b'[') => {
            let items: Vec<&RawValue> = from_json(text)?;
            Ok(items
                .into_iter()
                .enumerate()
                .map(|(index, raw)| Incoming {
                    index,
                    raw: raw.get(),
                    parsed: decode_one(raw.get(), max_event_bytes),
                })
                .collect())
        }
        _ => {
            // A lone event that fails is a bad request, not a partial success.
            let parsed = decode_one(text, max_event_bytes)?;
            Ok(vec![Incoming { index: 0, raw: text, parsed: Ok(parsed) }])
        }
    }
}

/// Decodes a pixel query string: the write key (`k`, returned even when the event is
/// refused, so the refusal can be dead-lettered under its project) and one event (`t`
/// defaults to `page`). Properties may be given as a JSON object in `p`.
pub fn decode_pixel(query: &str) -> (Option<String>, Result<Parsed, DecodeError>) {
    let mut key = None;
    let mut event = CompactEvent::default();
    let mut failure = None;
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        let value = value.into_owned();
        let slot = match &*name {
            "k" => &mut key,
            "t" => &mut event.t,
            "e" => &mut event.e,
            "id" => &mut event.id,
            "a" => &mut event.a,
            "u" => &mut event.u,
            "s" => &mut event.s,
            "url" => &mut event.url,
            "ref" => &mut event.referrer,
            "ti" => &mut event.ti,
            "ts" => {
                match pixel_number(&value, "ts") {
                    Ok(ts) => event.ts = Some(ts),
                    Err(e) => failure = failure.or(Some(e)),
                }
                continue;
            }
            "p" => {
                match from_json(&value) {
                    Ok(p) => event.p = Some(p),
                    Err(e) => failure = failure.or(Some(prefix_field("p", e))),
                }
                continue;
            }
            _ => continue,
        };
        *slot = Some(value);
    }
    event.t.get_or_insert_with(|| "page".to_string());
    let parsed = match failure {
        Some(error) => Err(error),
        None => event.into_parsed(PIXEL_LIBRARY),
    };
    (key, parsed)
}

fn pixel_number(value: &str, field: &str) -> Result<f64, DecodeError> {
    value.parse().map_err(|_| DecodeError::InvalidValue {
        field: field.into(),
        message: format!("`{}` is not a number", value.chars().take(40).collect::<String>()),
    })
}

fn prefix_field(prefix: &str, error: DecodeError) -> DecodeError {
    match error {
        DecodeError::WrongType { field, message } if field == "(root)" => {
            DecodeError::WrongType { field: prefix.into(), message }
        }
        DecodeError::WrongType { field, message } => {
            DecodeError::WrongType { field: format!("{prefix}.{field}"), message }
        }
        DecodeError::InvalidJson(message) => {
            DecodeError::InvalidValue { field: prefix.into(), message: format!("not JSON: {message}") }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_events_become_segment_messages() {
        let body = r#"{"t":"page","e":"Home","id":"m1","ts":1767225600000,"sa":1767225601000,"a":"anon",
            "s":"sess","url":"https://shop.example/?utm_source=x","ref":"https://google.com/","ti":"Shop",
            "sw":1920,"sh":1080,"vw":1200,"vh":800,"lang":"en-US","p":{"k":1},"future":true}"#;
        let events = decode_compact(body, 32 * 1024).unwrap();
        let parsed = events[0].parsed.as_ref().unwrap();
        let message = &parsed.message;
        assert_eq!(message.kind, Some(EventType::Page));
        assert_eq!(message.name.as_deref(), Some("Home"));
        let context = message.context.as_ref().unwrap();
        assert_eq!(context.page.as_ref().unwrap().title.as_deref(), Some("Shop"));
        assert_eq!(context.session_id, Some(Value::String("sess".into())));
        assert_eq!(parsed.hints.timestamp_ms, Some(1_767_225_600_000));
        assert_eq!(parsed.hints.viewport, Some((1200, 800)));
    }

    #[test]
    fn arrays_refuse_per_event_and_single_events_refuse_the_body() {
        let body = r#"[{"t":"track","e":"a","id":"1","ts":1},{"t":"nope","id":"2","ts":1},{"t":"track","ts":"x"},
            {"t":"track","e":"a","ts":1},{"t":"track","e":"a","id":"5"}]"#;
        let events = decode_compact(body, 1000).unwrap();
        assert!(events[0].parsed.is_ok());
        assert!(matches!(&events[1].parsed, Err(DecodeError::InvalidValue { field, .. }) if field == "t"));
        assert!(matches!(&events[2].parsed, Err(DecodeError::WrongType { field, .. }) if field == "ts"));
        assert_eq!(events[3].parsed, Err(DecodeError::MissingField("id".into())));
        assert_eq!(events[4].parsed, Err(DecodeError::MissingField("ts".into())));
        let lone = decode_compact(r#"{"e":"a","id":"1","ts":1}"#, 1000);
        assert!(matches!(lone, Err(DecodeError::MissingField(f)) if f == "t"));
        assert!(matches!(decode_compact("5", 1000), Err(DecodeError::WrongType { .. })));
        assert!(matches!(decode_compact("[5", 1000), Err(DecodeError::InvalidJson(_))));
    }

    #[test]
    fn pixel_queries_decode() {
        let (key, parsed) =
            decode_pixel("k=nw_abc&e=Email%20Open&url=https%3A%2F%2Fa.example%2F&u=u1&p=%7B%22c%22%3A1%7D");
        assert_eq!(key.as_deref(), Some("nw_abc"));
        let parsed = parsed.unwrap();
        assert_eq!(parsed.message.kind, Some(EventType::Page));
        assert_eq!(parsed.message.name.as_deref(), Some("Email Open"));
        assert_eq!(parsed.message.properties.as_ref().unwrap()["c"], 1);
        assert_eq!(parsed.hints.library, Some(PIXEL_LIBRARY));
        assert!(
            matches!(decode_pixel("k=x&p=%5B1%5D").1, Err(DecodeError::WrongType { field, .. }) if field == "p")
        );
        let (key, parsed) = decode_pixel("k=x&ts=abc");
        assert_eq!(key.as_deref(), Some("x"));
        assert!(matches!(parsed, Err(DecodeError::InvalidValue { field, .. }) if field == "ts"));
    }
}
