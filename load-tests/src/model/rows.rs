//! A straightforward message → record conversion (`simple_*`), for benchmarks and the bulk
//! loader until the collector's own enrichment is plugged in. It fills every column from
//! what the message says and what the model knows about its own user agents; it is not the
//! collector's enrichment (no user-agent parser, referrer database or geo lookup), so
//! columns such as `channel` follow simpler rules, in the collector's vocabulary, that agree
//! with it on the model's own referrers and campaigns.

use numu_ingest::{IdentityLink, PersonUpdate, Record};
use numu_schemas::{EventRow, EventType, Message};
use serde_json::Value;

use super::agents::lookup;
use super::clock::parse_rfc3339;

/// Milliseconds between an event and its arrival at the collector, as the bulk loader
/// pretends (so loaded data is deterministic too).
pub const RECEIVED_AFTER_MS: i64 = 250;

/// When the bulk loader says a message was received: its timestamp plus
/// [`RECEIVED_AFTER_MS`] (0 without a readable timestamp).
pub fn received_at(message: &Message) -> i64 {
    message.timestamp.as_deref().and_then(parse_rfc3339).map_or(0, |t| t + RECEIVED_AFTER_MS)
}

fn text(value: &Option<Value>) -> String {
    match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// The lower-cased host of an absolute URL (`""` when there is none).
pub fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or("", |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    host.split(':').next().unwrap_or("").to_ascii_lowercase()
}

/// The value of `key` in a URL's query string.
fn query_param<'a>(url: &'a str, key: &str) -> Option<&'a str> {
    let query = url.split_once('?')?.1.split('#').next()?;
    query.split('&').find_map(|pair| pair.split_once('=').filter(|(k, _)| *k == key).map(|(_, v)| v))
}

const SEARCH: &[(&str, &str)] = &[
    ("google.", "Google"),
    ("bing.com", "Bing"),
    ("duckduckgo.com", "DuckDuckGo"),
    ("yahoo.com", "Yahoo!"),
    ("yandex.", "Yandex"),
];
const SOCIAL: &[(&str, &str)] = &[
    ("t.co", "Twitter"),
    ("twitter.com", "Twitter"),
    ("x.com", "Twitter"),
    ("facebook.com", "Facebook"),
    ("linkedin.com", "LinkedIn"),
    ("reddit.com", "Reddit"),
    ("news.ycombinator.com", "Hacker News"),
    ("github.com", "GitHub"),
];

