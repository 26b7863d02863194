//! The wire event model: a superset of the Segment spec (`track`, `page`, `screen`,
//! `identify`, `alias`, `group`), as clients send it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The kind of a Segment message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    Track,
    Page,
    Screen,
    Identify,
    Alias,
    Group,
}

impl EventType {
    /// All kinds, in the order the Segment spec lists them.
    pub const ALL: [EventType; 6] = [
        EventType::Track,
        EventType::Page,
        EventType::Screen,
        EventType::Identify,
        EventType::Alias,
        EventType::Group,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Track => "track",
            EventType::Page => "page",
            EventType::Screen => "screen",
            EventType::Identify => "identify",
            EventType::Alias => "alias",
            EventType::Group => "group",
        }
    }

    pub fn parse(text: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// The name stored in `events.event` for messages that carry no event name of their own.
    pub fn stored_name(self) -> Option<&'static str> {
        match self {
            EventType::Track => None,
            EventType::Page => Some("$pageview"),
            EventType::Screen => Some("$screen"),
            EventType::Identify => Some("$identify"),
            EventType::Alias => Some("$create_alias"),
            EventType::Group => Some("$groupidentify"),
        }
    }
}

/// One Segment message as received. Every field is optional at this level: which ones a
/// message needs depends on its type and is checked by validation, so a missing field gets
/// a precise error instead of a generic decode failure.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// Required inside `/v1/batch`; implied by the endpoint elsewhere.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<EventType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymous_id: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Value>,
    /// `alias`: the id being merged into `userId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_id: Option<Value>,
    /// `group`: the account or company id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<Value>,
    /// `track`: the event name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// `page` / `screen`: the page or screen name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traits: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    /// ISO-8601 time the event happened (client clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_timestamp: Option<String>,
    /// ISO-8601 time the client sent the request (client clock), for skew correction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrations: Option<Value>,
}

/// `context`: what the client knows about where the event happened.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Context {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<PageContext>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<Campaign>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screen: Option<Screen>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub library: Option<Library>,
    /// Client-side session id, when the client keeps one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<Value>,
    /// Anything else the client sends (device, os, app, network, …), kept as given.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PageContext {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// UTM parameters as Segment names them (`name` is `utm_campaign`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Campaign {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medium: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Screen {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub density: Option<f64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Library {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// A Segment `/v1/batch` body.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Batch {
    pub batch: Vec<Message>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
}

impl Message {
    /// The name stored in `events.event`: the track event's name, or the type's own name.
    pub fn stored_event_name(&self) -> Option<String> {
        match self.kind? {
            EventType::Track => self.event.clone(),
            other => other.stored_name().map(str::to_string),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_track_round_trips_with_unknown_context_fields() {
        let json = r#"{"type":"track","event":"Signed Up","userId":"u1","messageId":"m1",
            "properties":{"plan":"pro","seats":3},"timestamp":"2026-01-01T00:00:00.000Z",
            "context":{"ip":"1.2.3.4","userAgent":"UA","device":{"type":"mobile"},
            "page":{"url":"https://a.example/x","referrer":"https://google.com/"},
            "campaign":{"name":"spring","source":"newsletter"}}}"#;
        let message: Message = serde_json::from_str(json).unwrap();
        assert_eq!(message.kind, Some(EventType::Track));
        assert_eq!(message.stored_event_name().as_deref(), Some("Signed Up"));
        let context = message.context.as_ref().unwrap();
        assert_eq!(context.campaign.as_ref().unwrap().name.as_deref(), Some("spring"));
        assert_eq!(context.other["device"]["type"], "mobile");
        let back: Message = serde_json::from_value(serde_json::to_value(&message).unwrap()).unwrap();
        assert_eq!(back, message);
    }

    #[test]
    fn page_and_screen_get_reserved_names() {
        let page = Message { kind: Some(EventType::Page), ..Message::default() };
        assert_eq!(page.stored_event_name().as_deref(), Some("$pageview"));
        let screen = Message { kind: Some(EventType::Screen), ..Message::default() };
        assert_eq!(screen.stored_event_name().as_deref(), Some("$screen"));
        let track = Message { kind: Some(EventType::Track), ..Message::default() };
        assert_eq!(track.stored_event_name(), None);
    }
}
