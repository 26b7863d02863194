//! The front half's settings (a TOML section of the server's configuration). Every key
//! has a default, and unknown keys are refused so a typo cannot silently fall back.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Collector front settings. Sizes are in bytes, durations in seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Largest single event (Segment documents 32 KB); also the body cap of `/v1/track` etc.
    pub max_event_bytes: usize,
    /// Largest `/v1/batch` body, after decompression (Segment documents 500 KB).
    pub max_batch_bytes: usize,
    /// Largest `/e` body from the snippet, after decompression (sdk-js/PROTOCOL.md
    /// suggests 64 KiB; the snippet sends at most 10 events at a time).
    pub max_snippet_body_bytes: usize,
    /// Store the client IP in the `ip` column. Off by default: the IP is only used for the
    /// cookieless visitor hash and geo lookup.
    pub store_ip: bool,
    /// Take the client IP from the first `X-Forwarded-For` entry (set only behind a proxy
    /// you control, or clients can forge it).
    pub trust_forwarded_for: bool,
    /// Secret from which each day's visitor-hash salt is derived. When unset, salts are
    /// random per process: cookieless visitor ids then differ between collectors and
    /// across restarts.
    pub visitor_salt_secret: Option<String>,
    /// A MaxMind-format (GeoLite2/GeoIP2 City or Country) database for geo lookup.
    pub geoip_path: Option<PathBuf>,
    /// Parsed user agents kept in memory.
    pub ua_cache_capacity: usize,
    /// How long a write-key lookup is trusted before the application database is asked
    /// again (disabling a key takes effect within this time). 0 disables the cache.
    pub key_cache_ttl_secs: u64,
    /// How far past the receive time a (skew-corrected) timestamp may be before it is
    /// clamped to the receive time.
    pub future_timestamp_allowance_secs: u64,
    /// Dead letters stored per minute for payloads whose project cannot be known (no or
    /// unreadable key): bounds what an unauthenticated flood can write. Beyond it they are
    /// only counted.
    pub anonymous_dead_letters_per_minute: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_event_bytes: 32 * 1024,
            max_batch_bytes: 500 * 1024,
            max_snippet_body_bytes: 64 * 1024,
            store_ip: false,
            trust_forwarded_for: false,
            visitor_salt_secret: None,
            geoip_path: None,
            ua_cache_capacity: 10_000,
            key_cache_ttl_secs: 10,
            future_timestamp_allowance_secs: 60,
            anonymous_dead_letters_per_minute: 60,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_missing_keys_and_typos_are_refused() {
        let config: Config = serde_json::from_str(r#"{"store_ip": true}"#).unwrap();
        assert!(config.store_ip);
        assert_eq!(config.max_event_bytes, 32 * 1024);
        assert!(serde_json::from_str::<Config>(r#"{"store_pi": true}"#).is_err());
    }
}
