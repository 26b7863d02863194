//! `numu demo`: creates a project named "Demo" (through the app-state file, so it works
//! beside a running server) and sends a few weeks of modelled traffic to the running
//! server's collector (`/v1/batch`), with a progress bar; then waits until the events are
//! visible through the query API and prints a summary, the keys and what to open next.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use numu_appstate::{AppState, NewProject};
use numu_load_tests::demo::{load_over_http, preflight, wait_stored, DemoOutcome, SendOptions};
use numu_load_tests::model::{clock, FunnelConfig, ModelConfig};
use serde_json::json;

use crate::config::Config;

/// `numu demo` flags.
#[derive(Clone, Debug, clap::Args)]
pub struct DemoArgs {
    /// The running server (default: http:// and the configured `listen` address).
    #[arg(long)]
    pub url: Option<String>,
    /// Days of traffic, ending now.
    #[arg(long, default_value_t = 21)]
    pub days: u32,
    /// Mean visitors a day, bots included (about ten events each).
    #[arg(long, default_value_t = 800.0)]
    pub visitors_per_day: f64,
    /// Seed of the traffic model: the same seed gives the same visitors.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Also write the model's truths (parameters and realised counts) as JSON here.
    #[arg(long)]
    pub truths: Option<PathBuf>,
    /// Print the summary as JSON (and no progress bar).
    #[arg(long)]
    pub json: bool,
}

/// The server's base URL: `--url`, or `http://` + the configured listen address.
fn base_url(config: &Config, url: Option<&str>) -> anyhow::Result<String> {
    if let Some(url) = url {
        anyhow::ensure!(
            url.starts_with("http://") || url.starts_with("https://"),
            "--url must start with http:// or https://"
        );
        return Ok(url.trim_end_matches('/').to_string());
    }
    let listen = config.listen.replace("0.0.0.0:", "127.0.0.1:").replace("[::]:", "[::1]:");
    anyhow::ensure!(
        !listen.ends_with(":0"),
        "the configured listen address {} has no fixed port; pass --url",
        config.listen
    );
    Ok(format!("http://{listen}"))
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// `1234567` → `1,234,567`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Runs `numu demo`.
pub async fn demo(config: &Config, args: DemoArgs) -> anyhow::Result<()> {
    let url = base_url(config, args.url.as_deref())?;
    preflight(&url).await?;
    let path = config.app_state_path();
    let state = AppState::open(&path).await.with_context(|| format!("opening {}", path.display()))?;
    let created = state.create_project("Demo").await?;
    let model = ModelConfig {
        seed: args.seed,
        days: args.days,
        visitors_per_day: args.visitors_per_day,
        now_ms: now_ms(),
        ..ModelConfig::default()
    };
    let mut options = SendOptions::new(&url, &created.write_key);
    options.concurrency = args.concurrency;
    if !args.json {
        eprintln!(
            "Sending {} days of modelled traffic (about {} visitors a day) to {url}, project {} \"Demo\"…",
            args.days, args.visitors_per_day, created.project.id
        );
    }
    let show_progress = !args.json && std::io::stderr().is_terminal();
    let outcome = load_over_http(model, &options, show_progress).await?;
    let stored = wait_stored(
        &url,
        created.project.id,
        &created.secret_key,
        outcome.report.accepted,
        Duration::from_secs(60),
    )
    .await;
    if let Some(path) = &args.truths {
        std::fs::write(path, serde_json::to_vec_pretty(&outcome.truths)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary_json(&url, &created, &outcome, stored))?);
    } else {
        print_summary(&url, &created, &outcome, stored);
    }
    Ok(())
}

