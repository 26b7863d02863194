//! The durable sink against the real embedded warehouse: rows land in every table with exact
//! values, appends share syncs, torn tails are cut off, replays store once, outages fill the
//! log up to its cap and drain exactly once.

mod back_support;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use back_support::*;
use numu_ingest::back::{Collector, FsyncPolicy};
use numu_ingest::{DeadLetter, IdentityLink, PersonUpdate, Record, Sink, SinkError};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_land_in_all_four_tables_with_exact_values() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warehouse("back_values").await;
    let collector = Collector::start(config(dir.path()), w.real.clone()).await.unwrap();
    let link = IdentityLink {
        project_id: 7,
        distinct_id: "anon-1".into(),
        linked_id: "user-1".into(),
        kind: "identify".into(),
        timestamp: 1_764_000_000_123,
        message_id: "m-link".into(),
    };
    let update = PersonUpdate {
        project_id: 7,
        distinct_id: "user-1".into(),
        timestamp: 1_764_000_000_456,
        set_properties: vec![("email".into(), "a@example.com".into()), ("الاسم".into(), "سارة".into())],
        set_once_properties: vec![("first_seen".into(), "2026-01-01".into())],
        message_id: "m-update".into(),
    };
    // Recent: dead letters older than 90 days are dropped by the table's TTL.
    let now_ms =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let letter = DeadLetter {
        project_id: 0,
        received_at: now_ms as i64,
        endpoint: "/v1/batch".into(),
        reason: "invalid_json".into(),
        detail: "expected value at line 1".into(),
        event_index: -1,
        raw: b"{not json \xff".to_vec(),
    };
    let mut records = events(0..3);
    records.extend([Record::Link(link), Record::PersonUpdate(update), Record::DeadLetter(letter)]);
    collector.append(records).await.unwrap();
    collector.shutdown().await;

    let events = json_rows(&w.real, "SELECT formatRowNoNewline('JSONEachRow', message_id, distinct_id, url, screen_width, revenue, toUnixTimestamp64Milli(timestamp), properties) FROM events ORDER BY message_id").await;
    assert_eq!(events.len(), 3);
    assert_eq!(
        events[2],
        json!({"message_id": "m-2", "distinct_id": "d-2", "url": "https://example.com/ar/صفحة", "screen_width": 390,
               "revenue": 0.5, "toUnixTimestamp64Milli(timestamp)": 1764000000002_u64, "properties": {"plan": "pro", "n": "2"}})
    );
    let links = json_rows(&w.real, "SELECT formatRowNoNewline('JSONEachRow', project_id, distinct_id, linked_id, kind, toUnixTimestamp64Milli(timestamp) AS ts, message_id) FROM identity_links").await;
    assert_eq!(
        links,
        vec![
            json!({"project_id": 7, "distinct_id": "anon-1", "linked_id": "user-1", "kind": "identify", "ts": 1764000000123_u64, "message_id": "m-link"})
        ]
    );
    let updates = json_rows(&w.real, "SELECT formatRowNoNewline('JSONEachRow', distinct_id, toUnixTimestamp64Milli(timestamp) AS ts, set_properties, set_once_properties, message_id) FROM person_property_updates").await;
    assert_eq!(
        updates,
        vec![
            json!({"distinct_id": "user-1", "ts": 1764000000456_u64, "set_properties": {"email": "a@example.com", "الاسم": "سارة"},
                    "set_once_properties": {"first_seen": "2026-01-01"}, "message_id": "m-update"})
        ]
    );
    let letters = json_rows(&w.real, "SELECT formatRowNoNewline('JSONEachRow', project_id, toUnixTimestamp64Milli(received_at) AS ts, endpoint, reason, detail, event_index, raw) FROM dead_letters").await;
    assert_eq!(
        letters,
        vec![json!({"project_id": 0, "ts": now_ms, "endpoint": "/v1/batch", "reason": "invalid_json",
                    "detail": "expected value at line 1", "event_index": -1, "raw": "{not json \u{fffd}"})]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_share_one_fsync_per_group() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warehouse("back_group").await;
    // No commit delay: concurrency alone must share syncs.
    let config = numu_ingest::back::Config { group_commit_delay_us: 0, ..config(dir.path()) };
    let collector = Collector::start(config, w.real.clone()).await.unwrap();
    let mut tasks = Vec::new();
    for task in 0..64u64 {
        let collector = collector.clone();
        tasks.push(tokio::spawn(async move {
            for round in 0..20u64 {
                let first = (task * 20 + round) * 5;
                collector.append(events(first..first + 5)).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let stats = collector.stats();
    assert_eq!((stats.appends, stats.appended_records), (64 * 20, 64 * 20 * 5));
    assert!(stats.fsyncs * 2 < stats.appends, "group commit should share syncs: {stats:?}");
    drained(&collector).await;
    assert_eq!(counts(&w.real).await, (6400, 6400));
    collector.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_delay_shares_syncs_among_appends_that_trickle_in() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warehouse("back_delay").await;
    let config = numu_ingest::back::Config { group_commit_delay_us: 3_000, ..config(dir.path()) };
    let collector = Collector::start(config, w.real.clone()).await.unwrap();
    let mut tasks = Vec::new();
    for task in 0..4u64 {
        let collector = collector.clone();
        tasks.push(tokio::spawn(async move {
            for round in 0..25u64 {
                let first = (task * 25 + round) * 2;
                collector.append(events(first..first + 2)).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let stats = collector.stats();
    assert_eq!(stats.appends, 100);
    assert!(stats.fsyncs * 3 <= stats.appends, "the delay should gather rounds: {stats:?}");
    drained(&collector).await;
    collector.shutdown().await;
    assert_eq!(counts(&w.real).await, (200, 200));
}

/// Appends `n` events in appends of 10 and kills the collector (no cut, no checkpoint).
async fn append_then_crash(w: &TestWarehouse, dir: &std::path::Path, n: u64) {
    let collector = Collector::start(config(dir), w.wrapped.clone()).await.unwrap();
    for first in (0..n).step_by(10) {
        collector.append(events(first..first + 10)).await.unwrap();
    }
    collector.kill().await;
}

fn last_segment(dir: &std::path::Path) -> std::path::PathBuf {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wal"))
        .collect();
    files.sort();
    files.pop().unwrap()
}

/// Where a segment's frames end: the writer keeps zeros ahead of them in the file.
fn content_len(bytes: &[u8]) -> usize {
    let mut at = 16; // the segment header
    while at + 8 <= bytes.len() {
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        if len == 0 {
            break;
        }
        at += 8 + len;
    }
    at
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn torn_and_corrupt_tails_are_cut_off_not_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warehouse("back_torn").await;
    w.faulty.set(DOWN);
    append_then_crash(&w, dir.path(), 50).await;
    // A torn write: half a frame header and some bytes after the last whole frame.
    let path = last_segment(dir.path());
    let mut bytes = std::fs::read(&path).unwrap();
    let good_len = content_len(&bytes);
    assert!(bytes.len() > good_len, "the writer keeps zeros ahead of the log");
    bytes[good_len..good_len + 6].copy_from_slice(&[200, 1, 0, 0, 9, 9]);
    std::fs::write(&path, &bytes).unwrap();
    // Long batch age, so the frame appended next is the last one in the file when flipped.
    let slow = numu_ingest::back::Config { batch_interval_ms: 60_000, ..config(dir.path()) };
    let collector = Collector::start(slow, w.wrapped.clone()).await.unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), good_len as u64);
    assert_eq!(collector.stats().replayed_records, 50);
    collector.append(events(50..60)).await.unwrap();
    collector.kill().await;
    // A whole frame whose checksum fails: flip one byte of the last (10-event) frame.
    let mut bytes = std::fs::read(&path).unwrap();
    let last = content_len(&bytes) - 1;
    bytes[last] ^= 0x55;
    std::fs::write(&path, &bytes).unwrap();

    w.faulty.set(PASS);
    let collector = Collector::start(config(dir.path()), w.wrapped.clone()).await.unwrap();
    assert_eq!(collector.stats().replayed_records, 50, "the corrupt frame must not be replayed");
    collector.append(events(60..70)).await.unwrap();
    drained(&collector).await;
    collector.shutdown().await;
    assert_eq!(counts(&w.real).await, (60, 60));
    let missing =
        scalar(&w.real, "SELECT toString(countIf(message_id IN ('m-55', 'm-59'))) FROM events").await;
    assert_eq!(missing, "0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_insert_and_checkpoint_replays_into_one_copy() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warehouse("back_replay").await;
    let n = 3_000u64;
    // Several batches: some inserted and checkpointed, then one inserted whose checkpoint
    // never comes (the insert call hangs after storing the rows), then the crash.
    let mut config = config(dir.path());
    config.batch_rows = 1_000;
    config.segment_bytes = 200_000;
    let collector = Collector::start(config.clone(), w.wrapped.clone()).await.unwrap();
    collector.append(events(0..1_000)).await.unwrap();
    wait_for(&collector, Duration::from_secs(30), |s| s.inserted_batches == 1).await;
    let before = w.faulty.inserts.load(Ordering::SeqCst);
    w.faulty.set(HANG_AFTER_INSERT);
    for first in (1_000..n).step_by(100) {
        collector.append(events(first..first + 100)).await.unwrap();
    }
    while w.faulty.inserts.load(Ordering::SeqCst) == before {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    collector.kill().await;
    let (stored, _) = counts(&w.real).await;
    assert!(stored > 1_000 && stored < n, "the hung batch's rows are in before the crash: {stored}");

    w.faulty.set(PASS);
    let collector = Collector::start(config, w.wrapped.clone()).await.unwrap();
    assert_eq!(collector.stats().replayed_records, 2_000);
    drained(&collector).await;
    collector.shutdown().await;
    assert_eq!(counts(&w.real).await, (n, n));
    // A third start finds nothing to replay and no segment but the active one.
    let collector = Collector::start(config_with(dir.path()), w.real.clone()).await.unwrap();
    let stats = collector.stats();
    assert_eq!((stats.replayed_records, stats.log_segments), (0, 1), "{stats:?}");
    collector.shutdown().await;
}

fn config_with(dir: &std::path::Path) -> numu_ingest::back::Config {
    numu_ingest::back::Config { fsync: FsyncPolicy::Interval, ..config(dir) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_fills_the_log_to_its_cap_then_drains_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warehouse("back_outage").await;
    let mut config = config(dir.path());
    config.max_log_bytes = 200_000;
    config.segment_bytes = 50_000;
    let collector = Collector::start(config, w.wrapped.clone()).await.unwrap();
    collector.append(events(0..100)).await.unwrap();
    drained(&collector).await;
    w.faulty.set(DOWN);
    let mut accepted = 100u64;
    let retry_after = loop {
        match collector.append(events(accepted..accepted + 20)).await {
            Ok(()) => accepted += 20,
            Err(SinkError::Full { retry_after_secs }) => break retry_after_secs,
            Err(other) => panic!("unexpected {other}"),
        }
        assert!(accepted < 100_000, "the cap was never reached");
    };
    assert!(retry_after >= 1);
    let stats = wait_for(&collector, Duration::from_secs(10), |s| !s.warehouse_ok).await;
    assert!(stats.lag_bytes <= 200_000 && stats.lag_records > 0, "{stats:?}");
    assert!(stats.log_segments > 1, "the outage spans several segments: {stats:?}");
    assert!(stats.last_error.as_deref().unwrap_or("").contains("injected outage"));
    assert_eq!(counts(&w.real).await.0, 100);

    w.faulty.set(PASS);
    let stats = drained(&collector).await;
    assert!(stats.warehouse_ok && stats.log_segments == 1, "{stats:?}");
    assert_eq!(counts(&w.real).await, (accepted, accepted));
    collector.append(events(accepted..accepted + 20)).await.unwrap();
    collector.shutdown().await;
    assert_eq!(counts(&w.real).await, (accepted + 20, accepted + 20));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_during_an_outage_leaves_the_rest_for_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warehouse("back_shutdown").await;
    w.faulty.set(DOWN);
    let mut config = config(dir.path());
    config.shutdown_timeout_ms = 300;
    let collector = Collector::start(config.clone(), w.wrapped.clone()).await.unwrap();
    collector.append(events(0..500)).await.unwrap();
    collector.shutdown().await;
    assert!(matches!(collector.append(events(0..1)).await, Err(SinkError::ShuttingDown)));
    assert_eq!(counts(&w.real).await.0, 0);
    let collector = Collector::start(config, w.real.clone()).await.unwrap();
    assert_eq!(collector.stats().replayed_records, 500);
    drained(&collector).await;
    collector.shutdown().await;
    assert_eq!(counts(&w.real).await, (500, 500));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_collector_on_the_same_log_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warehouse("back_lock").await;
    let first = Collector::start(config(dir.path()), w.real.clone()).await.unwrap();
    let second = Collector::start(config(dir.path()), w.real.clone()).await;
    let message = second.unwrap_err().to_string();
    assert!(message.contains("used by another process"), "{message}");
    first.shutdown().await;
    let again: Arc<Collector> = Collector::start(config(dir.path()), w.real.clone()).await.unwrap();
    again.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_batch_is_stored_once_in_every_table() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warehouse("back_replay_all").await;
    // Every table the collector writes is created with a deduplication window (migrations).
    w.faulty.set(HANG_AFTER_DEAD_LETTERS);
    let collector = Collector::start(config(dir.path()), w.wrapped.clone()).await.unwrap();
    let now_ms =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let mut records = events(0..10);
    for i in 0..10 {
        records.push(Record::Link(IdentityLink {
            project_id: 7,
            distinct_id: format!("a{i}"),
            linked_id: format!("u{i}"),
            ..IdentityLink::default()
        }));
        records.push(Record::PersonUpdate(PersonUpdate {
            project_id: 7,
            distinct_id: format!("u{i}"),
            message_id: format!("p{i}"),
            ..PersonUpdate::default()
        }));
        records.push(Record::DeadLetter(DeadLetter {
            received_at: now_ms,
            event_index: i,
            ..DeadLetter::default()
        }));
    }
    collector.append(records).await.unwrap();
    while w.faulty.inserts.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    collector.kill().await;
    w.faulty.set(PASS);
    let collector = Collector::start(config(dir.path()), w.wrapped.clone()).await.unwrap();
    drained(&collector).await;
    collector.shutdown().await;
    for table in ["events", "identity_links", "person_property_updates", "dead_letters"] {
        let n = scalar(&w.real, &format!("SELECT toString(count()) FROM {table}")).await;
        assert_eq!(n, "10", "{table}");
    }
}
