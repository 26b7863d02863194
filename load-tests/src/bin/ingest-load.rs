//! `ingest-load`: HTTP load against a collector (or the bare baseline), reporting events/s,
//! latency percentiles, server CPU per event, and whether exactly the acknowledged events
//! were stored.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use numu_load_tests::ingest_load::driver::{self, Mode, RunConfig};
use numu_load_tests::ingest_load::payload::Payloads;
use numu_load_tests::ingest_load::verify::{self, EventCounter, HttpCount};
use numu_load_tests::ingest_load::{baseline, watch, Report};

#[derive(Parser, Debug)]
#[command(
    name = "ingest-load",
    about = "Load test a Numu collector over HTTP (Segment /v1/track and /v1/batch)"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Sub>,
    /// Collector base URL, e.g. http://127.0.0.1:8000 (not needed with --baseline).
    #[arg(long)]
    url: Option<String>,
    /// Measure the bare actix-web baseline instead: spawned as a child process on 127.0.0.1.
    #[arg(long)]
    baseline: bool,
    /// Baseline worker threads (0 = one per core, actix's default).
    #[arg(long, default_value_t = 0)]
    baseline_workers: usize,
    #[arg(long, value_enum, default_value_t = Mode::Closed)]
    mode: Mode,
    /// Events per second (open loop).
    #[arg(long, default_value_t = 5_000.0)]
    rate: f64,
    /// Requests in flight (closed loop), or at most in flight (open loop).
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Seconds measured, after the warm-up.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Events per request: 1 sends /v1/track bodies, more sends /v1/batch bodies.
    #[arg(long, default_value_t = 1)]
    batch: u64,
    /// Gzip request bodies (Content-Encoding: gzip).
    #[arg(long)]
    gzip: bool,
    #[arg(long, env = "NUMU_WRITE_KEY", default_value = "load-test-key")]
    write_key: String,
    /// Read this server process's CPU (utime + stime) from /proc to report CPU per event.
    #[arg(long)]
    server_pid: Option<u32>,
    /// The server's Prometheus page, e.g. http://127.0.0.1:8000/metrics: memory is then also
    /// reported split into the engine's own account and the rest, every 10 s.
    #[arg(long)]
    metrics_url: Option<String>,
    /// Count endpoint for verification, e.g. http://127.0.0.1:8000/api/projects/1/events?count_only=true
    #[arg(long)]
    verify_url: Option<String>,
    /// Secret API key sent as a bearer token to --verify-url.
    #[arg(long, env = "NUMU_SECRET_KEY")]
    secret_key: Option<String>,
    /// How long to wait for acknowledged events to appear.
    #[arg(long, default_value_t = 30.0)]
    verify_timeout: f64,
    #[arg(long, default_value_t = 10.0)]
    request_timeout: f64,
    /// Measure freshness: every --freshness-interval seconds send a marked event and poll
    /// the read endpoint (needs --secret-key) until it is readable.
    #[arg(long)]
    freshness: bool,
    #[arg(long, default_value_t = 1.0)]
    freshness_interval: f64,
    /// The project the write key belongs to (for the freshness probe's reads).
    #[arg(long, default_value_t = 1)]
    project_id: u64,
    /// Also print the report as one JSON line.
    #[arg(long)]
    json: bool,
    #[arg(long)]
    quiet: bool,
}

#[derive(Subcommand, Debug)]
enum Sub {
    /// Run only the baseline server (prints `listening PORT`); used by --baseline.
    #[command(hide = true)]
    BaselineServer {
        #[arg(long, default_value_t = 0)]
        port: u16,
        #[arg(long, default_value_t = 0)]
        workers: usize,
    },
}

/// The baseline as a child process, killed when dropped.
struct BaselineChild(Child);

