//! `bulk-load`: generates the traffic model and loads it straight into an embedded
//! warehouse directory (the server must be stopped: the directory is one process's), in the
//! same per-table batches the collector writes, with a progress bar. For benchmarks.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use clap::Parser;
use numu_appstate::AppState;
use numu_load_tests::demo::{bulk_load, collector_converter, progress_bar, simple_converter, BulkOptions};
use numu_load_tests::model::{clock, Generator, ModelConfig, Truths};
use numu_schemas::Message;
use numu_warehouse::{EmbeddedConfig, Warehouse, WarehouseConfig};

/// Load about N events of modelled traffic into an embedded warehouse, bypassing HTTP.
#[derive(Debug, Parser)]
#[command(name = "bulk-load", version, about)]
struct Args {
    /// About how many events (messages) to load.
    #[arg(long, default_value_t = 100_000)]
    events: u64,
    /// Seed [default: 1].
    #[arg(long)]
    seed: Option<u64>,
    /// Start from this model configuration (JSON, any subset of `ModelConfig`'s fields)
    /// instead of the defaults; flags given override it.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Days of traffic, ending at --now [default: 21].
    #[arg(long)]
    days: Option<u32>,
    /// End of the period, RFC 3339 (default: now).
    #[arg(long)]
    now: Option<String>,
    /// Numu's data directory: the warehouse is DIR/warehouse, the app state DIR/numu.sqlite.
    #[arg(long)]
    data_dir: PathBuf,
    /// Warehouse database.
    #[arg(long, default_value = "numu")]
    database: String,
    /// Python interpreter that installed the embedded engine (chdb-core).
    #[arg(long, env = "NUMU_WAREHOUSE__EMBEDDED__PYTHON", default_value = ".venv/bin/python3")]
    python: PathBuf,
    /// Load into this project instead of creating one named "Bulk load".
    #[arg(long)]
    project_id: Option<u64>,
    /// Event rows per insert.
    #[arg(long, default_value_t = 50_000)]
    batch_rows: usize,
    /// Use the simple message → row conversion instead of the collector's enrichment.
    #[arg(long)]
    simple: bool,
    /// Write the model's truths (parameters and realised counts) as JSON here.
    #[arg(long)]
    truths: Option<PathBuf>,
}

/// Passes messages through and keeps the generator's truths once it is exhausted.
struct Tap {
    generator: Generator,
    truths: Arc<Mutex<Option<Truths>>>,
}

impl Iterator for Tap {
    type Item = Message;

    fn next(&mut self) -> Option<Message> {
        let next = self.generator.next();
        if next.is_none() {
            if let Ok(mut slot) = self.truths.lock() {
                *slot = Some(self.generator.truths().clone());
            }
        }
        next
    }
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

async fn project(args: &Args) -> anyhow::Result<u64> {
    if let Some(id) = args.project_id {
        return Ok(id);
    }
    let path = args.data_dir.join("numu.sqlite");
    let state = AppState::open(&path).await.with_context(|| format!("opening {}", path.display()))?;
    let created = state.create_project("Bulk load").await?;
    println!("project {} created: {}", created.project.id, created.project.name);
    println!("write key: {}", created.write_key);
    println!("secret key (admin; shown once): {}", created.secret_key);
    Ok(created.project.id as u64)
}

async fn run(args: Args) -> anyhow::Result<()> {
    let now = match &args.now {
        Some(text) => clock::parse_rfc3339(text).context("--now must be RFC 3339")?,
        None => now_ms(),
    };
    let mut model = match &args.model {
        Some(path) => {
            let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_slice(&text)
                .with_context(|| format!("{} is not a model configuration", path.display()))?
        }
        None => ModelConfig::default(),
    };
    model.seed = args.seed.unwrap_or(model.seed);
    model.days = args.days.unwrap_or(model.days);
    model.now_ms = now;
    let model = model.sized_for(args.events)?;
    let project_id = project(&args).await?;
    let config = WarehouseConfig {
        database: args.database.clone(),
        embedded: EmbeddedConfig {
            path: args.data_dir.join("warehouse"),
            python: args.python.clone(),
            ..EmbeddedConfig::default()
        },
        ..WarehouseConfig::default()
    };
    let warehouse = Warehouse::open(&config).await?;
    warehouse.migrate().await?;
    let slot = Arc::new(Mutex::new(None));
    let messages = Tap { generator: Generator::new(model.clone())?, truths: slot.clone() };
    let options = BulkOptions { batch_rows: args.batch_rows };
    let bar = progress_bar(args.events, "events");
    let report = if args.simple {
        bulk_load(&warehouse, messages, simple_converter(project_id), &options, |r| {
            bar.set_position(r.messages)
        })
        .await?
    } else {
        let convert = collector_converter(project_id, now)?;
        bulk_load(&warehouse, messages, convert, &options, |r| bar.set_position(r.messages)).await?
    };
    bar.finish_and_clear();
    let seconds = (report.elapsed_ms as f64 / 1000.0).max(0.001);
    println!(
        "loaded {} events into project {project_id} in {seconds:.1} s ({:.0} events/s): {} identity links, {} person updates, {} dead letters, {} inserts",
        report.rows_of("events"),
        report.rows_of("events") as f64 / seconds,
        report.rows_of("identity_links"),
        report.rows_of("person_property_updates"),
        report.rows_of("dead_letters"),
        report.inserts
    );
    println!(
        "traffic from {} to {} (seed {})",
        clock::rfc3339(model.start_ms()),
        clock::rfc3339(model.now_ms),
        model.seed
    );
    let truths = slot.lock().ok().and_then(|mut t| t.take());
    if let (Some(path), Some(truths)) = (&args.truths, truths) {
        std::fs::write(path, serde_json::to_vec_pretty(&truths)?)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("truths written to {}", path.display());
    }
    drop(warehouse);
    numu_warehouse::embedded::close();
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(run(args))
}
