//! The cost of `Realtime::observe` on the ingest hot path, and of reading figures.
//! Run: `cargo bench -p numu-ingest --bench realtime`.
//!
//! - `observe/returning_visitor`: one project, 100 visitors (exact sets), 20 pages.
//! - `observe/new_visitor_sketch`: one project, a new visitor per event (sketch inserts).
//! - `observe/10k_projects`: events spread over 10 000 projects.
//! - `observe/4_threads_64_projects`: four threads at once (lock contention).
//! - `read/snapshot_busy_project`: figures of a project whose 60 minutes are dense
//!   sketches with full top-K tables; `read/encode_summary`: a peer's summary.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use numu_ingest::realtime::{codec, minute_of, Config, Realtime};
use numu_schemas::EventRow;

const NOW: i64 = 28_333_333 * 60_000;

fn rows(projects: u64, visitors: u64, n: usize) -> Vec<EventRow> {
    (0..n as u64)
        .map(|i| EventRow {
            project_id: 1 + i % projects,
            event: "$pageview".into(),
            distinct_id: format!("anon-{:x}", (i * 7919) % visitors),
            host: "shop.example".into(),
            path: format!("/products/{}", i % 20),
            referrer_source: if i % 3 == 0 { "Google".into() } else { String::new() },
            channel: "direct".into(),
            ..EventRow::default()
        })
        .collect()
}

fn observe(c: &mut Criterion) {
    let mut group = c.benchmark_group("observe");
    group.throughput(Throughput::Elements(1));
    for (name, projects, visitors) in [
        ("returning_visitor", 1, 100),
        ("new_visitor_sketch", 1, u64::MAX),
        ("10k_projects", 10_000, 1_000_000),
    ] {
        let realtime = Realtime::new(Config::default()).unwrap();
        let events = rows(projects, visitors, 65_536);
        let mut i = 0usize;
        group.bench_function(name, |b| {
            b.iter(|| {
                realtime.observe(black_box(&events[i & 65_535]), NOW);
                i += 1;
            })
        });
    }
    let realtime = Realtime::new(Config::default()).unwrap();
    let events = rows(64, 1_000_000, 65_536);
    group.bench_function("4_threads_64_projects", |b| {
        b.iter_custom(|iters| {
            let counter = AtomicU64::new(0);
            let started = Instant::now();
            std::thread::scope(|scope| {
                for _ in 0..4 {
                    scope.spawn(|| loop {
                        let i = counter.fetch_add(1, Ordering::Relaxed);
                        if i >= iters {
                            break;
                        }
                        realtime.observe(&events[(i & 65_535) as usize], NOW);
                    });
                }
            });
            started.elapsed()
        })
    });
    group.finish();
}

fn read(c: &mut Criterion) {
    let realtime = Realtime::new(Config::default()).unwrap();
    let mut event = rows(1, 1, 1).remove(0);
    for minute in 0..60i64 {
        for v in 0..20_000u64 {
            event.distinct_id = format!("{minute}-{v}");
            event.path = format!("/p/{}", v % 500);
            realtime.observe(&event, NOW - (59 - minute) * 60_000);
        }
    }
    let mut group = c.benchmark_group("read");
    group.sample_size(20);
    group.bench_function("snapshot_busy_project", |b| b.iter(|| black_box(realtime.snapshot(1, NOW))));
    let summary = realtime.summary_at(1, minute_of(NOW));
    group.bench_function("encode_summary", |b| b.iter(|| black_box(codec::encode(&summary))));
    let bytes = codec::encode(&summary);
    println!("summary of a busy project: {} bytes", bytes.len());
    group.bench_function("decode_summary", |b| b.iter(|| black_box(codec::decode(&bytes, 14).unwrap())));
    group.finish();
}

criterion_group!(benches, observe, read);
criterion_main!(benches);
