//! Shared helpers of the back-half tests: records, a fault-injecting engine, queries.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_array::cast::AsArray;
use arrow_array::RecordBatch;
use numu_ingest::back::{Collector, Config, Stats};
use numu_ingest::Record;
use numu_schemas::EventRow;
use numu_warehouse::sql::PlaceholderStyle;
use numu_warehouse::{
    first_cell, BatchStream, EmbeddedEngine, Engine, EngineKind, Sql, Warehouse, WarehouseError,
};

/// An event with a unique message id and some typed columns set.
pub fn event(i: u64) -> Record {
    Record::Event(Box::new(EventRow {
        project_id: 7,
        timestamp: 1_764_000_000_000 + i as i64,
        event: "signup".into(),
        event_type: "track".into(),
        message_id: format!("m-{i}"),
        distinct_id: format!("d-{}", i % 10),
        url: "https://example.com/ar/صفحة".into(),
        screen_width: 390,
        revenue: i as f64 / 4.0,
        properties: vec![("plan".into(), "pro".into()), ("n".into(), i.to_string())],
        received_at: 1_764_000_000_500 + i as i64,
        ..EventRow::default()
    }))
}

pub fn events(range: std::ops::Range<u64>) -> Vec<Record> {
    range.map(event).collect()
}

/// A collector configuration in `dir` with fast cuts, so tests see rows quickly.
pub fn config(dir: &std::path::Path) -> Config {
    Config {
        dir: dir.to_path_buf(),
        batch_interval_ms: 100,
        retry_initial_ms: 50,
        retry_max_ms: 200,
        shutdown_timeout_ms: 5_000,
        ..Config::default()
    }
}

/// How the [`Faulty`] engine treats inserts.
pub const PASS: u32 = 0;
/// Every insert fails as if the server were unreachable.
pub const DOWN: u32 = 1;
/// Inserts are stored, then the call never returns (a crash before the checkpoint).
pub const HANG_AFTER_INSERT: u32 = 2;

/// Like `HANG_AFTER_INSERT`, only for `dead_letters` (the last table of a batch).
pub const HANG_AFTER_DEAD_LETTERS: u32 = 3;

/// Wraps the real engine; inserts behave as `mode` says.
pub struct Faulty {
    pub inner: Arc<dyn Engine>,
    pub mode: AtomicU32,
    pub inserts: AtomicU32,
}

impl Faulty {
    pub fn set(&self, mode: u32) {
        self.mode.store(mode, Ordering::SeqCst);
    }
}

#[async_trait::async_trait]
impl Engine for Faulty {
    fn kind(&self) -> EngineKind {
        self.inner.kind()
    }
    fn placeholder_style(&self) -> PlaceholderStyle {
        self.inner.placeholder_style()
    }
    async fn query(&self, sql: &Sql) -> numu_warehouse::Result<BatchStream> {
        self.inner.query(sql).await
    }
    async fn execute(&self, sql: &Sql) -> numu_warehouse::Result<()> {
        self.inner.execute(sql).await
    }
    async fn insert(&self, table: &str, batch: RecordBatch) -> numu_warehouse::Result<u64> {
        self.insert_deduplicated(table, batch, "").await
    }
    async fn insert_deduplicated(
        &self,
        table: &str,
        batch: RecordBatch,
        token: &str,
    ) -> numu_warehouse::Result<u64> {
        match self.mode.load(Ordering::SeqCst) {
            DOWN => Err(WarehouseError::Connection("injected outage".into())),
            HANG_AFTER_DEAD_LETTERS if table != "dead_letters" => {
                self.inner.insert_deduplicated(table, batch, token).await
            }
            HANG_AFTER_INSERT | HANG_AFTER_DEAD_LETTERS => {
                self.inner.insert_deduplicated(table, batch, token).await?;
                self.inserts.fetch_add(1, Ordering::SeqCst);
                std::future::pending().await
            }
            _ => {
                let rows = self.inner.insert_deduplicated(table, batch, token).await?;
                self.inserts.fetch_add(1, Ordering::SeqCst);
                Ok(rows)
            }
        }
    }
    async fn version(&self) -> numu_warehouse::Result<String> {
        self.inner.version().await
    }
}

/// A migrated test database, reachable both directly and through a [`Faulty`] wrapper.
pub struct TestWarehouse {
    pub real: Warehouse,
    pub faulty: Arc<Faulty>,
    pub wrapped: Warehouse,
}

pub async fn test_warehouse(prefix: &str) -> TestWarehouse {
    let config = numu_warehouse::testing::test_config(prefix);
    let engine = EmbeddedEngine::open(&config.embedded, &config.database)
        .await
        .expect("embedded warehouse (run `make setup` first)");
    let inner: Arc<dyn Engine> = Arc::new(engine);
    let real = Warehouse::from_engine(inner.clone());
    real.migrate().await.unwrap();
    let faulty = Arc::new(Faulty { inner, mode: AtomicU32::new(PASS), inserts: AtomicU32::new(0) });
    let wrapped = Warehouse::from_engine(faulty.clone());
    TestWarehouse { real, faulty, wrapped }
}

pub async fn scalar(warehouse: &Warehouse, sql: &str) -> String {
    first_cell(&warehouse.query_all(&Sql::new(sql)).await.unwrap()).unwrap_or_default()
}

/// `(count(), uniqExact(message_id))` of `events`, without FINAL.
pub async fn counts(warehouse: &Warehouse) -> (u64, u64) {
    let text =
        scalar(warehouse, "SELECT toString(count()) || ',' || toString(uniqExact(message_id)) FROM events")
            .await;
    let (a, b) = text.split_once(',').unwrap();
    (a.parse().unwrap(), b.parse().unwrap())
}

/// One JSON object per row of `sql`'s single string column.
pub async fn json_rows(warehouse: &Warehouse, sql: &str) -> Vec<serde_json::Value> {
    let batches = warehouse.query_all(&Sql::new(sql)).await.unwrap();
    let mut rows = Vec::new();
    for batch in &batches {
        let column = batch.column(0).as_string::<i32>();
        for i in 0..batch.num_rows() {
            rows.push(serde_json::from_str(column.value(i)).unwrap());
        }
    }
    rows
}

/// Waits until `done` holds for the collector's stats, or panics after `limit`.
pub async fn wait_for(collector: &Collector, limit: Duration, done: impl Fn(&Stats) -> bool) -> Stats {
    let started = Instant::now();
    loop {
        let stats = collector.stats();
        if done(&stats) {
            return stats;
        }
        assert!(started.elapsed() < limit, "timed out; stats: {stats:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn drained(collector: &Collector) -> Stats {
    wait_for(collector, Duration::from_secs(60), |s| s.lag_records == 0 && s.lag_bytes == 0).await
}
