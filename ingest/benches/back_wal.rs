//! CPU per event of the back half without the warehouse: encoding a log frame (postcard vs
//! JSON lines, the format choice), appending through the collector (group commit, no fsync
//! so the figure is CPU, not disk), and building the Arrow batches of a cut batch.

use std::sync::Arc;
use std::time::Duration;

use arrow_array::RecordBatch;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use numu_ingest::back::{self, tables::Tables, Collector, Config, FsyncPolicy};
use numu_ingest::{Record, Sink};
use numu_schemas::EventRow;
use numu_warehouse::{BatchStream, Engine, EngineKind, PlaceholderStyle, Sql, Warehouse};

/// An event as the front half produces it from a browser `track` call.
fn event(i: u64) -> Record {
    Record::Event(Box::new(EventRow {
        project_id: 1,
        timestamp: 1_764_000_000_000 + i as i64,
        event: "Button Clicked".into(),
        event_type: "track".into(),
        message_id: format!("0193a6b2-7c1e-7d4f-9a3b-{i:012}"),
        distinct_id: format!("anon-{}", i % 5000),
        anonymous_id: format!("anon-{}", i % 5000),
        session_id: "0193a6b2-0000-7000-8000-000000000001".into(),
        url: "https://example.com/pricing?utm_source=newsletter".into(),
        host: "example.com".into(),
        path: "/pricing".into(),
        title: "Pricing — Example".into(),
        referrer: "https://www.google.com/".into(),
        referrer_host: "www.google.com".into(),
        referrer_source: "Google".into(),
        channel: "Organic Search".into(),
        utm_source: "newsletter".into(),
        device_type: "desktop".into(),
        browser: "Chrome".into(),
        browser_version: "120.0".into(),
        os: "Windows".into(),
        os_version: "10".into(),
        country: "DE".into(),
        locale: "de-DE".into(),
        screen_width: 1440,
        screen_height: 900,
        library: "analytics.js".into(),
        properties: vec![("button".into(), "cta-primary".into()), ("plan".into(), "pro".into())],
        received_at: 1_764_000_000_050 + i as i64,
        ..EventRow::default()
    }))
}

fn events(n: u64) -> Vec<Record> {
    (0..n).map(event).collect()
}

/// Takes inserts and discards them: the bench measures the collector, not the engine.
struct NullEngine;

#[async_trait::async_trait]
impl Engine for NullEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Embedded
    }
    fn placeholder_style(&self) -> PlaceholderStyle {
        PlaceholderStyle::QuestionMark
    }
    async fn query(&self, _: &Sql) -> numu_warehouse::Result<BatchStream> {
        Ok(Box::pin(futures::stream::empty()))
    }
    async fn execute(&self, _: &Sql) -> numu_warehouse::Result<()> {
        Ok(())
    }
    async fn insert(&self, _: &str, batch: RecordBatch) -> numu_warehouse::Result<u64> {
        Ok(batch.num_rows() as u64)
    }
    async fn insert_deduplicated(&self, _: &str, batch: RecordBatch, _: &str) -> numu_warehouse::Result<u64> {
        Ok(batch.num_rows() as u64)
    }
    async fn version(&self) -> numu_warehouse::Result<String> {
        Ok("null".into())
    }
}

fn encoding(c: &mut Criterion) {
    let records = events(50);
    let mut group = c.benchmark_group("frame_50_events");
    group.throughput(Throughput::Elements(50));
    group.bench_function("postcard_encode", |b| b.iter(|| back::encode_frame(&records).unwrap()));
    let frame = back::encode_frame(&records).unwrap();
    group.bench_function("postcard_decode", |b| b.iter(|| back::decode_frame(&frame).unwrap()));
    group.bench_function("json_lines_encode", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(64 << 10);
            for record in &records {
                serde_json::to_writer(&mut out, record).unwrap();
                out.push(b'\n');
            }
            crc32c::crc32c(&out)
        })
    });
    let json: Vec<u8> =
        records.iter().flat_map(|r| serde_json::to_vec(r).unwrap().into_iter().chain([b'\n'])).collect();
    group.bench_function("json_lines_decode", |b| {
        b.iter(|| {
            json.split(|&c| c == b'\n')
                .filter(|l| !l.is_empty())
                .map(|l| serde_json::from_slice::<Record>(l).unwrap())
                .collect::<Vec<_>>()
        })
    });
    group.finish();
    eprintln!(
        "frame bytes per event: postcard {:.0}, json {:.0}",
        frame.len() as f64 / 50.0,
        json.len() as f64 / 50.0
    );
}

fn append(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = Config { dir: dir.path().to_path_buf(), fsync: FsyncPolicy::Never, ..Config::default() };
    let warehouse = Warehouse::from_engine(Arc::new(NullEngine));
    let collector = runtime.block_on(Collector::start(config, warehouse)).unwrap();
    let mut group = c.benchmark_group("collector_append");
    for size in [1u64, 50] {
        group.throughput(Throughput::Elements(size));
        group.bench_function(format!("{size}_events_per_append"), |b| {
            b.iter_batched(
                || events(size),
                |records| runtime.block_on(collector.append(records)).unwrap(),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
    runtime.block_on(collector.shutdown());
}

/// User + system CPU time of this whole process (every thread: writer, batcher, Arrow
/// building), from /proc at its 10 ms resolution.
fn process_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 1..].split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

/// CPU (not wall) time per append, including the batcher's share: cutting, building the
/// Arrow batches and the (discarding) insert. The records are made before the clock starts.
fn cpu(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        dir: dir.path().to_path_buf(),
        fsync: FsyncPolicy::Never,
        batch_rows: 10_000,
        batch_interval_ms: 20,
        ..Config::default()
    };
    let warehouse = Warehouse::from_engine(Arc::new(NullEngine));
    let collector = runtime.block_on(Collector::start(config, warehouse)).unwrap();
    let mut group = c.benchmark_group("cpu_per_append_incl_batching");
    group.sample_size(10);
    // (events per append, concurrent appenders): a lone client pays a whole writer round
    // per append; concurrent ones share rounds (group commit).
    for (size, tasks) in [(1u64, 1u64), (1, 32), (50, 1), (50, 8)] {
        group.throughput(Throughput::Elements(size));
        group.bench_function(format!("{size}_events_x{tasks}_concurrent"), |b| {
            b.iter_custom(|iters| {
                let per_task = iters.div_ceil(tasks);
                let inputs: Vec<Vec<Vec<Record>>> =
                    (0..tasks).map(|_| (0..per_task).map(|_| events(size)).collect()).collect();
                let start = process_cpu();
                runtime.block_on(async {
                    let mut handles = Vec::new();
                    for input in inputs {
                        let collector = collector.clone();
                        handles.push(tokio::spawn(async move {
                            for records in input {
                                collector.append(records).await.unwrap();
                            }
                        }));
                    }
                    for handle in handles {
                        handle.await.unwrap();
                    }
                    while collector.stats().lag_records > 0 {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                });
                (process_cpu() - start) * iters as u32 / (per_task * tasks) as u32
            })
        });
    }
    group.finish();
    runtime.block_on(collector.shutdown());
}

fn build(c: &mut Criterion) {
    let mut group = c.benchmark_group("arrow_batch");
    group.throughput(Throughput::Elements(10_000));
    group.sample_size(20);
    group.bench_function("build_10k_events", |b| {
        b.iter_batched(|| events(10_000), |records| Tables::build(records).unwrap(), BatchSize::LargeInput)
    });
    group.finish();
}

criterion_group!(benches, encoding, append, build, cpu);
criterion_main!(benches);
