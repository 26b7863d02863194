//! Enrichment: a validated message plus what the request says (IP, user agent, receive
//! time) → an `events` row. Each table lives in its own module; this one assembles.

pub mod geo;
pub mod props;
pub mod referrer;
pub mod skew;
pub mod ua;
pub mod url;
pub mod visitor;

use std::net::IpAddr;

use numu_schemas::{EventRow, EventType};
use serde_json::Value;

use self::geo::GeoDb;
use self::referrer::ReferrerTable;
use self::ua::UaParser;
use self::url::{lower_host, split_url, CampaignParams};
use self::visitor::VisitorHasher;
use super::pipeline::RequestMeta;
use super::validate::{Valid, MAX_ID_CHARS};
use super::{Config, FrontError};

/// An enriched event: its row plus what identity records need.
#[derive(Clone, Debug, PartialEq)]
pub struct Enriched {
    pub row: EventRow,
    pub previous_id: String,
    pub set: Vec<(String, String)>,
    pub set_once: Vec<(String, String)>,
}

/// The enrichment resources, built once at start.
#[derive(Debug)]
pub struct Enricher {
    pub ua: UaParser,
    pub referrers: ReferrerTable,
    pub visitors: VisitorHasher,
    pub geo: Option<GeoDb>,
    store_ip: bool,
    future_allowance_ms: i64,
}

fn text(value: Option<&String>) -> String {
    value.map(|s| s.trim().to_string()).unwrap_or_default()
}

/// A property given as a string, for Segment `page` calls that put url/referrer there.
fn property<'a>(valid: &'a Valid, key: &str) -> Option<&'a String> {
    match valid.message.properties.as_ref()?.get(key)? {
        Value::String(s) => Some(s),
        _ => None,
    }
}

fn session_text(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) if s.len() <= MAX_ID_CHARS => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

impl Enricher {
    pub fn new(config: &Config, now_ms: i64) -> Result<Enricher, FrontError> {
        Ok(Enricher {
            ua: UaParser::new(config.ua_cache_capacity)?,
            referrers: ReferrerTable::bundled(),
            visitors: VisitorHasher::new(config.visitor_salt_secret.as_deref(), now_ms),
            geo: config.geoip_path.as_deref().map(GeoDb::open).transpose()?,
            store_ip: config.store_ip,
            future_allowance_ms: i64::try_from(config.future_timestamp_allowance_secs.saturating_mul(1000))
                .unwrap_or(i64::MAX),
        })
    }

    /// Builds the row of one validated event.
    pub fn enrich(&self, project_id: u64, mut valid: Valid, meta: &RequestMeta<'_>) -> Enriched {
        let mut row = EventRow {
            project_id,
            event_type: valid.kind.as_str().to_string(),
            received_at: meta.received_at,
            ..EventRow::default()
        };
        let corrected =
            skew::correct(valid.timestamp_ms, valid.sent_at_ms, meta.received_at, self.future_allowance_ms);
        row.timestamp = corrected.timestamp;
        self.page_fields(&mut row, &valid);
        let context = valid.message.context.take().unwrap_or_default();
        let ip = context.ip.as_deref().and_then(|ip| ip.trim().parse::<IpAddr>().ok()).or(meta.ip);
        let user_agent = context.user_agent.as_deref().or(meta.user_agent).unwrap_or_default();
        self.device_fields(&mut row, user_agent);
        self.place_fields(&mut row, ip);
        row.session_id = session_text(context.session_id.as_ref());
        row.locale =
            context.locale.or_else(|| meta.accept_language.and_then(first_language)).unwrap_or_default();
        if let Some(screen) = context.screen {
            row.screen_width = screen.width.map_or(0, clamp_u16);
            row.screen_height = screen.height.map_or(0, clamp_u16);
        }
        row.library = context
            .library
            .and_then(|l| l.name)
            .or(valid.hints.library.map(str::to_string))
            .unwrap_or_default();
        row.message_id = valid.message.message_id.take().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        row.distinct_id = if !valid.user_id.is_empty() {
            valid.user_id.clone()
        } else if !valid.anonymous_id.is_empty() {
            valid.anonymous_id.clone()
        } else {
            let ip_text = ip.map(|ip| ip.to_string()).unwrap_or_default();
            self.visitors.visitor_id(meta.received_at, row.timestamp, project_id, &ip_text, user_agent)
        };
        row.user_id = std::mem::take(&mut valid.user_id);
        row.anonymous_id = std::mem::take(&mut valid.anonymous_id);
        row.event = std::mem::take(&mut valid.event);
        if self.store_ip {
            row.ip = ip.map(|ip| ip.to_string()).unwrap_or_default();
        }
        self.finish_properties(row, valid, corrected.clamped_from)
    }

