//! User agent → browser, OS, device type and bot flag. Parsing uses uap-core's regexes
//! (`ingest/data/uap-core-regexes.yaml`, via the `uaparser` crate) and costs ~0.1 ms, so
//! results are kept in a bounded concurrent cache; real traffic repeats a few thousand
//! agents. Device parsing (another ~0.13 ms) is skipped: the device type comes from a
//! few tokens instead, and bots from a substring list.

use std::sync::Arc;

use aho_corasick::AhoCorasick;
use quick_cache::sync::Cache;
use uaparser::{Parser, UserAgentParser};

use crate::front::FrontError;

const REGEXES: &[u8] = include_bytes!("../../../data/uap-core-regexes.yaml");

/// Longest user agent parsed; longer ones are cut (and cached) at this many bytes.
pub const MAX_UA_BYTES: usize = 512;

/// Lowercase substrings that mark automated clients. uap-core names many crawlers, but a
/// list also catches HTTP libraries and headless browsers it reports as ordinary ones.
const BOT_PATTERNS: &[&str] = &[
    "bot",
    "crawl",
    "spider",
    "slurp",
    "mediapartners-google",
    "headless",
    "ptst/",
    "lighthouse",
    "pingdom",
    "curl/",
    "wget/",
    "python-",
    "python/",
    "scrapy",
    "java/",
    "httpclient",
    "go-http-client",
    "libwww",
    "okhttp/",
    "axios/",
    "node-fetch",
    "aiohttp",
    "phantomjs",
    "facebookexternalhit",
    "feedfetcher",
    "ia_archiver",
    "archive.org_",
    "uptime",
    "httrack",
    "nutch",
    "semrush",
    "ahrefs",
    "bytespider",
    "chatgpt-user",
    "google-inspectiontool",
    "googleother",
    "apis-google",
    "yandex.com/bots",
];

/// Substrings that contain a bot pattern but are real devices (a phone maker).
const NOT_BOTS: &[&str] = &["cubot"];

/// What a user agent says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UaInfo {
    pub browser: String,
    pub browser_version: String,
    pub os: String,
    pub os_version: String,
    /// `desktop`, `mobile`, `tablet`, `bot` or `other`.
    pub device_type: &'static str,
    pub is_bot: bool,
}

/// The parser with its cache.
pub struct UaParser {
    parser: UserAgentParser,
    bots: AhoCorasick,
    not_bots: AhoCorasick,
    cache: Cache<String, Arc<UaInfo>>,
}

impl std::fmt::Debug for UaParser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UaParser").field("cached", &self.cache.len()).finish()
    }
}

fn version(parts: [Option<&str>; 3]) -> String {
    let mut out = String::new();
    for part in parts.into_iter().map_while(|p| p.filter(|p| !p.is_empty())) {
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(part);
    }
    out
}

fn cut(ua: &str) -> &str {
    if ua.len() <= MAX_UA_BYTES {
        return ua;
    }
    let mut end = MAX_UA_BYTES;
    while !ua.is_char_boundary(end) {
        end -= 1;
    }
    &ua[..end]
}

impl UaParser {
    /// Compiles uap-core's regexes (~25 ms) and the bot list.
    pub fn new(cache_capacity: usize) -> Result<UaParser, FrontError> {
        let parser = UserAgentParser::builder()
            .with_device(false)
            .with_unicode_support(false)
            .build_from_bytes(REGEXES)
            .map_err(|e| FrontError::Config(format!("user agent regexes: {e}")))?;
        let matcher = |patterns: &[&str]| {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(patterns)
                .map_err(|e| FrontError::Config(format!("bot patterns: {e}")))
        };
        Ok(UaParser {
            parser,
            bots: matcher(BOT_PATTERNS)?,
            not_bots: matcher(NOT_BOTS)?,
            cache: Cache::new(cache_capacity.max(1)),
        })
    }

    /// The parsed agent, from the cache when seen before.
    pub fn parse(&self, ua: &str) -> Arc<UaInfo> {
        let ua = cut(ua);
        if let Some(hit) = self.cache.get(ua) {
            return hit;
        }
        metrics::counter!(crate::front::metrics::UA_CACHE_MISSES).increment(1);
        let info = Arc::new(self.parse_uncached(ua));
        self.cache.insert(ua.to_string(), Arc::clone(&info));
        info
    }

    /// Whether a user agent matches the bot list.
    pub fn looks_automated(&self, ua: &str) -> bool {
        self.bots.is_match(ua) && !self.not_bots.is_match(ua)
    }

    /// Parses without the cache (tests and benchmarks measure this).
    pub fn parse_uncached(&self, ua: &str) -> UaInfo {
        if ua.trim().is_empty() {
            return UaInfo { device_type: "other", ..UaInfo::default() };
        }
        let agent = self.parser.parse_user_agent(ua);
        let os = self.parser.parse_os(ua);
        let is_bot = self.looks_automated(ua);
        UaInfo {
            browser_version: version([
                agent.major.as_deref(),
                agent.minor.as_deref(),
                agent.patch.as_deref(),
            ]),
            browser: agent.family.into_owned(),
            os_version: version([os.major.as_deref(), os.minor.as_deref(), os.patch.as_deref()]),
            device_type: device_type(ua, &os.family, is_bot),
            os: os.family.into_owned(),
            is_bot,
        }
    }
}

fn has(ua: &str, token: &str) -> bool {
    ua.contains(token)
}

/// Device type from well-known tokens: tablets first (their agents also say "Mobile"
/// sometimes), then phones, then desktop operating systems.
fn device_type(ua: &str, os_family: &str, is_bot: bool) -> &'static str {
    if is_bot {
        return "bot";
    }
    let android = has(ua, "Android");
    if has(ua, "iPad")
        || has(ua, "Tablet")
        || has(ua, "Kindle")
        || has(ua, "PlayBook")
        || (android && !has(ua, "Mobile"))
    {
        return "tablet";
    }
    let phone_tokens = [
        "Mobi",
        "iPhone",
        "iPod",
        "Windows Phone",
        "Opera Mini",
        "J2ME",
        "MIDP",
        "FBAN/",
        "BlackBerry",
        "Symbian",
    ];
    if android || phone_tokens.iter().any(|t| has(ua, t)) {
        return "mobile";
    }
    let desktop_os =
        ["Windows", "Mac OS X", "Linux", "Ubuntu", "Fedora", "Chrome OS", "FreeBSD", "Solaris", "Debian"];
    if desktop_os.iter().any(|os| os_family.starts_with(os))
        || has(ua, "X11")
        || has(ua, "Macintosh")
        || has(ua, "Windows NT")
    {
        return "desktop";
    }
    "other"
}
