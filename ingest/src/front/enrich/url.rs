//! URL splitting and campaign parameters. A hand-written splitter instead of a full URL
//! parser: the collector needs host, path and query of well-formed browser URLs, and
//! this costs no allocation per event.

use std::borrow::Cow;

/// The parts of a URL the collector stores. Missing parts are empty.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UrlParts<'a> {
    pub host: &'a str,
    pub path: &'a str,
    pub query: &'a str,
}

/// Splits `scheme://user@host:port/path?query#fragment`; a relative URL has no host.
pub fn split_url(url: &str) -> UrlParts<'_> {
    let url = url.trim();
    let url = url.split_once('#').map_or(url, |(before, _)| before);
    let (rest, query) = url.split_once('?').unwrap_or((url, ""));
    let Some((_, after_scheme)) = rest.split_once("://") else {
        return UrlParts { host: "", path: rest, query };
    };
    let (authority, path) = match after_scheme.find('/') {
        Some(at) => after_scheme.split_at(at),
        None => (after_scheme, ""),
    };
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host.rsplit_once(':') {
        // An IPv6 literal's colons are not a port separator: only strip after `]`.
        Some((h, port))
            if port.bytes().all(|b| b.is_ascii_digit()) && (!h.starts_with('[') || h.ends_with(']')) =>
        {
            h
        }
        _ => host,
    };
    UrlParts { host, path: if path.is_empty() { "/" } else { path }, query }
}

/// Lowercases a host only when needed (most already are).
pub fn lower_host(host: &str) -> Cow<'_, str> {
    if host.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(host.to_ascii_lowercase())
    } else {
        Cow::Borrowed(host)
    }
}

/// UTM parameters and an ad click id, from the page URL's query.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CampaignParams {
    pub utm_source: String,
    pub utm_medium: String,
    pub utm_campaign: String,
    pub utm_term: String,
    pub utm_content: String,
    pub click_id_type: &'static str,
    pub click_id: String,
}

/// Click-id query parameters, in priority order when several are present.
pub const CLICK_IDS: [&str; 7] = ["gclid", "gbraid", "wbraid", "fbclid", "msclkid", "ttclid", "li_fat_id"];

impl CampaignParams {
    /// Reads the query string. Most page URLs carry none of these, so the common case is
    /// one substring scan and no parsing.
    pub fn from_query(query: &str) -> CampaignParams {
        let mut params = CampaignParams::default();
        if query.is_empty() || !(query.contains("utm_") || query.contains("id=")) {
            return params;
        }
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let slot = match &*name {
                "utm_source" => &mut params.utm_source,
                "utm_medium" => &mut params.utm_medium,
                "utm_campaign" => &mut params.utm_campaign,
                "utm_term" => &mut params.utm_term,
                "utm_content" => &mut params.utm_content,
                other => match CLICK_IDS.iter().position(|c| *c == other) {
                    Some(rank) if params.click_id.is_empty() || rank < click_rank(params.click_id_type) => {
                        params.click_id_type = CLICK_IDS[rank];
                        &mut params.click_id
                    }
                    _ => continue,
                },
            };
            if slot.is_empty() || !value.is_empty() {
                *slot = value.into_owned();
            }
        }
        params
    }
}

fn click_rank(kind: &str) -> usize {
    CLICK_IDS.iter().position(|c| *c == kind).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_host_path_query() {
        let parts = split_url("https://user@Shop.Example:8443/a/b?x=1&y=2#top");
        assert_eq!(parts, UrlParts { host: "Shop.Example", path: "/a/b", query: "x=1&y=2" });
        assert_eq!(split_url("https://a.example").path, "/");
        assert_eq!(split_url("/relative?q").host, "");
        assert_eq!(split_url("http://[::1]:80/x").host, "[::1]");
        assert_eq!(split_url("").host, "");
        assert_eq!(lower_host("A.example"), "a.example");
    }

    #[test]
    fn utm_and_click_ids_are_read() {
        let params = CampaignParams::from_query(
            "utm_source=news%20letter&utm_medium=email&utm_campaign=spring&utm_term=shoes&utm_content=top&fbclid=F1&gclid=G1",
        );
        assert_eq!(params.utm_source, "news letter");
        assert_eq!(params.utm_medium, "email");
        assert_eq!(
            (params.utm_campaign.as_str(), params.utm_term.as_str(), params.utm_content.as_str()),
            ("spring", "shoes", "top")
        );
        // gclid outranks fbclid whatever the order.
        assert_eq!((params.click_id_type, params.click_id.as_str()), ("gclid", "G1"));
        for (query, kind) in [
            ("msclkid=m", "msclkid"),
            ("ttclid=t", "ttclid"),
            ("li_fat_id=l", "li_fat_id"),
            ("x=1&fbclid=f", "fbclid"),
        ] {
            assert_eq!(CampaignParams::from_query(query).click_id_type, kind, "{query}");
        }
        assert_eq!(CampaignParams::from_query("page=2"), CampaignParams::default());
    }
}