fn summary_json(
    url: &str,
    created: &NewProject,
    outcome: &DemoOutcome,
    stored: Option<u64>,
) -> serde_json::Value {
    let (r, t) = (&outcome.report, &outcome.truths);
    json!({
        "url": url,
        "project_id": created.project.id,
        "write_key": created.write_key,
        "secret_key": created.secret_key,
        "sent": r.sent,
        "accepted": r.accepted,
        "refused": r.refused,
        "refusal_reasons": r.refusal_reasons,
        "stored": stored,
        "visitors": t.visitors,
        "bots": t.bots,
        "identified": t.identified,
        "purchasers": t.funnel.last().map_or(0, |s| s.persons),
        "purchases": t.purchases,
        "revenue": t.revenue,
        "elapsed_ms": outcome.elapsed.as_millis() as u64,
    })
}

fn print_summary(url: &str, created: &NewProject, outcome: &DemoOutcome, stored: Option<u64>) {
    let (r, t) = (&outcome.report, &outcome.truths);
    let seconds = outcome.elapsed.as_secs_f64().max(0.001);
    let id = created.project.id;
    println!("Demo data loaded into project {id} \"Demo\" in {seconds:.1} s");
    println!(
        "  events    {} sent, {} accepted, {} refused ({:.0} events/s)",
        grouped(r.sent),
        grouped(r.accepted),
        grouped(r.refused),
        r.sent as f64 / seconds
    );
    for (reason, n) in &r.refusal_reasons {
        println!("            {} refused: {reason}", grouped(*n));
    }
    match stored {
        Some(n) => println!("  stored    {} events visible through the query API", grouped(n)),
        None => println!("  stored    (the query API did not answer; the events may still be on their way)"),
    }
    let purchasers = t.funnel.last().map_or(0, |s| s.persons);
    println!(
        "  persons   {} visitors ({} signed up, {} bought, {} on two devices) and {} bots",
        grouped(t.visitors),
        grouped(t.identified),
        grouped(purchasers),
        grouped(t.second_device),
        grouped(t.bots)
    );
    println!("  revenue   {:.0} from {} orders", t.revenue, grouped(t.purchases));
    let (first, last) = (t.config.start_ms(), t.config.now_ms);
    println!(
        "  period    {} to {} ({} days, seed {})",
        clock::date(first),
        clock::date(last),
        t.config.days,
        t.config.seed
    );
    println!("Keys");
    println!("  write key   {}  (public: for the snippet and SDKs)", created.write_key);
    println!("  secret key  {}  (admin; shown once, store it now)", created.secret_key);
    print_next(url, id, &created.secret_key, &t.config.funnel);
}

/// First queries to run: the raw events, the site's figures, the funnel.
fn print_next(url: &str, id: i64, key: &str, f: &FunnelConfig) {
    let query = |body: String| {
        format!(
            "  curl -s -H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' \\\n       {url}/api/projects/{id}/query -d '{body}'"
        )
    };
    println!("Next");
    println!("  curl -s -H 'Authorization: Bearer {key}' '{url}/api/projects/{id}/events?limit=5'");
    println!("{}", query(r#"{"kind":"web_analytics","date_range":{"from":"-30d"}}"#.to_string()));
    let steps = [&"$pageview".to_string(), &f.signup_event, &f.activation_event, &f.purchase_event]
        .map(|e| format!(r#"{{"event":"{e}"}}"#))
        .join(",");
    println!("{}", query(format!(r#"{{"kind":"funnel","date_range":{{"from":"-30d"}},"steps":[{steps}]}}"#)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_come_from_the_flag_or_the_listen_address() {
        let mut config = Config::default();
        assert_eq!(base_url(&config, None).unwrap(), "http://127.0.0.1:8000");
        assert_eq!(base_url(&config, Some("http://h:1/")).unwrap(), "http://h:1");
        assert!(base_url(&config, Some("h:1")).is_err());
        config.listen = "0.0.0.0:9000".into();
        assert_eq!(base_url(&config, None).unwrap(), "http://127.0.0.1:9000");
        config.listen = "127.0.0.1:0".into();
        assert!(base_url(&config, None).is_err());
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(grouped(12), "12");
    }
}
