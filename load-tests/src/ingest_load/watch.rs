//! What runs beside the load: the freshness probe (a marked event sent every interval, then
//! the read endpoint polled until it is there: acknowledged → readable) and the server's
//! resident memory sampled from `/proc/<pid>/status`, so a long run shows whether it stays flat;
//! with `/metrics`, that memory split into the engine's own account and the rest.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use hdrhistogram::Histogram;
use serde::Serialize;
use serde_json::json;

use super::payload::basic_auth;

/// Where and how the freshness probe looks.
#[derive(Clone, Debug)]
pub struct Probe {
    pub base_url: String,
    pub write_key: String,
    pub secret_key: String,
    pub project_id: u64,
    pub run_id: String,
    pub interval: Duration,
    /// A probe not readable within this long counts as a miss.
    pub give_up: Duration,
}

/// Freshness over the run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Freshness {
    pub probes: u64,
    pub missed: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Freshness {
    fn from_histogram(h: &Histogram<u64>, probes: u64, missed: u64) -> Freshness {
        let ms = |v: u64| v as f64 / 1000.0;
        Freshness {
            probes,
            missed,
            p50_ms: ms(h.value_at_quantile(0.5)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            max_ms: ms(h.max()),
        }
    }
}

impl Probe {
    /// Probes until `stop`, one at a time. Returns the figures and how many probe events
    /// were acknowledged (they are events of the project too: verification counts them).
    pub async fn run(self, stop: Instant) -> anyhow::Result<(Freshness, u64)> {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
        let mut latency = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)?;
        let (mut probes, mut missed, mut seq) = (0, 0, 0u64);
        while Instant::now() + self.interval < stop {
            let started = Instant::now();
            seq += 1;
            let id = format!("{}-fresh-{seq}", self.run_id);
            self.send(&client, &id).await?;
            probes += 1;
            match self.wait_readable(&client, &id).await? {
                Some(after_ack) => latency.record(after_ack.as_micros().max(1) as u64)?,
                None => missed += 1,
            }
            tokio::time::sleep(self.interval.saturating_sub(started.elapsed())).await;
        }
        Ok((Freshness::from_histogram(&latency, probes, missed), probes))
    }

    async fn send(&self, client: &reqwest::Client, id: &str) -> anyhow::Result<()> {
        let body = json!({"type": "track", "event": "freshness probe", "messageId": id,
                          "anonymousId": "freshness-probe"});
        let response = client
            .post(format!("{}/v1/track", self.base_url))
            .header("Authorization", basic_auth(&self.write_key))
            .json(&body)
            .send()
            .await
            .context("sending a freshness probe")?;
        if !response.status().is_success() {
            bail!("a freshness probe was refused: {}", response.status());
        }
        Ok(())
    }

    /// How long after its acknowledgement the probe became readable, polling every 20 ms.
    async fn wait_readable(&self, client: &reqwest::Client, id: &str) -> anyhow::Result<Option<Duration>> {
        let acked = Instant::now();
        let url = format!("{}/api/projects/{}/events", self.base_url, self.project_id);
        while acked.elapsed() < self.give_up {
            let response = client
                .get(&url)
                .query(&[("message_id", id), ("count_only", "true")])
                .bearer_auth(&self.secret_key)
                .send()
                .await
                .context("polling for a freshness probe")?;
            let text = response.text().await?;
            let count = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v.get("count").and_then(serde_json::Value::as_u64));
            if count.is_some_and(|c| c > 0) {
                return Ok(Some(acked.elapsed()));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(None)
    }
}

/// Resident memory of the server over the run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Memory {
    pub samples: usize,
    pub first_mib: f64,
    pub min_mib: f64,
    pub max_mib: f64,
    pub last_mib: f64,
    /// Growth per minute between the first and the second half's averages (a leak shows here,
    /// and so does the climb of the first minutes while caches and windows fill).
    pub trend_mib_per_min: f64,
    /// Least-squares slope per minute after the first quarter of the run (past that climb).
    pub settled_slope_mib_per_min: f64,
    /// The resident size at the end of each minute, to see whether it levels off.
    pub per_minute_mib: Vec<f64>,
}

/// Resident set size of `pid` in KiB (`VmRSS`).
pub fn rss_kib(pid: u32) -> std::io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:")?.trim().strip_suffix("kB")?.trim().parse().ok())
        .ok_or_else(|| std::io::Error::other("no VmRSS"))
}

/// Samples memory every `every` until `stop`.
pub async fn sample_memory(pid: u32, every: Duration, stop: Instant) -> Memory {
    let mut samples = Vec::new();
    while Instant::now() < stop {
        if let Ok(kib) = rss_kib(pid) {
            samples.push(kib as f64 / 1024.0);
        }
        tokio::time::sleep(every).await;
    }
    summarize(&samples, every)
}

/// The server's memory split, from its `/metrics`: what the warehouse engine tracks
/// (`numu_warehouse_memory_bytes`) and the rest of the resident memory (the collector, the
/// allocators' slack, the engine's untracked memory).
#[derive(Clone, Debug, Default, Serialize)]
pub struct MemorySplit {
    pub engine: Memory,
    pub rest: Memory,
}

