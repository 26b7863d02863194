//! Sends the load: open loop (a fixed rate of requests, latency measured from each request's
//! scheduled time so a stalled server cannot hide its queueing) or closed loop (N requests in
//! flight, as fast as the server answers). Counts what was acknowledged, rejected or lost.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::sync::Semaphore;

use super::cpu;
use super::payload::{basic_auth, Payloads};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// A fixed rate of events per second, whatever the latency.
    Open,
    /// `concurrency` requests in flight, each sent when the previous answer arrives.
    Closed,
}

#[derive(Clone, Debug)]
pub struct RunConfig {
    pub base_url: String,
    pub mode: Mode,
    /// Events per second (open loop).
    pub rate: f64,
    pub concurrency: usize,
    pub duration: Duration,
    pub warmup: Duration,
    pub request_timeout: Duration,
    pub payloads: Payloads,
    pub server_pid: Option<u32>,
    pub progress: bool,
}

#[derive(Debug, Default)]
struct Counters {
    next_seq: AtomicU64,
    sent: AtomicU64,
    acked_events: AtomicU64,
    measured_events: AtomicU64,
    rejected_events: AtomicU64,
    uncertain_events: AtomicU64,
    skipped_requests: AtomicU64,
    last_error: Mutex<Option<String>>,
}

/// What one run measured.
#[derive(Debug)]
pub struct Outcome {
    pub acked_events: u64,
    pub measured_events: u64,
    pub rejected_events: u64,
    pub uncertain_events: u64,
    pub skipped_requests: u64,
    pub sent_requests: u64,
    pub measured: Duration,
    pub latency_us: Histogram<u64>,
    pub server_cpu: Option<Duration>,
    /// The part of `server_cpu` spent by the embedded engine's threads (see [`cpu::is_engine_thread`]).
    pub engine_cpu: Option<Duration>,
    /// `server_cpu` by thread name (see [`cpu::cpu_by_thread_between`]).
    pub cpu_by_thread: Option<std::collections::BTreeMap<String, Duration>>,
    pub last_error: Option<String>,
}

struct Shared {
    config: RunConfig,
    client: reqwest::Client,
    auth: String,
    counters: Counters,
    latency: Mutex<Histogram<u64>>,
    measure_from: Instant,
}

pub async fn run(config: RunConfig) -> anyhow::Result<Outcome> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(config.concurrency.max(1))
        // Below the server's keep-alive (actix: 5 s): a connection the server is closing
        // just as a request goes out fails that request ("error sending request"), which an
        // open loop at a low rate per connection hit about once in five minutes.
        .pool_idle_timeout(Duration::from_secs(4))
        .tcp_nodelay(true)
        .timeout(config.request_timeout)
        .build()?;
    let started = Instant::now();
    let shared = Arc::new(Shared {
        auth: basic_auth(&config.payloads.write_key),
        client,
        counters: Counters::default(),
        latency: Mutex::new(Histogram::new_with_bounds(1, 120_000_000, 3)?),
        measure_from: started + config.warmup,
        config,
    });
    let end = shared.measure_from + shared.config.duration;
    let progress = tokio::spawn(progress(shared.clone(), started, end));
    let ticks = cpu::clock_ticks();
    let cpu_at_warmup = {
        let shared = shared.clone();
        tokio::spawn(async move {
            tokio::time::sleep_until(shared.measure_from.into()).await;
            sample(shared.config.server_pid, ticks)
        })
    };
    match shared.config.mode {
        Mode::Closed => closed_loop(&shared, end).await,
        Mode::Open => open_loop(&shared, end).await,
    }
    let measured = shared.measure_from.elapsed();
    let cpu_before = cpu_at_warmup.await??;
    let cpu_after = sample(shared.config.server_pid, ticks)?;
    progress.abort();
    let c = &shared.counters;
    let latency = shared.latency.lock().map(|h| h.clone()).map_err(|_| anyhow::anyhow!("poisoned"))?;
    Ok(Outcome {
        acked_events: c.acked_events.load(Relaxed),
        measured_events: c.measured_events.load(Relaxed),
        rejected_events: c.rejected_events.load(Relaxed),
        uncertain_events: c.uncertain_events.load(Relaxed),
        skipped_requests: c.skipped_requests.load(Relaxed),
        sent_requests: c.sent.load(Relaxed),
        measured,
        latency_us: latency,
        server_cpu: cpu_before.as_ref().zip(cpu_after.as_ref()).map(|(a, b)| b.0.saturating_sub(a.0)),
        engine_cpu: cpu_before
            .as_ref()
            .zip(cpu_after.as_ref())
            .map(|(a, b)| cpu::engine_cpu_between(&a.1, &b.1)),
        cpu_by_thread: cpu_before.zip(cpu_after).map(|(a, b)| cpu::cpu_by_thread_between(&a.1, &b.1)),
        last_error: c.last_error.lock().ok().and_then(|e| e.clone()),
    })
}