fn known(host: &str, table: &[(&str, &'static str)]) -> Option<&'static str> {
    let bare = host.strip_prefix("www.").unwrap_or(host);
    let matches = |pattern: &str| {
        bare == pattern
            || bare.ends_with(&format!(".{pattern}"))
            || (pattern.ends_with('.')
                && (bare.starts_with(pattern) || bare.contains(&format!(".{pattern}"))))
    };
    table.iter().find(|(pattern, _)| matches(pattern)).map(|(_, name)| *name)
}

/// The channel in the collector's vocabulary, by simpler rules: a click id or a paid UTM
/// medium → `paid`; `email` / `newsletter` → `email`; then the referrer (search engine →
/// `search`, social network → `social`, another site → `referral`); no referrer or the
/// site itself → `direct` (`referral` when only a UTM source is given).
pub fn simple_channel(
    medium: &str,
    source: &str,
    click_id: bool,
    referrer_host: &str,
    host: &str,
) -> &'static str {
    let medium = medium.to_ascii_lowercase();
    if click_id
        || matches!(medium.as_str(), "cpc" | "ppc" | "cpm" | "display" | "retargeting")
        || medium.starts_with("paid")
    {
        return "paid";
    }
    match medium.as_str() {
        "email" | "e-mail" | "newsletter" => return "email",
        "social" | "social-media" | "social_media" => return "social",
        "organic" => return "search",
        _ => {}
    }
    if referrer_host.is_empty() || referrer_host == host {
        if source.is_empty() {
            "direct"
        } else {
            "referral"
        }
    } else if known(referrer_host, SEARCH).is_some() {
        "search"
    } else if known(referrer_host, SOCIAL).is_some() {
        "social"
    } else {
        "referral"
    }
}

fn property_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One `events` row for `message`, by the simple rules above.
pub fn simple_row(message: &Message, project_id: u64, received_at_ms: i64) -> EventRow {
    let context = message.context.clone().unwrap_or_default();
    let page = context.page.clone().unwrap_or_default();
    let campaign = context.campaign.clone().unwrap_or_default();
    let url = page.url.unwrap_or_default();
    let referrer = page.referrer.unwrap_or_default();
    let (host, referrer_host) = (host_of(&url), host_of(&referrer));
    let utm = |field: Option<String>, key: &str| {
        field.or_else(|| query_param(&url, key).map(str::to_string)).unwrap_or_default()
    };
    let (utm_source, utm_medium) = (utm(campaign.source, "utm_source"), utm(campaign.medium, "utm_medium"));
    let click = ["gclid", "fbclid", "msclkid", "li_fat_id"]
        .into_iter()
        .find_map(|k| query_param(&url, k).map(|v| (k, v)));
    let agent = context.user_agent.as_deref().and_then(lookup);
    let mut properties: Vec<(String, String)> =
        message.properties.iter().flatten().map(|(k, v)| (k.clone(), property_text(v))).collect();
    properties.sort();
    let (anonymous_id, user_id) = (text(&message.anonymous_id), text(&message.user_id));
    EventRow {
        project_id,
        timestamp: message.timestamp.as_deref().and_then(parse_rfc3339).unwrap_or(received_at_ms),
        event: message.stored_event_name().unwrap_or_default(),
        event_type: message.kind.map_or("", EventType::as_str).to_string(),
        message_id: message.message_id.clone().unwrap_or_default(),
        distinct_id: if user_id.is_empty() { anonymous_id.clone() } else { user_id.clone() },
        anonymous_id,
        user_id,
        session_id: text(&context.session_id),
        channel: simple_channel(&utm_medium, &utm_source, click.is_some(), &referrer_host, &host).to_string(),
        referrer_source: known(&referrer_host, SEARCH)
            .or_else(|| known(&referrer_host, SOCIAL))
            .unwrap_or("")
            .to_string(),
        utm_campaign: utm(campaign.name, "utm_campaign"),
        utm_term: utm(campaign.term, "utm_term"),
        utm_content: utm(campaign.content, "utm_content"),
        utm_source,
        utm_medium,
        click_id_type: click.map(|c| c.0.to_string()).unwrap_or_default(),
        click_id: click.map(|c| c.1.to_string()).unwrap_or_default(),
        device_type: agent.map(|a| a.device.as_str().to_string()).unwrap_or_default(),
        browser: agent.map(|a| a.browser.to_string()).unwrap_or_default(),
        browser_version: agent.map(|a| a.browser_version.to_string()).unwrap_or_default(),
        os: agent.map(|a| a.os.to_string()).unwrap_or_default(),
        os_version: agent.map(|a| a.os_version.to_string()).unwrap_or_default(),
        is_bot: agent.is_some_and(|a| a.device == super::agents::Device::Bot),
        country: context
            .locale
            .as_deref()
            .and_then(|l| l.split_once('-'))
            .map(|(_, c)| c.to_string())
            .unwrap_or_default(),
        locale: context.locale.clone().unwrap_or_default(),
        screen_width: context.screen.as_ref().and_then(|s| s.width).unwrap_or(0).min(u32::from(u16::MAX))
            as u16,
        screen_height: context.screen.as_ref().and_then(|s| s.height).unwrap_or(0).min(u32::from(u16::MAX))
            as u16,
        ip: context.ip.clone().unwrap_or_default(),
        library: context.library.as_ref().and_then(|l| l.name.clone()).unwrap_or_default(),
        revenue: message
            .properties
            .as_ref()
            .and_then(|p| p.get("revenue"))
            .and_then(Value::as_f64)
            .unwrap_or(0.0),
        title: page.title.unwrap_or_default(),
        path: page.path.unwrap_or_default(),
        url,
        host,
        referrer,
        referrer_host,
        properties,
        received_at: received_at_ms,
        region: String::new(),
        city: String::new(),
    }
}

/// The records the message stands for: its event row, and for `identify` / `alias` the
/// identity link (and `identify` traits as a person update).
pub fn simple_records(message: Message, project_id: u64, received_at_ms: i64) -> Vec<Record> {
    let row = simple_row(&message, project_id, received_at_ms);
    let link = |distinct_id: String, linked_id: String, kind: &str| IdentityLink {
        project_id,
        distinct_id,
        linked_id,
        kind: kind.to_string(),
        timestamp: row.timestamp,
        message_id: row.message_id.clone(),
    };
    let mut records = Vec::with_capacity(3);
    match message.kind {
        Some(EventType::Identify) if !row.user_id.is_empty() && !row.anonymous_id.is_empty() => {
            records.push(Record::Link(link(row.user_id.clone(), row.anonymous_id.clone(), "identify")));
            let traits: Vec<(String, String)> =
                message.traits.iter().flatten().map(|(k, v)| (k.clone(), property_text(v))).collect();
            if !traits.is_empty() {
                records.push(Record::PersonUpdate(PersonUpdate {
                    project_id,
                    distinct_id: row.user_id.clone(),
                    timestamp: row.timestamp,
                    set_properties: traits,
                    set_once_properties: Vec::new(),
                    message_id: row.message_id.clone(),
                }));
            }
        }
        Some(EventType::Alias) => {
            let previous = text(&message.previous_id);
            if !previous.is_empty() && !row.user_id.is_empty() {
                records.push(Record::Link(link(row.user_id.clone(), previous, "alias")));
            }
        }
        _ => {}
    }
    records.insert(0, Record::Event(Box::new(row)));
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_follow_the_simple_rules() {
        let own = "www.example.com";
        assert_eq!(simple_channel("cpc", "google", true, "www.google.com", own), "paid");
        assert_eq!(simple_channel("paid_social", "facebook", false, "l.facebook.com", own), "paid");
        assert_eq!(simple_channel("", "", true, "", own), "paid");
        assert_eq!(simple_channel("email", "newsletter", false, "", own), "email");
        assert_eq!(simple_channel("", "", false, "www.google.com", own), "search");
        assert_eq!(simple_channel("", "", false, "www.google.co.uk", own), "search");
        assert_eq!(simple_channel("", "", false, "search.yahoo.com", own), "search");
        assert_eq!(simple_channel("", "", false, "t.co", own), "social");
        assert_eq!(simple_channel("", "", false, "news.ycombinator.com", own), "social");
        assert_eq!(simple_channel("", "", false, "dev.to", own), "referral");
        assert_eq!(simple_channel("", "", false, "", own), "direct");
        assert_eq!(simple_channel("", "", false, own, own), "direct");
        assert_eq!(simple_channel("", "partner", false, "", own), "referral");
        assert_eq!(host_of("https://User@WWW.Example.com:8443/a?b#c"), "www.example.com");
        assert_eq!(query_param("https://x/p?utm_source=g&gclid=abc#f", "gclid"), Some("abc"));
    }
}
