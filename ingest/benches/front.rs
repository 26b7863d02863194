//! The front path's cost per event: decode + validate + enrich (+ identity records) of
//! one Segment event and of a batch of 50, next to the baseline the collector is held to
//! (deserializing the same payload into the same `Message` types and nothing else).
//! Run: `cargo bench -p numu-ingest --bench front`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use numu_ingest::front::compact::decode_compact;
use numu_ingest::front::segment::{decode_batch, decode_message};
use numu_ingest::front::validate::validate;
use numu_ingest::front::{Config, Incoming, Parsed, Pipeline, PropertySchemas, RequestMeta};
use numu_schemas::{EventType, Message};

const EVENT: &str = r#"{"type":"track","event":"Product Viewed","userId":"user-1234","anonymousId":"0b4c2a9e-5f1d-4c1b-9d3e-7a2f1c9b8e11",
"messageId":"ajs-next-1767225600000-8c5e6e0d","timestamp":"2026-01-01T00:00:00.000Z","sentAt":"2026-01-01T00:00:00.120Z",
"properties":{"product_id":"p-77","name":"Trail shoe","price":89.9,"currency":"EUR","category":"shoes","position":3},
"context":{"ip":"203.0.113.9","locale":"fr-FR","userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
"page":{"url":"https://shop.example/p/77?utm_source=newsletter&utm_medium=email&utm_campaign=jan","referrer":"https://www.google.com/","title":"Trail shoe","path":"/p/77"},
"screen":{"width":1512,"height":982},"library":{"name":"analytics.js","version":"next-1.70.0"}}}"#;

const COMPACT: &str = r#"{"t":"page","id":"m1","ts":1767225600000,"sa":1767225600120,"a":"0b4c2a9e-5f1d","s":"s1",
"url":"https://shop.example/p/77?utm_source=newsletter","ref":"https://www.google.com/","ti":"Trail shoe",
"sw":1512,"sh":982,"vw":1200,"vh":800,"lang":"fr-FR","p":{"price":89.9}}"#;

fn batch_body(n: usize) -> String {
    format!(r#"{{"batch":[{}],"sentAt":"2026-01-01T00:00:00.120Z"}}"#, vec![EVENT; n].join(","))
}

fn meta() -> RequestMeta<'static> {
    RequestMeta {
        endpoint: "/v1/batch",
        received_at: 1_767_225_600_200,
        require_identity: true,
        ..RequestMeta::default()
    }
}

fn bench(c: &mut Criterion) {
    let pipeline = Pipeline::new(&Config::default(), PropertySchemas::new(), 1_767_225_600_000).unwrap();
    let meta = meta();
    let mut group = c.benchmark_group("front");
    group.throughput(Throughput::Elements(1));
    group.bench_function("baseline_deserialize_single", |b| {
        b.iter(|| black_box(serde_json::from_str::<Message>(black_box(EVENT)).unwrap()))
    });
    group.bench_function("single_segment_event", |b| {
        b.iter(|| {
            let message = decode_message(black_box(EVENT), EventType::Track).unwrap();
            let events = vec![Incoming {
                index: 0,
                raw: EVENT,
                parsed: Ok(Parsed { message, hints: Default::default() }),
            }];
            black_box(pipeline.process(1, &meta, events))
        })
    });
    group.bench_function("single_compact_event", |b| {
        b.iter(|| {
            black_box(pipeline.process(1, &meta, decode_compact(black_box(COMPACT), 32 * 1024).unwrap()))
        })
    });
    let body = batch_body(50);
    group.throughput(Throughput::Elements(50));
    group.bench_function("baseline_deserialize_batch_50", |b| {
        b.iter(|| black_box(serde_json::from_str::<numu_schemas::event::Batch>(black_box(&body)).unwrap()))
    });
    group.bench_function("segment_batch_50", |b| {
        b.iter(|| {
            black_box(pipeline.process(1, &meta, decode_batch(black_box(&body), 32 * 1024).unwrap().events))
        })
    });
    // Where the time goes: decoding alone, then decoding and validation.
    group.bench_function("parts_decode_batch_50", |b| {
        b.iter(|| black_box(decode_batch(black_box(&body), 32 * 1024).unwrap()))
    });
    group.bench_function("parts_decode_validate_batch_50", |b| {
        b.iter(|| {
            let batch = decode_batch(black_box(&body), 32 * 1024).unwrap();
            let valid: Vec<_> =
                batch.events.into_iter().map(|e| validate(e.parsed.unwrap(), true).unwrap()).collect();
            black_box(valid)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
