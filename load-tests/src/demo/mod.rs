//! Loading the traffic model into Numu: over HTTP into a running server (`numu demo`,
//! [`send`]) or straight into a warehouse for benchmarks ([`bulk`]), with a progress bar.

pub mod bulk;
pub mod send;

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressState, ProgressStyle};
use serde_json::Value;

use crate::model::{truths_of, Generator, ModelConfig, ModelError, Truths};
pub use bulk::{bulk_load, collector_converter, simple_converter, BulkError, BulkOptions, BulkReport};
pub use send::{send_all, SendError, SendOptions, SendReport};

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Send(#[from] SendError),
    #[error("no Numu server answers at {url} ({reason}); start one with `numu serve`, or pass --url")]
    Unreachable { url: String, reason: String },
    #[error("{url} has no collector endpoint /v1/batch (HTTP {status}); is this a Numu server with the collector?")]
    NoCollector { url: String, status: u16 },
}

/// A progress bar over `total` items (hidden when stderr is not a terminal).
pub fn progress_bar(total: u64, unit: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    let template =
        format!("{{spinner}} {{elapsed_precise}} [{{bar:40}}] {{human_pos}}/{{human_len}} {unit} ({{rate}}, {{eta}} left)");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        let style = style.with_key("rate", |state: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{:.0}/s", state.per_sec());
        });
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Checks that a Numu server with a collector answers at `url`.
pub async fn preflight(url: &str) -> Result<(), DemoError> {
    let client =
        reqwest::Client::builder().timeout(Duration::from_secs(10)).build().map_err(SendError::from)?;
    let unreachable = |reason: String| DemoError::Unreachable { url: url.to_string(), reason };
    let health = client.get(format!("{url}/healthz")).send().await.map_err(|e| unreachable(e.to_string()))?;
    if !health.status().is_success() {
        return Err(unreachable(format!("/healthz answered HTTP {}", health.status().as_u16())));
    }
    let probe =
        client.post(format!("{url}/v1/batch")).send().await.map_err(|e| unreachable(e.to_string()))?;
    let status = probe.status().as_u16();
    if matches!(status, 404 | 405) {
        return Err(DemoError::NoCollector { url: url.to_string(), status });
    }
    Ok(())
}

/// What a demo load did.
#[derive(Clone, Debug)]
pub struct DemoOutcome {
    pub report: SendReport,
    pub truths: Truths,
    pub elapsed: Duration,
}

/// Generates the model's traffic and sends it to `options.url` with a progress bar. The
/// truths are computed first (a quick dry run), so the bar knows the total.
pub async fn load_over_http(
    model: ModelConfig,
    options: &SendOptions,
    show_progress: bool,
) -> Result<DemoOutcome, DemoError> {
    let started = Instant::now();
    let truths = truths_of(model.clone())?;
    let generator = Generator::new(model)?;
    let bar = if show_progress { progress_bar(truths.messages, "events") } else { ProgressBar::hidden() };
    let report = send_all(generator, options, |r| bar.set_position(r.sent)).await;
    bar.finish_and_clear();
    Ok(DemoOutcome { report: report?, truths, elapsed: started.elapsed() })
}

/// Polls the event listing (`GET /api/projects/{id}/events?count_only=true`) until it
/// counts at least `expected` events or `timeout` passes; returns the last count.
pub async fn wait_stored(
    url: &str,
    project_id: i64,
    secret_key: &str,
    expected: u64,
    timeout: Duration,
) -> Option<u64> {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().ok()?;
    let deadline = Instant::now() + timeout;
    let mut last = None;
    loop {
        let answer = client
            .get(format!("{url}/api/projects/{project_id}/events?count_only=true"))
            .bearer_auth(secret_key)
            .send()
            .await;
        if let Ok(response) = answer.and_then(reqwest::Response::error_for_status) {
            if let Ok(body) = response.json::<Value>().await {
                last = body.get("count").and_then(Value::as_u64).or(last);
            }
        }
        if last.is_some_and(|n| n >= expected) || Instant::now() >= deadline {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