impl Drop for BaselineChild {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_baseline(workers: usize) -> anyhow::Result<(BaselineChild, String)> {
    let exe = std::env::current_exe()?;
    let mut child = Command::new(exe)
        .args(["baseline-server", "--workers", &workers.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .context("spawning the baseline server")?;
    let stdout = child.stdout.take().context("baseline stdout")?;
    let child = BaselineChild(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let Some(port) = line.trim().strip_prefix("listening ") else {
        bail!("baseline server did not start: {line:?}");
    };
    Ok((child, format!("http://127.0.0.1:{port}")))
}

// The same allocator as `numu`, so the baseline (this binary's `baseline-server`) is not
// measured with a slower malloc than the collector it is compared with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn freshness_probe(cli: &Cli, config: &RunConfig) -> anyhow::Result<Option<watch::Probe>> {
    if !cli.freshness {
        return Ok(None);
    }
    let secret_key = cli.secret_key.clone().context("--freshness needs --secret-key to read events")?;
    Ok(Some(watch::Probe {
        base_url: config.base_url.clone(),
        write_key: cli.write_key.clone(),
        secret_key,
        project_id: cli.project_id,
        run_id: config.payloads.run_id.clone(),
        interval: Duration::from_secs_f64(cli.freshness_interval),
        give_up: Duration::from_secs(30),
    }))
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(Sub::BaselineServer { port, workers }) = cli.command {
        return Ok(baseline::serve(port, workers)?);
    }
    // The generator gets its own small runtime so it does not crowd a server on 2 cores.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let (_child, base_url, server_pid, target) = if cli.baseline {
        let (child, url) = spawn_baseline(cli.baseline_workers)?;
        let pid = child.0.id();
        (Some(child), url, Some(pid), "baseline (bare actix-web + serde)".to_string())
    } else {
        let url = cli.url.clone().context("--url is required (or --baseline)")?;
        (None, url.trim_end_matches('/').to_string(), cli.server_pid, "collector".to_string())
    };
    let run_id =
        format!("load-{}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis());
    let config = RunConfig {
        base_url,
        mode: cli.mode,
        rate: cli.rate,
        concurrency: cli.concurrency,
        duration: Duration::from_secs_f64(cli.duration),
        warmup: Duration::from_secs_f64(cli.warmup),
        request_timeout: Duration::from_secs_f64(cli.request_timeout),
        payloads: Payloads {
            run_id,
            write_key: cli.write_key.clone(),
            batch: cli.batch.max(1),
            gzip: cli.gzip,
        },
        server_pid,
        progress: !cli.quiet,
    };
    let counter: Option<Box<dyn EventCounter>> = cli.verify_url.clone().map(|url| {
        Box::new(HttpCount { url, secret_key: cli.secret_key.clone(), client: reqwest::Client::new() })
            as Box<dyn EventCounter>
    });
    let before = match &counter {
        Some(counter) => {
            Some(counter.count().await.with_context(|| format!("verification: {}", counter.describe()))?)
        }
        None => None,
    };
    let stop = Instant::now() + config.warmup + config.duration;
    let memory =
        config.server_pid.map(|pid| tokio::spawn(watch::sample_memory(pid, Duration::from_secs(1), stop)));
    let split = cli
        .metrics_url
        .clone()
        .map(|url| tokio::spawn(watch::sample_memory_split(url, Duration::from_secs(10), stop)));
    let freshness = freshness_probe(&cli, &config)?.map(|probe| tokio::spawn(probe.run(stop)));
    let outcome = driver::run(config.clone()).await?;
    let mut report = Report::new(target, &config, &outcome);
    let mut probe_events = 0;
    if let Some(task) = freshness {
        let (figures, acked) = task.await??;
        (report.freshness, probe_events) = (Some(figures), acked);
    }
    if let Some(task) = memory {
        report.memory = Some(task.await?);
    }
    if let Some(task) = split {
        report.memory_split = Some(task.await?);
    }
    if let (Some(counter), Some(before)) = (&counter, before) {
        let timeout = Duration::from_secs_f64(cli.verify_timeout);
        let acked = outcome.acked_events + probe_events;
        let verdict =
            verify::verify(counter.as_ref(), before, acked, outcome.uncertain_events, timeout).await?;
        report.verification = Some(verdict);
    }
    print!("{}", report.human());
    if cli.json {
        println!("{}", serde_json::to_string(&report)?);
    }
    if report.verification.as_ref().is_some_and(|v| !v.passed) {
        bail!("verification failed");
    }
    Ok(())
}
