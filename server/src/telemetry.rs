//! Structured logs (pretty on a terminal, JSON otherwise) and the Prometheus recorder
//! behind `/metrics`, with the process's and the engine's memory read at each scrape.

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogFormat};

static PROMETHEUS: OnceLock<PrometheusHandle> = OnceLock::new();

/// How often histogram samples are folded into their summaries. `build_recorder` starts no
/// upkeep of its own: without it every sample waits in memory for the next scrape of
/// `/metrics`, and a server nobody scrapes grows by 8 bytes a request, for ever.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Keeps telemetry alive for the process.
#[derive(Debug)]
pub struct Telemetry;

/// Installs the log subscriber (to stderr) and the metrics recorder.
pub fn init(config: &Config) -> anyhow::Result<Telemetry> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log_level));
    let json = match config.log_format {
        LogFormat::Json => true,
        LogFormat::Pretty => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let result = if json { builder.json().flatten_event(true).try_init() } else { builder.try_init() };
    result.map_err(|e| anyhow::anyhow!("installing the log subscriber: {e}"))?;
    prometheus();
    Ok(Telemetry)
}

/// The process's Prometheus handle, installing the recorder on first use.
pub fn prometheus() -> PrometheusHandle {
    PROMETHEUS
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder is installed (tests): the handle still renders.
            let _ = metrics::set_global_recorder(recorder);
            let upkept = handle.clone();
            if let Err(e) = keep_up(UPKEEP_EVERY, move || upkept.run_upkeep()) {
                tracing::warn!(error = %e, "no metrics upkeep thread: histogram samples wait for scrapes");
            }
            handle
        })
        .clone()
}

/// Runs `upkeep` every `every` on a thread of its own, for the life of the process.
fn keep_up(every: Duration, upkeep: impl Fn() + Send + 'static) -> std::io::Result<()> {
    std::thread::Builder::new().name("numu-metrics".into()).spawn(move || loop {
        std::thread::sleep(every);
        upkeep();
    })?;
    Ok(())
}

/// Sets the memory gauges: the process's resident memory and the warehouse engine's own
/// account (its tracked total and each cache), so a growing process can be told apart from
/// a growing engine. A warehouse that does not answer leaves its gauges as they were.
pub async fn record_memory(warehouse: &numu_warehouse::Warehouse) {
    if let Some(bytes) = resident_bytes() {
        metrics::gauge!("numu_process_resident_bytes").set(bytes as f64);
    }
    let memory = match warehouse.memory().await {
        Ok(memory) => memory,
        Err(e) => {
            tracing::debug!(error = %e, "reading the engine's memory for /metrics");
            return;
        }
    };
    metrics::gauge!("numu_warehouse_memory_bytes").set(memory.tracked as f64);
    // Caches that emptied since the last scrape read as zero rather than keep a stale size.
    static SEEN: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    for cache in seen.iter() {
        if !memory.caches.iter().any(|(name, _)| name == cache) {
            metrics::gauge!("numu_warehouse_cache_bytes", "cache" => cache.clone()).set(0.0);
        }
    }
    for (cache, bytes) in memory.caches {
        metrics::gauge!("numu_warehouse_cache_bytes", "cache" => cache.clone()).set(bytes as f64);
        seen.insert(cache);
    }
}

/// This process's resident memory (`VmRSS`), where `/proc` exists.
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:")?.trim().strip_suffix("kB")?.trim().parse().ok())?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    #[test]
    fn the_upkeep_runs_again_and_again() {
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&runs);
        keep_up(Duration::from_millis(10), move || {
            counted.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
        std::thread::sleep(Duration::from_millis(200));
        assert!(runs.load(Ordering::SeqCst) >= 3, "ran {} times", runs.load(Ordering::SeqCst));
    }

    #[test]
    fn samples_folded_by_the_upkeep_are_still_counted_at_the_scrape() {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            for i in 0..1000 {
                metrics::histogram!("numu_test_seconds").record(f64::from(i) / 1000.0);
            }
        });
        handle.run_upkeep();
        metrics::with_local_recorder(&recorder, || metrics::histogram!("numu_test_seconds").record(2.0));
        let text = handle.render();
        assert!(text.contains("numu_test_seconds_count 1001"), "{text}");
        assert!(text.contains("numu_test_seconds{quantile=\"1\"} 2"), "{text}");
    }
}
