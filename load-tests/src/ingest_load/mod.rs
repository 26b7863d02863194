//! The ingest load tool's parts (`src/bin/ingest-load.rs` is its CLI): request bodies, the
//! open- and closed-loop drivers, server CPU from /proc, the bare actix-web baseline, and the
//! pluggable end-of-run verification.

pub mod baseline;
pub mod cpu;
pub mod driver;
pub mod payload;
pub mod verify;
pub mod watch;

use serde::Serialize;

use driver::{Mode, Outcome};
use verify::Verdict;

/// The figures of one run, printed for people and as one JSON line for scripts.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub target: String,
    pub mode: Mode,
    pub batch: u64,
    pub gzip: bool,
    pub concurrency: usize,
    pub rate: Option<f64>,
    pub measured_secs: f64,
    pub events_per_sec: f64,
    pub latency_ms_p50: f64,
    pub latency_ms_p99: f64,
    pub latency_ms_p999: f64,
    pub latency_ms_max: f64,
    /// Server CPU (user + system, all threads) per acknowledged event, in µs of one core.
    pub server_cpu_us_per_event: Option<f64>,
    /// Of that, the embedded engine's threads (the warehouse insert, parts, merges), in µs
    /// per event; the rest is the collector's.
    pub engine_cpu_us_per_event: Option<f64>,
    /// Server CPU per event without the engine's share: what the collector itself costs.
    pub collector_cpu_us_per_event: Option<f64>,
    /// Server CPU per event by thread name, the engine's threads together as `engine`.
    pub cpu_by_thread_us_per_event: Option<std::collections::BTreeMap<String, f64>>,
    /// Cores the server kept busy on average.
    pub server_cores: Option<f64>,
    pub acked_events: u64,
    pub rejected_events: u64,
    pub uncertain_events: u64,
    pub skipped_requests: u64,
    pub last_error: Option<String>,
    pub verification: Option<Verdict>,
    /// Acknowledged → readable, from the freshness probe (`--freshness`).
    pub freshness: Option<watch::Freshness>,
    /// The server's resident memory over the run.
    pub memory: Option<watch::Memory>,
    /// That memory split into the engine's own account and the rest (`--metrics-url`).
    pub memory_split: Option<watch::MemorySplit>,
}

impl Report {
    pub fn new(target: String, config: &driver::RunConfig, outcome: &Outcome) -> Report {
        let secs = outcome.measured.as_secs_f64().max(1e-9);
        let q = |q: f64| outcome.latency_us.value_at_quantile(q) as f64 / 1000.0;
        let cpu = outcome.server_cpu.map(|d| d.as_secs_f64());
        let per_event = |d: Option<f64>| {
            d.filter(|_| outcome.measured_events > 0).map(|c| c * 1e6 / outcome.measured_events as f64)
        };
        let engine = outcome.engine_cpu.map(|d| d.as_secs_f64());
        Report {
            target,
            mode: config.mode,
            batch: config.payloads.batch,
            gzip: config.payloads.gzip,
            concurrency: config.concurrency,
            rate: (config.mode == Mode::Open).then_some(config.rate),
            measured_secs: secs,
            events_per_sec: outcome.measured_events as f64 / secs,
            latency_ms_p50: q(0.50),
            latency_ms_p99: q(0.99),
            latency_ms_p999: q(0.999),
            latency_ms_max: outcome.latency_us.max() as f64 / 1000.0,
            server_cpu_us_per_event: per_event(cpu),
            engine_cpu_us_per_event: per_event(engine),
            collector_cpu_us_per_event: per_event(cpu.zip(engine).map(|(c, e)| (c - e).max(0.0))),
            cpu_by_thread_us_per_event: outcome.cpu_by_thread.as_ref().map(|threads| {
                threads
                    .iter()
                    .filter_map(|(name, spent)| Some((name.clone(), per_event(Some(spent.as_secs_f64()))?)))
                    .collect()
            }),
            server_cores: cpu.map(|c| c / secs),
            acked_events: outcome.acked_events,
            rejected_events: outcome.rejected_events,
            uncertain_events: outcome.uncertain_events,
            skipped_requests: outcome.skipped_requests,
            last_error: outcome.last_error.clone(),
            verification: None,
            freshness: None,
            memory: None,
            memory_split: None,
        }
    }

    /// A few lines for a person reading the terminal.
    pub fn human(&self) -> String {
        let mut text = format!(
            "{} — {:?} loop, {} event(s)/request{}, {:.1} s measured\n  throughput  {:.0} events/s\n  latency     p50 {:.2} ms  p99 {:.2} ms  p99.9 {:.2} ms  max {:.2} ms\n",
            self.target,
            self.mode,
            self.batch,
            if self.gzip { ", gzip" } else { "" },
            self.measured_secs,
            self.events_per_sec,
            self.latency_ms_p50,
            self.latency_ms_p99,
            self.latency_ms_p999,
            self.latency_ms_max,
        );
        if let (Some(us), Some(cores)) = (self.server_cpu_us_per_event, self.server_cores) {
            text += &format!("  server CPU  {us:.2} µs per event ({cores:.2} cores busy)\n");
            if let (Some(engine), Some(own)) = (self.engine_cpu_us_per_event, self.collector_cpu_us_per_event)
            {
                text +=
                    &format!("    of which  engine threads {engine:.2} µs, the rest {own:.2} µs per event\n");
            }
            if let Some(threads) = &self.cpu_by_thread_us_per_event {
                let parts: Vec<String> = threads
                    .iter()
                    .filter(|(_, us)| **us >= 0.05)
                    .map(|(name, us)| format!("{name} {us:.2}"))
                    .collect();
                text += &format!("    by thread {} µs per event\n", parts.join(", "));
            }
        }
        text += &format!(
            "  acked {} events, rejected {}, uncertain {}, skipped {} requests\n",
            self.acked_events, self.rejected_events, self.uncertain_events, self.skipped_requests
        );
        if let Some(error) = &self.last_error {
            text += &format!("  last error: {error}\n");
        }
        if let Some(f) = &self.freshness {
            text += &format!(
                "  freshness   {} probes, acknowledged → readable p50 {:.0} ms  p99 {:.0} ms  max {:.0} ms, {} missed\n",
                f.probes, f.p50_ms, f.p99_ms, f.max_ms, f.missed
            );
        }
        if let Some(m) = &self.memory {
            text += &format!(
                "  memory      RSS first {:.0} MiB, min {:.0}, max {:.0}, last {:.0}; trend {:+.1} MiB/min, settled {:+.1}\n",
                m.first_mib, m.min_mib, m.max_mib, m.last_mib, m.trend_mib_per_min, m.settled_slope_mib_per_min
            );
        }
        if let Some(split) = &self.memory_split {
            for (part, m) in [("engine", &split.engine), ("rest", &split.rest)] {
                text += &format!(
                    "    {part:<9} first {:.0} MiB, min {:.0}, max {:.0}, last {:.0}; trend {:+.1} MiB/min, settled {:+.1}\n",
                    m.first_mib, m.min_mib, m.max_mib, m.last_mib, m.trend_mib_per_min, m.settled_slope_mib_per_min
                );
            }
        }
        if let Some(v) = &self.verification {
            text += &format!(
                "  verification {}: stored {} new events for {} acknowledged (+{} uncertain)\n",
                if v.passed { "PASSED" } else { "FAILED" },
                v.after.saturating_sub(v.before),
                v.acknowledged,
                v.uncertain
            );
        }
        text
    }
}
