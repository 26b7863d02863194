//! The direct bulk loader for benchmarks: messages → records (through a converter, the seam
//! where the collector's own message → record conversion plugs in) → the same per-table
//! Arrow batches the collector's batcher builds → `Warehouse::insert`, bypassing HTTP and
//! the write-ahead log. Conversion runs on a blocking thread while batches are inserted.

use std::time::Instant;

use numu_ingest::back::tables::{Tables, TABLES};
use numu_ingest::front::{self, Hints, Incoming, Parsed, Pipeline, PropertySchemas, RequestMeta};
use numu_ingest::Record;
use numu_schemas::Message;
use numu_warehouse::{Warehouse, WarehouseError};
use serde::Serialize;

use crate::model::{received_at, simple_records};

/// How to load.
#[derive(Clone, Debug)]
pub struct BulkOptions {
    /// Event rows per insert (the last batch may be smaller).
    pub batch_rows: usize,
}

impl Default for BulkOptions {
    fn default() -> Self {
        BulkOptions { batch_rows: 50_000 }
    }
}

/// What was loaded so far.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct BulkReport {
    pub messages: u64,
    /// Rows inserted per table, in [`TABLES`] order.
    pub rows: [u64; 4],
    pub inserts: u64,
    pub elapsed_ms: u64,
}

impl BulkReport {
    /// Rows inserted into `table`.
    pub fn rows_of(&self, table: &str) -> u64 {
        TABLES.iter().position(|t| *t == table).map_or(0, |i| self.rows[i])
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BulkError {
    #[error("building a batch: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
    #[error("the conversion thread failed: {0}")]
    Producer(String),
    #[error("setting up the collector's conversion: {0}")]
    Collector(String),
}

/// The converter that needs no collector: [`simple_records`] for `project_id`.
pub fn simple_converter(project_id: u64) -> impl FnMut(Message, i64) -> Vec<Record> + Send + 'static {
    move |message, received_at_ms| simple_records(message, project_id, received_at_ms)
}

/// The collector's own conversion — validation and enrichment as `/v1/batch` applies them
/// (`numu_ingest::front::Pipeline` with its default settings) — so bulk-loaded rows equal
/// what the HTTP path stores. Refused messages become dead letters (without their raw text).
pub fn collector_converter(
    project_id: u64,
    now_ms: i64,
) -> Result<impl FnMut(Message, i64) -> Vec<Record> + Send + 'static, BulkError> {
    let pipeline = Pipeline::new(&front::Config::default(), PropertySchemas::new(), now_ms)
        .map_err(|e| BulkError::Collector(e.to_string()))?;
    Ok(move |message, received_at| {
        let meta = RequestMeta {
            endpoint: "/v1/batch",
            received_at,
            require_identity: true,
            ..RequestMeta::default()
        };
        let incoming =
            Incoming { index: 0, raw: "", parsed: Ok(Parsed { message, hints: Hints::default() }) };
        pipeline.process(project_id, &meta, vec![incoming]).records
    })
}

type Cut = Result<(Tables, u64), arrow_schema::ArrowError>;

/// Converts on this (blocking) thread and hands batches of `batch_rows` events over.
fn produce(
    messages: impl Iterator<Item = Message>,
    mut convert: impl FnMut(Message, i64) -> Vec<Record>,
    batch_rows: usize,
    sender: tokio::sync::mpsc::Sender<Cut>,
) {
    let (mut records, mut events, mut count) = (Vec::new(), 0usize, 0u64);
    let cut = |records: &mut Vec<Record>, count: &mut u64| {
        let tables = Tables::build(std::mem::take(records)).map(|t| (t, std::mem::take(count)));
        sender.blocking_send(tables).is_ok()
    };
    for message in messages {
        let at = received_at(&message);
        for record in convert(message, at) {
            events += usize::from(matches!(record, Record::Event(_)));
            records.push(record);
        }
        count += 1;
        if events >= batch_rows {
            events = 0;
            if !cut(&mut records, &mut count) {
                return;
            }
        }
    }
    if !records.is_empty() {
        cut(&mut records, &mut count);
    }
}

/// Loads `messages` into `warehouse`, converting each with `convert(message, received_at)`
/// ([`simple_converter`] until the collector's conversion is used), and calls `progress`
/// after each batch.
pub async fn bulk_load<I, C>(
    warehouse: &Warehouse,
    messages: I,
    convert: C,
    options: &BulkOptions,
    mut progress: impl FnMut(&BulkReport),
) -> Result<BulkReport, BulkError>
where
    I: Iterator<Item = Message> + Send + 'static,
    C: FnMut(Message, i64) -> Vec<Record> + Send + 'static,
{
    let started = Instant::now();
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Cut>(2);
    let batch_rows = options.batch_rows.max(1);
    let producer = tokio::task::spawn_blocking(move || produce(messages, convert, batch_rows, sender));
    let mut report = BulkReport::default();
    while let Some(cut) = receiver.recv().await {
        let (tables, messages) = cut?;
        for (i, batch) in tables.batches.into_iter().enumerate() {
            if let Some(batch) = batch {
                report.rows[i] += batch.num_rows() as u64;
                warehouse.insert(TABLES[i], batch).await?;
                report.inserts += 1;
            }
        }
        report.messages += messages;
        report.elapsed_ms = started.elapsed().as_millis() as u64;
        progress(&report);
    }
    producer.await.map_err(|e| BulkError::Producer(e.to_string()))?;
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}
