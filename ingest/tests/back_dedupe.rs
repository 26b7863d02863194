//! Client retries against the durable sink and the real embedded warehouse: an event whose
//! message id was already taken is stored once — resent after its acknowledgement, resent
//! after a crash swallowed the acknowledgement, or resent after the log refused it.

mod back_support;

use back_support::*;
use numu_ingest::back::Collector;
use numu_ingest::Sink;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resent_events_are_stored_once_even_across_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warehouse("back_dedupe").await;
    let config = numu_ingest::back::Config { batch_rows: 10, ..config(dir.path()) };
    let collector = Collector::start(config.clone(), w.wrapped.clone()).await.unwrap();
    collector.append(events(0..10)).await.unwrap();
    collector.append(events(5..15)).await.unwrap();
    assert_eq!(collector.stats().duplicates, 5);
    drained(&collector).await;
    assert_eq!(counts(&w.real).await, (15, 15));

    // While the warehouse is down the log cuts batches of 10 and keeps them; then a crash:
    // two cut batches (15..35) and an uncut tail (35..40) are in the log, none inserted.
    w.faulty.set(DOWN);
    for first in (15..40).step_by(5) {
        collector.append(events(first..first + 5)).await.unwrap();
    }
    collector.kill().await;
    w.faulty.set(PASS);
    let collector = Collector::start(config, w.wrapped.clone()).await.unwrap();
    assert_eq!(collector.stats().replayed_records, 25);
    // The clients never saw their acknowledgements and send everything again, plus more.
    for first in (15..45).step_by(5) {
        collector.append(events(first..first + 5)).await.unwrap();
    }
    assert_eq!(collector.stats().duplicates, 25);
    drained(&collector).await;
    collector.shutdown().await;
    assert_eq!(counts(&w.real).await, (45, 45));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zero_window_keeps_every_copy() {
    let dir = tempfile::tempdir().unwrap();
    let w = test_warehouse("back_nodedupe").await;
    let off = numu_ingest::back::Config { dedupe_window_ids: 0, ..config(dir.path()) };
    let collector = Collector::start(off, w.wrapped.clone()).await.unwrap();
    collector.append(events(0..10)).await.unwrap();
    collector.append(events(0..10)).await.unwrap();
    drained(&collector).await;
    collector.shutdown().await;
    assert_eq!(counts(&w.real).await, (20, 10), "(count, uniqExact) without deduplication");
}
