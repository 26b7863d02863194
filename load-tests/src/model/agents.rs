//! Real user-agent strings with what they are (device class, browser, OS), the screens of
//! each device class, and visitors' locales. The weights are rough shares of web traffic.

use serde::Serialize;

/// The class of device an agent runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    Desktop,
    Mobile,
    Tablet,
    Bot,
}

impl Device {
    pub fn as_str(self) -> &'static str {
        match self {
            Device::Desktop => "desktop",
            Device::Mobile => "mobile",
            Device::Tablet => "tablet",
            Device::Bot => "bot",
        }
    }
}

/// One user agent.
#[derive(Clone, Copy, Debug)]
pub struct Agent {
    pub ua: &'static str,
    pub device: Device,
    pub browser: &'static str,
    pub browser_version: &'static str,
    pub os: &'static str,
    pub os_version: &'static str,
    pub weight: f64,
}

const fn agent(
    ua: &'static str,
    device: Device,
    browser: &'static str,
    browser_version: &'static str,
    os: &'static str,
    os_version: &'static str,
    weight: f64,
) -> Agent {
    Agent { ua, device, browser, browser_version, os, os_version, weight }
}

use Device::{Bot, Desktop, Mobile, Tablet};

/// Desktop, phone and tablet browsers.
pub const HUMAN_AGENTS: &[Agent] = &[
    agent("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", Desktop, "Chrome", "131.0.0", "Windows", "10", 30.0),
    agent("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", Desktop, "Chrome", "131.0.0", "Mac OS X", "10.15.7", 14.0),
    agent("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", Desktop, "Chrome", "131.0.0", "Linux", "", 3.0),
    agent("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86", Desktop, "Edge", "131.0.2903", "Windows", "10", 11.0),
    agent("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1.1 Safari/605.1.15", Desktop, "Safari", "18.1.1", "Mac OS X", "10.15.7", 10.0),
    agent("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", Desktop, "Firefox", "133.0", "Windows", "10", 6.0),
    agent("Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 Firefox/133.0", Desktop, "Firefox", "133.0", "Mac OS X", "10.15", 2.0),
    agent("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", Desktop, "Firefox", "133.0", "Linux", "", 2.0),
    agent("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1.1 Mobile/15E148 Safari/604.1", Mobile, "Mobile Safari", "18.1.1", "iOS", "18.1.1", 30.0),
    agent("Mozilla/5.0 (iPhone; CPU iPhone OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1", Mobile, "Chrome Mobile iOS", "131.0.6778", "iOS", "17.7", 6.0),
    agent("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", Mobile, "Chrome Mobile", "131.0.0", "Android", "10", 32.0),
    agent("Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36", Mobile, "Samsung Internet", "26.0", "Android", "14", 8.0),
    agent("Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0", Mobile, "Firefox Mobile", "133.0", "Android", "14", 2.0),
    agent("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 EdgA/131.0.2903.87", Mobile, "Edge Mobile", "131.0.2903", "Android", "10", 2.0),
    agent("Mozilla/5.0 (iPad; CPU OS 18_1_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1.1 Mobile/15E148 Safari/604.1", Tablet, "Mobile Safari", "18.1.1", "iOS", "18.1.1", 6.0),
    agent("Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", Tablet, "Chrome", "131.0.0", "Android", "13", 2.0),
];

/// Crawlers and headless browsers.
pub const BOT_AGENTS: &[Agent] = &[
    agent("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", Bot, "Googlebot", "2.1", "Other", "", 30.0),
    agent("Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.69 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", Bot, "Googlebot", "2.1", "Android", "6.0.1", 15.0),
    agent("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", Bot, "bingbot", "2.0", "Other", "", 15.0),
    agent("DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)", Bot, "DuckDuckBot", "1.1", "Other", "", 3.0),
    agent("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", Bot, "AhrefsBot", "7.0", "Other", "", 10.0),
    agent("Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", Bot, "YandexBot", "3.0", "Other", "", 5.0),
    agent("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", Bot, "FacebookBot", "1.1", "Other", "", 7.0),
    agent("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)", Bot, "GPTBot", "1.2", "Other", "", 5.0),
    agent("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36", Bot, "HeadlessChrome", "131.0.0", "Linux", "", 5.0),
];

