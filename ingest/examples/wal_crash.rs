//! A collector on the embedded warehouse fed by a generator, for crash tests with a real
//! process (`ingest/tests/back_crash.rs` kills it with SIGKILL mid-load).
//!
//! `wal_crash run WAL_DIR WAREHOUSE_DIR DATABASE CHUNKS` appends CHUNKS chunks of 50 events
//! (message ids `CHUNK-I`) from 8 concurrent tasks and prints `ack CHUNK` once a chunk is
//! durable. `wal_crash check WAL_DIR WAREHOUSE_DIR DATABASE` starts the collector (replaying
//! the log), waits until everything is in the warehouse and prints what is stored as JSON.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use numu_ingest::back::{Collector, Config};
use numu_ingest::{Record, Sink};
use numu_schemas::EventRow;
use numu_warehouse::{first_cell, EmbeddedConfig, Sql, Warehouse, WarehouseConfig};

const CHUNK: u64 = 50;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [mode, wal, path, database, rest @ ..] = args.as_slice() else {
        return Err("usage: wal_crash run|check WAL_DIR WAREHOUSE_DIR DATABASE [CHUNKS]".into());
    };
    let warehouse = open(path, database).await?;
    let config = Config {
        dir: PathBuf::from(wal),
        batch_rows: 10_000,
        batch_interval_ms: 200,
        segment_bytes: 2 << 20,
        ..Config::default()
    };
    let collector = Collector::start(config, warehouse.clone()).await?;
    match mode.as_str() {
        "run" => run(collector, rest.first().ok_or("CHUNKS missing")?.parse()?).await,
        "check" => check(collector, &warehouse).await,
        other => Err(format!("unknown mode {other}").into()),
    }
}

async fn open(path: &str, database: &str) -> Result<Warehouse, Box<dyn std::error::Error>> {
    let python = std::env::var_os("NUMU_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| numu_warehouse::testing::repo_root().join(".venv/bin/python3"));
    let config = WarehouseConfig {
        database: database.into(),
        embedded: EmbeddedConfig { path: PathBuf::from(path), python, ..EmbeddedConfig::default() },
        ..WarehouseConfig::default()
    };
    let warehouse = Warehouse::open(&config).await?;
    warehouse.migrate().await?;
    Ok(warehouse)
}

fn chunk_records(chunk: u64) -> Vec<Record> {
    (0..CHUNK)
        .map(|i| {
            Record::Event(Box::new(EventRow {
                project_id: 1,
                timestamp: 1_764_000_000_000 + (chunk * CHUNK + i) as i64,
                event: "load".into(),
                event_type: "track".into(),
                message_id: format!("{chunk}-{i}"),
                distinct_id: format!("user-{}", chunk % 100),
                url: "https://example.com/pricing".into(),
                properties: vec![("i".into(), i.to_string())],
                ..EventRow::default()
            }))
        })
        .collect()
}

async fn run(collector: Arc<Collector>, chunks: u64) -> Result<(), Box<dyn std::error::Error>> {
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (collector, next) = (collector.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let chunk = next.fetch_add(1, Ordering::Relaxed);
                if chunk >= chunks {
                    return;
                }
                match collector.append(chunk_records(chunk)).await {
                    // One line per write so a kill never leaves half a line.
                    Ok(()) => println!("ack {chunk}"),
                    Err(e) => eprintln!("append {chunk} failed: {e}"),
                }
            }
        }));
    }
    for task in tasks {
        task.await?;
    }
    collector.shutdown().await;
    println!("done");
    Ok(())
}

async fn check(collector: Arc<Collector>, warehouse: &Warehouse) -> Result<(), Box<dyn std::error::Error>> {
    let replayed = collector.stats().replayed_records;
    while collector.stats().lag_records > 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    collector.shutdown().await;
    let text = |sql: &'static str| async move {
        warehouse.query_all(&Sql::new(sql)).await.map(|b| first_cell(&b).unwrap_or_default())
    };
    let count = text("SELECT count() FROM events").await?;
    let unique = text("SELECT uniqExact(message_id) FROM events").await?;
    let chunks = text(
        "SELECT toJSONString(arraySort(groupArray(c))) FROM \
         (SELECT toUInt64(splitByChar('-', message_id)[1]) AS c FROM events GROUP BY c)",
    )
    .await?;
    let partial = text(
        "SELECT toJSONString(groupArray(c)) FROM (SELECT toUInt64(splitByChar('-', message_id)[1]) AS c, \
         uniqExact(message_id) AS n FROM events GROUP BY c HAVING n != 50)",
    )
    .await?;
    println!(
        r#"{{"count":{count},"unique":{unique},"replayed":{replayed},"chunks":{chunks},"partial":{partial}}}"#
    );
    Ok(())
}
