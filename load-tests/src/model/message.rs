//! Building Segment messages exactly as a browser library would send them to `/v1/batch`:
//! ids, RFC 3339 timestamps, and a context with page, campaign, user agent, IP, locale,
//! screen and session.

use numu_schemas::event::{Campaign, Library, PageContext, Screen};
use numu_schemas::{Context, EventType, Message};
use serde_json::{Map, Value};

use super::agents::{Agent, Locale};
use super::clock::rfc3339;
use super::rng::hash;

/// The `context.library` of every generated message (tells demo data apart).
pub const LIBRARY: &str = "numu-model";

/// A UUID-shaped id that is a pure function of its inputs.
pub fn uuid_like(words: &[u64]) -> String {
    let (a, b) = (hash(words), hash(&[hash(words), 0x5EED]));
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0x0fff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

/// One device of a person: its browser, screen, place and anonymous id.
#[derive(Clone, Debug)]
pub struct DeviceState {
    pub agent: &'static Agent,
    pub screen: (u32, u32),
    pub viewport: (u32, u32),
    pub locale: &'static Locale,
    pub ip: String,
    pub anonymous_id: String,
}

/// The page an event happened on.
#[derive(Clone, Debug, Default)]
pub struct PageView {
    pub url: String,
    pub path: String,
    pub search: String,
    pub referrer: String,
    pub title: String,
    pub name: String,
    pub campaign: Option<Campaign>,
}

/// Who sends, from where, in which session.
#[derive(Clone, Copy, Debug)]
pub struct Sender<'a> {
    pub device: &'a DeviceState,
    pub user_id: Option<&'a str>,
    pub session_id: &'a str,
}

fn nonempty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_string())
}

fn context(sender: &Sender<'_>, page: &PageView) -> Context {
    let device = sender.device;
    Context {
        ip: Some(device.ip.clone()),
        locale: Some(device.locale.tag.to_string()),
        user_agent: Some(device.agent.ua.to_string()),
        timezone: Some(device.locale.timezone.to_string()),
        page: Some(PageContext {
            url: Some(page.url.clone()),
            path: Some(page.path.clone()),
            referrer: nonempty(&page.referrer),
            search: nonempty(&page.search),
            title: Some(page.title.clone()),
        }),
        campaign: page.campaign.clone(),
        screen: Some(Screen { width: Some(device.screen.0), height: Some(device.screen.1), density: None }),
        library: Some(Library {
            name: Some(LIBRARY.into()),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
        session_id: Some(Value::String(sender.session_id.to_string())),
        other: Map::new(),
    }
}

/// A message of `kind` with ids, time and context filled in.
pub fn message(kind: EventType, id: String, at_ms: i64, sender: &Sender<'_>, page: &PageView) -> Message {
    Message {
        kind: Some(kind),
        message_id: Some(id),
        anonymous_id: Some(Value::String(sender.device.anonymous_id.clone())),
        user_id: sender.user_id.map(|u| Value::String(u.to_string())),
        context: Some(context(sender, page)),
        timestamp: Some(rfc3339(at_ms)),
        ..Message::default()
    }
}

/// `page`: name and the Segment page properties.
pub fn page(id: String, at_ms: i64, sender: &Sender<'_>, view: &PageView) -> Message {
    let mut m = message(EventType::Page, id, at_ms, sender, view);
    m.name = Some(view.name.clone());
    let mut properties = Map::new();
    properties.insert("title".into(), view.title.clone().into());
    properties.insert("url".into(), view.url.clone().into());
    properties.insert("path".into(), view.path.clone().into());
    if !view.referrer.is_empty() {
        properties.insert("referrer".into(), view.referrer.clone().into());
    }
    m.properties = Some(properties);
    m
}

/// `track` with an event name and properties.
pub fn track(
    id: String,
    at_ms: i64,
    sender: &Sender<'_>,
    view: &PageView,
    event: &str,
    properties: Map<String, Value>,
) -> Message {
    let mut m = message(EventType::Track, id, at_ms, sender, view);
    m.event = Some(event.to_string());
    m.properties = Some(properties);
    m
}

/// `identify` linking the device's anonymous id to `sender.user_id`, with traits.
pub fn identify(
    id: String,
    at_ms: i64,
    sender: &Sender<'_>,
    view: &PageView,
    traits: Map<String, Value>,
) -> Message {
    let mut m = message(EventType::Identify, id, at_ms, sender, view);
    m.traits = Some(traits);
    m
}

/// `alias`: `previousId` (the anonymous id) becomes `userId`.
pub fn alias(id: String, at_ms: i64, sender: &Sender<'_>, view: &PageView) -> Message {
    let mut m = message(EventType::Alias, id, at_ms, sender, view);
    m.previous_id = Some(Value::String(sender.device.anonymous_id.clone()));
    m
}

/// A JSON object from key/value pairs.
pub fn props<const N: usize>(pairs: [(&str, Value); N]) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuid_shaped_and_deterministic() {
        let id = uuid_like(&[1, 2, 3]);
        assert_eq!(id.len(), 36);
        assert_eq!(id, uuid_like(&[1, 2, 3]));
        assert_ne!(id, uuid_like(&[1, 2, 4]));
        assert_eq!(&id[14..15], "4");
        assert!(id.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
    }
}