/// Scrapes `metrics_url` every `every` until `stop`.
pub async fn sample_memory_split(metrics_url: String, every: Duration, stop: Instant) -> MemorySplit {
    let client = reqwest::Client::new();
    let (mut engine, mut rest) = (Vec::new(), Vec::new());
    while Instant::now() < stop {
        let text = match client.get(&metrics_url).send().await {
            Ok(response) => response.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        let resident = gauge(&text, "numu_process_resident_bytes");
        if let (Some(resident), Some(tracked)) = (resident, gauge(&text, "numu_warehouse_memory_bytes")) {
            engine.push(tracked / MIB);
            rest.push((resident - tracked) / MIB);
        }
        tokio::time::sleep(every).await;
    }
    MemorySplit { engine: summarize(&engine, every), rest: summarize(&rest, every) }
}

const MIB: f64 = 1024.0 * 1024.0;

/// An unlabelled gauge's value in Prometheus text.
fn gauge(text: &str, name: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

fn summarize(samples: &[f64], every: Duration) -> Memory {
    let Some((&first, &last)) = samples.first().zip(samples.last()) else { return Memory::default() };
    let half = samples.len() / 2;
    let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len().max(1) as f64;
    let minutes_between_halves = (half.max(1) as f64) * every.as_secs_f64() / 60.0;
    let trend = if half == 0 {
        0.0
    } else {
        (mean(&samples[half..]) - mean(&samples[..half])) / minutes_between_halves
    };
    let settled = &samples[samples.len() / 4..];
    Memory {
        samples: samples.len(),
        settled_slope_mib_per_min: slope(settled) * 60.0 / every.as_secs_f64(),
        first_mib: first,
        min_mib: samples.iter().copied().fold(f64::INFINITY, f64::min),
        max_mib: samples.iter().copied().fold(0.0, f64::max),
        last_mib: last,
        trend_mib_per_min: trend,
        per_minute_mib: samples
            .iter()
            .copied()
            .skip(1)
            .step_by(((60.0 / every.as_secs_f64().max(1e-3)) as usize).max(1))
            .collect(),
    }
}

/// Least-squares slope of evenly spaced samples, per sample.
fn slope(samples: &[f64]) -> f64 {
    let n = samples.len() as f64;
    if samples.len() < 2 {
        return 0.0;
    }
    let mean_x = (n - 1.0) / 2.0;
    let mean_y = samples.iter().sum::<f64>() / n;
    let (mut covariance, mut variance) = (0.0, 0.0);
    for (i, y) in samples.iter().enumerate() {
        let dx = i as f64 - mean_x;
        covariance += dx * (y - mean_y);
        variance += dx * dx;
    }
    covariance / variance
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_summary_shows_level_and_trend() {
        let flat = summarize(&[100.0, 101.0, 100.0, 101.0], Duration::from_secs(30));
        assert_eq!((flat.first_mib, flat.min_mib, flat.max_mib, flat.last_mib), (100.0, 100.0, 101.0, 101.0));
        assert!(flat.trend_mib_per_min.abs() < 1e-9);
        // +10 MiB between halves one minute apart.
        let growing = summarize(&[100.0, 100.0, 110.0, 110.0], Duration::from_secs(30));
        assert!((growing.trend_mib_per_min - 10.0).abs() < 1e-9, "{growing:?}");
        assert_eq!(growing.per_minute_mib, [100.0, 110.0], "every second sample is a minute apart");
        // A climb, then flat: the halves see growth, the settled slope does not.
        let settles =
            summarize(&[50.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0], Duration::from_secs(60));
        assert!(
            settles.trend_mib_per_min > 3.0 && settles.settled_slope_mib_per_min.abs() < 1e-9,
            "{settles:?}"
        );
        let rising = summarize(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], Duration::from_secs(30));
        assert!((rising.settled_slope_mib_per_min - 2.0).abs() < 1e-9, "{rising:?}");
        assert!(rss_kib(std::process::id()).unwrap() > 0);
    }

    #[test]
    fn gauges_are_read_from_prometheus_text() {
        let text = "# TYPE numu_process_resident_bytes gauge\nnumu_process_resident_bytes 2097152\n\
                    numu_warehouse_memory_bytes_total 9\nnumu_warehouse_memory_bytes 1048576\n";
        assert_eq!(gauge(text, "numu_process_resident_bytes"), Some(2_097_152.0));
        assert_eq!(gauge(text, "numu_warehouse_memory_bytes"), Some(1_048_576.0));
        assert_eq!(gauge(text, "numu_missing"), None);
    }

    #[test]
    fn freshness_quantiles_in_milliseconds() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).unwrap();
        for us in [100_000, 200_000, 300_000, 1_500_000] {
            h.record(us).unwrap();
        }
        let f = Freshness::from_histogram(&h, 5, 1);
        assert_eq!((f.probes, f.missed), (5, 1));
        assert!((f.max_ms - 1500.0).abs() < 2.0 && (f.p50_ms - 200.0).abs() < 1.0, "{f:?}");
    }
}