    fn finish_properties(&self, mut row: EventRow, valid: Valid, clamped_from: Option<i64>) -> Enriched {
        let Valid { message, hints, kind, previous_id, group_id, .. } = valid;
        let mut props = props::split(kind, message.properties, message.traits);
        let mut extra = |key: &str, value: String| props.stored.push((key.to_string(), value));
        if matches!(kind, EventType::Page | EventType::Screen) {
            if let Some(name) = message.name.filter(|n| !n.is_empty()) {
                extra("$name", name);
            }
            if let Some(category) = message.category.filter(|c| !c.is_empty()) {
                extra("$category", category);
            }
        }
        if !group_id.is_empty() {
            extra("$group_id", group_id);
        }
        if let Some((width, height)) = hints.viewport {
            extra("$viewport_width", width.to_string());
            extra("$viewport_height", height.to_string());
        }
        if let Some(original) = clamped_from {
            extra("$original_timestamp", original.to_string());
        }
        props.stored.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        row.revenue = props.revenue;
        row.properties = props.stored;
        Enriched { row, previous_id, set: props.set, set_once: props.set_once }
    }

    /// URL, title, referrer, channel, UTM and click id.
    fn page_fields(&self, row: &mut EventRow, valid: &Valid) {
        let page = valid.message.context.as_ref().and_then(|c| c.page.as_ref());
        let pick = |from_page: Option<&String>, key: &str| text(from_page.or_else(|| property(valid, key)));
        row.url = pick(page.and_then(|p| p.url.as_ref()), "url");
        row.title = pick(page.and_then(|p| p.title.as_ref()), "title");
        row.referrer = pick(page.and_then(|p| p.referrer.as_ref()), "referrer");
        let parts = split_url(&row.url);
        row.host = lower_host(parts.host).into_owned();
        row.path = if parts.path.is_empty() {
            pick(page.and_then(|p| p.path.as_ref()), "path")
        } else {
            parts.path.to_string()
        };
        let mut campaign = CampaignParams::from_query(parts.query);
        if let Some(given) = valid.message.context.as_ref().and_then(|c| c.campaign.as_ref()) {
            // Segment's `context.campaign` is what the client already parsed: it wins.
            let fields = [
                (&given.source, &mut campaign.utm_source),
                (&given.medium, &mut campaign.utm_medium),
                (&given.name, &mut campaign.utm_campaign),
                (&given.term, &mut campaign.utm_term),
                (&given.content, &mut campaign.utm_content),
            ];
            for (from, to) in fields {
                if let Some(value) = from.as_ref().filter(|v| !v.is_empty()) {
                    value.clone_into(to);
                }
            }
        }
        let referrer_host = lower_host(split_url(&row.referrer).host).into_owned();
        let found = self.referrers.lookup(&referrer_host);
        row.channel =
            referrer::channel_of(&campaign, &referrer_host, found.map(|(_, m)| m), &row.host).to_string();
        row.referrer_source = found.map(|(s, _)| s.to_string()).unwrap_or_default();
        row.referrer_host = referrer_host;
        row.utm_source = campaign.utm_source;
        row.utm_medium = campaign.utm_medium;
        row.utm_campaign = campaign.utm_campaign;
        row.utm_term = campaign.utm_term;
        row.utm_content = campaign.utm_content;
        row.click_id_type = campaign.click_id_type.to_string();
        row.click_id = campaign.click_id;
    }

    fn device_fields(&self, row: &mut EventRow, user_agent: &str) {
        if user_agent.is_empty() {
            return;
        }
        let info = self.ua.parse(user_agent);
        row.browser.clone_from(&info.browser);
        row.browser_version.clone_from(&info.browser_version);
        row.os.clone_from(&info.os);
        row.os_version.clone_from(&info.os_version);
        row.device_type = info.device_type.to_string();
        row.is_bot = info.is_bot;
    }

    fn place_fields(&self, row: &mut EventRow, ip: Option<IpAddr>) {
        if let Some(place) = self.geo.as_ref().zip(ip).and_then(|(geo, ip)| geo.lookup(ip)) {
            row.country = place.country;
            row.region = place.region;
            row.city = place.city;
        }
    }
}

fn clamp_u16(value: u32) -> u16 {
    u16::try_from(value).unwrap_or(u16::MAX)
}

/// The first language tag of an `Accept-Language` header (`en-US,en;q=0.9` → `en-US`).
fn first_language(header: &str) -> Option<String> {
    let tag = header.split([',', ';']).next()?.trim();
    (!tag.is_empty() && tag != "*" && tag.len() <= 35).then(|| tag.to_string())
}
