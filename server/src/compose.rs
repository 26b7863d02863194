//! Composition: opens the stores and starts the services in dependency order, and hands
//! the HTTP layer the handles it needs. The only place that knows every service.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use numu_appstate::AppState;
use numu_ingest::back::Collector;
use numu_ingest::front::{FrontState, PropertySchemas};
use numu_ingest::realtime::http::RealtimeState;
use numu_ingest::realtime::Realtime;
use numu_ingest::{Record, Sink, SinkError};
use numu_warehouse::{Warehouse, WarehouseError};

use crate::config::Config;

/// Shared handles every route may use.
#[derive(Clone, Debug)]
pub struct Services {
    pub warehouse: Warehouse,
    pub app_state: AppState,
    pub config: Config,
    pub collector: Arc<Collector>,
    pub front: FrontState,
    pub realtime: RealtimeState,
}

/// Hands records to the collector's log and counts accepted events in the real-time
/// sketches. Events are observed before the append returns: a log that is full (503)
/// makes clients retry, which can count an event twice in the per-minute counters (never
/// in the visitor sketches, which are sets) — acceptable for figures that are estimates.
struct ObservedSink {
    collector: Arc<Collector>,
    realtime: Realtime,
}

#[async_trait::async_trait]
impl Sink for ObservedSink {
    async fn append(&self, records: Vec<Record>) -> Result<(), SinkError> {
        let now = numu_ingest::realtime::now_ms();
        for record in &records {
            if let Record::Event(row) = record {
                self.realtime.observe(row, now);
            }
        }
        self.collector.append(records).await
    }
}

/// The secret the daily visitor-hash salts derive from: configured, or generated once and
/// kept in the data directory so cookieless visitor ids survive restarts.
fn visitor_salt_secret(config: &Config) -> anyhow::Result<String> {
    if let Some(secret) = &config.collector.visitor_salt_secret {
        return Ok(secret.clone());
    }
    let path = config.data_dir.join("visitor-salt.secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        if existing.trim().len() >= 32 {
            return Ok(existing.trim().to_string());
        }
    }
    let secret = numu_appstate::generate_secret_key();
    write_private(&path, &secret).with_context(|| format!("writing {}", path.display()))?;
    Ok(secret)
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut file =
        std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    std::io::Write::write_all(&mut file, contents.as_bytes())
}

/// Applies the warehouse's migrations. When the warehouse cannot be reached (a remote
/// ClickHouse being down or restarted), serving starts anyway — the collector's log takes
/// events as during any outage — and migrations are retried in the background; the returned
/// flag turns true once they are applied, and the collector inserts only then. Any other
/// failure (an edited migration, a refused statement) stops the start.
async fn migrate_or_keep_trying(warehouse: &Warehouse) -> anyhow::Result<tokio::sync::watch::Receiver<bool>> {
    let (done, migrated) = tokio::sync::watch::channel(false);
    let unreachable = match warehouse.migrate().await {
        Ok(report) => {
            if !report.applied.is_empty() {
                tracing::info!(applied = ?report.applied, "warehouse migrated");
            }
            let _ = done.send(true);
            return Ok(migrated);
        }
        Err(WarehouseError::Connection(message)) => message,
        Err(other) => return Err(other.into()),
    };
    tracing::warn!(error = %unreachable, "warehouse unreachable at start; serving, with the log taking events, and migrating once it answers");
    let warehouse = warehouse.clone();
    tokio::spawn(async move {
        let mut wait = MIGRATE_RETRY_FIRST;
        loop {
            tokio::time::sleep(wait).await;
            match warehouse.migrate().await {
                Ok(report) => {
                    tracing::info!(applied = ?report.applied, "warehouse reachable again and migrated");
                    let _ = done.send(true);
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "warehouse migrations still pending")
                }
            }
            wait = (wait * 2).min(MIGRATE_RETRY_MAX);
        }
    });
    Ok(migrated)
}

const MIGRATE_RETRY_FIRST: std::time::Duration = std::time::Duration::from_millis(500);
const MIGRATE_RETRY_MAX: std::time::Duration = std::time::Duration::from_secs(10);

/// Opens the app state and the warehouse (migrated, or migrating once it answers), starts
/// the collector (replaying its log) and the real-time sketches.
pub async fn open_services(config: &Config) -> anyhow::Result<Services> {
    let path = config.app_state_path();
    let app_state = AppState::open(&path).await.with_context(|| format!("app state {}", path.display()))?;
    let warehouse = Warehouse::open(&config.warehouse).await?;
    let migrated = migrate_or_keep_trying(&warehouse).await?;
    let collector = Collector::start_when(config.wal.clone(), warehouse.clone(), migrated)
        .await
        .context("starting the collector")?;
    let realtime = Realtime::new(config.realtime.clone()).context("realtime configuration")?;
    let sink: Arc<dyn Sink> =
        Arc::new(ObservedSink { collector: collector.clone(), realtime: realtime.clone() });
    let mut front_config = config.collector.clone();
    front_config.visitor_salt_secret = Some(visitor_salt_secret(config)?);
    let front = FrontState::new(app_state.clone(), sink, front_config, PropertySchemas::default())
        .context("starting the collector's front")?;
    let realtime = RealtimeState::new(realtime, app_state.clone())
        .context("realtime peers")?
        .with_session_auth(Arc::new(crate::dashboard::DashboardSessions::new(app_state.clone())));
    Ok(Services { warehouse, app_state, config: config.clone(), collector, front, realtime })
}
