//! Configuration, documented in one place (`docs/configuration.md`): built-in defaults,
//! then a TOML file, then `NUMU_…` environment variables (`__` separates sections), then
//! command-line flags.

use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use numu_warehouse::{EmbeddedConfig, WarehouseConfig};
use serde::{Deserialize, Serialize};

/// Everything `numu` can be configured with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server binds (`127.0.0.1:0` picks a free port).
    pub listen: String,
    /// Root of everything Numu stores: the warehouse directory, the app-state file, the log.
    pub data_dir: PathBuf,
    /// `auto` (pretty on a terminal, JSON otherwise), `pretty` or `json`.
    pub log_format: LogFormat,
    /// Log filter in `RUST_LOG` syntax.
    pub log_level: String,
    /// HTTP worker threads (0 = one per core).
    pub workers: usize,
    pub warehouse: WarehouseConfig,
    pub app_state: AppStateConfig,
    /// The tracking snippet's files and first-party aliases.
    pub snippet: crate::assets::SnippetConfig,
    /// Optional static pages served at `/site/`.
    pub site: crate::assets::SiteConfig,
    /// The collector's endpoints: limits, enrichment, privacy.
    pub collector: numu_ingest::front::Config,
    /// The collector's write-ahead log and batching (default dir `<data_dir>/wal`).
    pub wal: numu_ingest::back::Config,
    /// Real-time figures from memory.
    pub realtime: numu_ingest::realtime::Config,
    /// Limits of analysis queries.
    pub query: numu_query::Limits,
    /// How often saved cohorts are recomputed (`interval_seconds`, 0 = only on demand).
    pub cohorts: numu_query::cohorts::RefreshConfig,
    /// The web dashboard: built app directory, sessions, sign-in limits, first admin.
    pub dashboard: crate::dashboard::DashboardConfig,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Auto,
    Pretty,
    Json,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AppStateConfig {
    /// The SQLite file (default `<data_dir>/numu.sqlite`).
    pub path: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8000".into(),
            data_dir: PathBuf::from("data"),
            log_format: LogFormat::Auto,
            log_level: "info".into(),
            workers: 0,
            warehouse: WarehouseConfig::default(),
            app_state: AppStateConfig::default(),
            snippet: crate::assets::SnippetConfig::default(),
            site: crate::assets::SiteConfig::default(),
            collector: numu_ingest::front::Config::default(),
            wal: numu_ingest::back::Config::default(),
            realtime: numu_ingest::realtime::Config::default(),
            query: numu_query::Limits::default(),
            cohorts: numu_query::cohorts::RefreshConfig::default(),
            dashboard: crate::dashboard::DashboardConfig::default(),
        }
    }
}

/// Values given on the command line, applied last.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FlagOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Loads defaults ← file ← environment ← flags. `file` defaults to `./numu.toml` when
    /// that exists.
    pub fn load(file: Option<&Path>, flags: &FlagOverrides) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) if !path.exists() => return Err(ConfigError::MissingFile(path.to_path_buf())),
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None if Path::new("numu.toml").exists() => figment = figment.merge(Toml::file_exact("numu.toml")),
            None => {}
        }
        figment = figment
            .merge(Env::prefixed("NUMU_").split("__").ignore(&["config", "user_password"]))
            .merge(Serialized::defaults(flags));
        let mut config: Config = figment.extract().map_err(|e| ConfigError::Invalid(one_line(&e)))?;
        config.resolve_paths();
        Ok(config)
    }

    /// Paths left at their defaults follow `data_dir`.
    fn resolve_paths(&mut self) {
        if self.warehouse.embedded.path == EmbeddedConfig::default().path {
            self.warehouse.embedded.path = self.data_dir.join("warehouse");
        }
        if self.wal.dir == numu_ingest::back::Config::default().dir {
            self.wal.dir = self.data_dir.join("wal");
        }
        if self.app_state.path.is_none() {
            self.app_state.path = Some(self.data_dir.join("numu.sqlite"));
        }
    }

    pub fn app_state_path(&self) -> PathBuf {
        self.app_state.path.clone().unwrap_or_else(|| self.data_dir.join("numu.sqlite"))
    }
}

fn one_line(error: &figment::Error) -> String {
    error.clone().into_iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ")
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's Jail signature, not ours
mod tests {
    use super::*;

    #[test]
    fn layers_apply_in_order_and_paths_follow_data_dir() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "custom.toml",
                "listen = \"127.0.0.1:9000\"\nlog_level = \"debug\"\n[warehouse]\ndatabase = \"fromfile\"\n",
            )?;
            jail.set_env("NUMU_LOG_LEVEL", "warn");
            jail.set_env("NUMU_WAREHOUSE__EMBEDDED__POOL_SIZE", "7");
            let flags = FlagOverrides { data_dir: Some("/srv/numu".into()), ..Default::default() };
            let config = Config::load(Some(Path::new("custom.toml")), &flags).unwrap();
            assert_eq!(config.listen, "127.0.0.1:9000");
            assert_eq!(config.log_level, "warn");
            assert_eq!(config.warehouse.database, "fromfile");
            assert_eq!(config.warehouse.embedded.pool_size, 7);
            assert_eq!(config.warehouse.embedded.path, PathBuf::from("/srv/numu/warehouse"));
            assert_eq!(config.app_state_path(), PathBuf::from("/srv/numu/numu.sqlite"));
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_and_missing_files_are_errors() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("bad.toml", "listen_addr = \"x\"\n")?;
            let err = Config::load(Some(Path::new("bad.toml")), &FlagOverrides::default()).unwrap_err();
            assert!(err.to_string().contains("listen_addr"), "{err}");
            let err = Config::load(Some(Path::new("nope.toml")), &FlagOverrides::default()).unwrap_err();
            assert!(matches!(err, ConfigError::MissingFile(_)));
            Ok(())
        });
    }
}
