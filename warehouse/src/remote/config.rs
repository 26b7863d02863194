//! Configuration of the remote engine: where the ClickHouse server is, who Numu is there,
//! and how patient to be with it.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How Numu reaches a ClickHouse server or cluster over HTTP(S).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RemoteConfig {
    /// `http://host:8123` or `https://host:8443`; credentials in the URL
    /// (`https://user:password@host:8443`) are taken as `user` and `password`.
    pub url: String,
    #[serde(deserialize_with = "lenient_string")]
    pub user: String,
    /// Never serialized (`numu config` prints the configuration); read from the file or
    /// `NUMU_WAREHOUSE__REMOTE__PASSWORD`.
    #[serde(skip_serializing, deserialize_with = "lenient_string")]
    pub password: String,
    /// A cluster name from the server's `remote_servers`: migrations are then generated
    /// `ON CLUSTER` with replicated and Distributed tables (see `cluster.rs`).
    pub cluster: Option<String>,
    /// `lz4` (the default: compressed inserts and responses) or `none`.
    pub compression: Compression,
    /// Extra PEM certificate authority trusted for `https` (besides the public web roots),
    /// for servers with a private CA.
    pub ca_file: Option<PathBuf>,
    pub timeouts: Timeouts,
    pub retries: Retries,
}

impl Default for RemoteConfig {
    fn default() -> Self {
        RemoteConfig {
            url: "http://localhost:8123".into(),
            user: "default".into(),
            password: String::new(),
            cluster: None,
            compression: Compression::Lz4,
            ca_file: None,
            timeouts: Timeouts::default(),
            retries: Retries::default(),
        }
    }
}

impl std::fmt::Debug for RemoteConfig {
    /// Never prints the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteConfig")
            .field("url", &super::http::origin(&self.url))
            .field("user", &self.user)
            .field("password", &if self.password.is_empty() { "" } else { "***" })
            .field("cluster", &self.cluster)
            .field("compression", &self.compression)
            .field("ca_file", &self.ca_file)
            .field("timeouts", &self.timeouts)
            .field("retries", &self.retries)
            .finish()
    }
}

/// A string that may arrive as a number or a boolean: environment variables are parsed
/// (`NUMU_WAREHOUSE__REMOTE__PASSWORD=12345` reads as an integer).
fn lenient_string<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    struct Lenient;
    impl serde::de::Visitor<'_> for Lenient {
        type Value = String;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E>(self, v: &str) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_i64<E>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_u64<E>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_f64<E>(self, v: f64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_bool<E>(self, v: bool) -> Result<String, E> {
            Ok(v.to_string())
        }
    }
    deserializer.deserialize_any(Lenient)
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    #[default]
    Lz4,
    None,
}

/// Time limits, in seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Timeouts {
    /// Establishing a TCP (and TLS) connection.
    pub connect_secs: f64,
    /// A query or statement: sent to the server as `max_execution_time` and enforced by
    /// the client too (also the longest silence allowed while a result streams).
    pub query_secs: f64,
    /// Sending one insert and receiving its acknowledgement.
    pub insert_secs: f64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { connect_secs: 5.0, query_secs: 120.0, insert_secs: 120.0 }
    }
}

impl Timeouts {
    pub fn connect(&self) -> Duration {
        seconds(self.connect_secs)
    }

    pub fn query(&self) -> Duration {
        seconds(self.query_secs)
    }

    pub fn insert(&self) -> Duration {
        seconds(self.insert_secs)
    }
}

fn seconds(value: f64) -> Duration {
    Duration::try_from_secs_f64(value).unwrap_or(Duration::from_secs(1)).max(Duration::from_millis(1))
}

/// Retries of reads (queries and version checks) after connection failures, with
/// exponential backoff. Statements and inserts are not retried here: the collector retries
/// inserts itself with their idempotency token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Retries {
    /// Attempts after the first one.
    pub attempts: u32,
    /// Wait before the first retry; doubled after each, up to `max_backoff_ms`.
    pub initial_backoff_ms: u64,
    pub max_backoff_ms: u64,
}

impl Default for Retries {
    fn default() -> Self {
        Retries { attempts: 3, initial_backoff_ms: 100, max_backoff_ms: 2_000 }
    }
}

impl Retries {
    /// The wait before retry number `retry` (0-based).
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 1u64.checked_shl(retry.min(20)).unwrap_or(u64::MAX);
        Duration::from_millis(self.initial_backoff_ms.saturating_mul(factor).min(self.max_backoff_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let r = Retries::default();
        let waits: Vec<u64> = (0..6).map(|i| r.backoff(i).as_millis() as u64).collect();
        assert_eq!(waits, vec![100, 200, 400, 800, 1600, 2000]);
    }

    #[test]
    fn numeric_credentials_from_the_environment_are_strings() {
        let config: RemoteConfig = serde_json::from_str(r#"{"user": 1000, "password": 12345}"#).unwrap();
        assert_eq!((config.user.as_str(), config.password.as_str()), ("1000", "12345"));
        let config: RemoteConfig =
            serde_json::from_str(r#"{"password": "s", "timeouts": {"query_secs": 30}}"#).unwrap();
        assert_eq!((config.password.as_str(), config.timeouts.query()), ("s", Duration::from_secs(30)));
        assert!(serde_json::from_str::<RemoteConfig>(r#"{"pasword": "typo"}"#).is_err());
    }

    #[test]
    fn debug_never_shows_the_password() {
        let config = RemoteConfig {
            url: "https://u:hunter2@example.com:8443".into(),
            password: "hunter2".into(),
            ..RemoteConfig::default()
        };
        let text = format!("{config:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("https://example.com:8443"), "{text}");
    }
}