type ThreadTimes = std::collections::HashMap<u32, (String, Duration)>;

/// The server's process CPU and its threads' CPU, if a server pid was given.
fn sample(pid: Option<u32>, ticks: u64) -> std::io::Result<Option<(Duration, ThreadTimes)>> {
    pid.map(|pid| Ok((cpu::process_cpu(pid, ticks)?, cpu::thread_cpu(pid)?))).transpose()
}

async fn closed_loop(shared: &Arc<Shared>, end: Instant) {
    let mut workers = Vec::new();
    for _ in 0..shared.config.concurrency.max(1) {
        let shared = shared.clone();
        workers.push(tokio::spawn(async move {
            while Instant::now() < end {
                one_request(&shared, Instant::now()).await;
            }
        }));
    }
    for worker in workers {
        let _ = worker.await;
    }
}

/// Schedules request k at `start + k × interval`; a request that cannot start because
/// `concurrency` are already in flight is counted as skipped (the server is saturated).
async fn open_loop(shared: &Arc<Shared>, end: Instant) {
    let per_request = shared.config.payloads.batch.max(1) as f64 / shared.config.rate.max(0.001);
    let interval = Duration::from_secs_f64(per_request);
    let in_flight = Arc::new(Semaphore::new(shared.config.concurrency.max(1)));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for k in 0u32.. {
        let scheduled = start + interval * k;
        if scheduled >= end {
            break;
        }
        tokio::time::sleep_until(scheduled.into()).await;
        let Ok(permit) = in_flight.clone().try_acquire_owned() else {
            shared.counters.skipped_requests.fetch_add(1, Relaxed);
            continue;
        };
        let shared = shared.clone();
        tasks.spawn(async move {
            one_request(&shared, scheduled).await;
            drop(permit);
        });
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
}

async fn one_request(shared: &Shared, scheduled: Instant) {
    let payloads = &shared.config.payloads;
    let first = shared.counters.next_seq.fetch_add(payloads.batch.max(1), Relaxed);
    let body = payloads.body(first);
    let mut request = shared
        .client
        .post(format!("{}{}", shared.config.base_url, body.path))
        .header("Authorization", &shared.auth)
        .header("Content-Type", "application/json");
    if body.gzip {
        request = request.header("Content-Encoding", "gzip");
    }
    shared.counters.sent.fetch_add(1, Relaxed);
    let result = request.body(body.bytes).send().await;
    let c = &shared.counters;
    match result {
        Ok(response) if response.status().is_success() => {
            c.acked_events.fetch_add(body.events, Relaxed);
            if scheduled >= shared.measure_from {
                c.measured_events.fetch_add(body.events, Relaxed);
                let micros = scheduled.elapsed().as_micros() as u64;
                if let Ok(mut latency) = shared.latency.lock() {
                    let _ = latency.record(micros.max(1));
                }
            }
        }
        Ok(response) => {
            c.rejected_events.fetch_add(body.events, Relaxed);
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            set_error(c, format!("{status}: {}", text.chars().take(200).collect::<String>()));
        }
        Err(e) => {
            c.uncertain_events.fetch_add(body.events, Relaxed);
            set_error(c, e.to_string());
        }
    }
}

fn set_error(counters: &Counters, message: String) {
    if let Ok(mut last) = counters.last_error.lock() {
        *last = Some(message);
    }
}

async fn progress(shared: Arc<Shared>, started: Instant, end: Instant) {
    let mut last = 0;
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if !shared.config.progress {
            continue;
        }
        let acked = shared.counters.acked_events.load(Relaxed);
        let p99 = shared.latency.lock().map(|h| h.value_at_quantile(0.99)).unwrap_or(0);
        let phase = if Instant::now() < shared.measure_from { "warmup" } else { "measure" };
        eprintln!(
            "[{:>5.1}s/{:.0}s {phase}] acked {acked} events (+{}/s), rejected {}, errors {}, p99 {:.2} ms",
            started.elapsed().as_secs_f64(),
            (end - started).as_secs_f64(),
            acked - last,
            shared.counters.rejected_events.load(Relaxed),
            shared.counters.uncertain_events.load(Relaxed),
            p99 as f64 / 1000.0
        );
        last = acked;
    }
}