/// The agent with this exact string, if it is one of the model's.
pub fn lookup(ua: &str) -> Option<&'static Agent> {
    HUMAN_AGENTS.iter().chain(BOT_AGENTS).find(|a| a.ua == ua)
}

/// Screen sizes (CSS px) and weights per device class; the viewport is the screen less the
/// browser's chrome.
pub fn screens(device: Device) -> &'static [(u32, u32, f64)] {
    match device {
        Device::Desktop | Device::Bot => &[
            (1920, 1080, 0.34),
            (1536, 864, 0.14),
            (1440, 900, 0.14),
            (1366, 768, 0.12),
            (2560, 1440, 0.1),
            (1280, 720, 0.16),
        ],
        Device::Mobile => {
            &[(390, 844, 0.3), (393, 873, 0.2), (412, 915, 0.22), (375, 667, 0.12), (430, 932, 0.16)]
        }
        Device::Tablet => &[(820, 1180, 0.5), (768, 1024, 0.5)],
    }
}

/// Height the browser's own bars take from the screen.
pub fn chrome_height(device: Device) -> u32 {
    match device {
        Device::Desktop | Device::Bot => 130,
        Device::Mobile => 160,
        Device::Tablet => 110,
    }
}

/// A locale, its usual time zone, a weight, and first octets of addresses in its region.
#[derive(Clone, Copy, Debug)]
pub struct Locale {
    pub tag: &'static str,
    pub timezone: &'static str,
    pub weight: f64,
    pub ip_first_octets: &'static [u8],
}

pub const LOCALES: &[Locale] = &[
    Locale {
        tag: "en-US",
        timezone: "America/New_York",
        weight: 30.0,
        ip_first_octets: &[24, 67, 73, 98, 174],
    },
    Locale { tag: "en-GB", timezone: "Europe/London", weight: 8.0, ip_first_octets: &[81, 86, 90] },
    Locale { tag: "ar-SA", timezone: "Asia/Riyadh", weight: 10.0, ip_first_octets: &[188, 212] },
    Locale { tag: "ar-EG", timezone: "Africa/Cairo", weight: 6.0, ip_first_octets: &[41, 156, 197] },
    Locale { tag: "ar-AE", timezone: "Asia/Dubai", weight: 4.0, ip_first_octets: &[94, 217] },
    Locale { tag: "de-DE", timezone: "Europe/Berlin", weight: 8.0, ip_first_octets: &[79, 84, 93] },
    Locale { tag: "fr-FR", timezone: "Europe/Paris", weight: 7.0, ip_first_octets: &[82, 88, 90] },
    Locale { tag: "es-ES", timezone: "Europe/Madrid", weight: 5.0, ip_first_octets: &[83, 88] },
    Locale { tag: "pt-BR", timezone: "America/Sao_Paulo", weight: 6.0, ip_first_octets: &[177, 179, 187] },
    Locale { tag: "hi-IN", timezone: "Asia/Kolkata", weight: 6.0, ip_first_octets: &[49, 106, 117] },
    Locale { tag: "tr-TR", timezone: "Europe/Istanbul", weight: 4.0, ip_first_octets: &[78, 88] },
    Locale { tag: "ja-JP", timezone: "Asia/Tokyo", weight: 3.0, ip_first_octets: &[60, 126, 133] },
];

/// Given and family names for identified persons' traits.
pub const FIRST_NAMES: &[&str] = &[
    "Layla", "Omar", "Fatima", "Youssef", "Amira", "Karim", "Noor", "Hassan", "Sara", "Ali", "Emma", "Liam",
    "Olivia", "Noah", "Mia", "Lucas", "Sofia", "Mateo", "Hana", "Kenji", "Priya", "Arjun", "Elif", "Can",
];
pub const LAST_NAMES: &[&str] = &[
    "Haddad", "Khalil", "Mansour", "Nasser", "Saleh", "Farouk", "Smith", "Johnson", "Müller", "Dubois",
    "García", "Silva", "Sato", "Sharma", "Yılmaz", "Brown", "Rossi", "Kowalski",
];

/// CRM segments the plan names, with weights.
pub const SEGMENTS: &[(&str, f64)] =
    &[("enterprise", 0.1), ("small business", 0.35), ("startup", 0.35), ("freelancer", 0.2)];
