//! Fixtures for the golden tests: an embedded warehouse per test, rows written the way the
//! collector writes them, and `reference` — plain-Rust folds that compute each expected
//! answer independently of the SQL.
#![allow(dead_code)]

pub mod funnel_reference;
pub mod reference;
pub mod shop;

use std::sync::Arc;

use arrow_array::builder::{MapBuilder, MapFieldNames, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch, StringArray, TimestampMillisecondArray, UInt64Array};
use arrow_schema::{DataType, Field, Schema};
use chrono::DateTime;
use numu_query::{Limits, Runner};
use numu_schemas::{events_to_batch, EventRow};
use numu_warehouse::Warehouse;

pub const PROJECT: u64 = 1;
pub const OTHER_PROJECT: u64 = 2;

/// Epoch milliseconds of an RFC 3339 instant.
pub fn ms(text: &str) -> i64 {
    DateTime::parse_from_rfc3339(text).unwrap_or_else(|e| panic!("{text}: {e}")).timestamp_millis()
}

/// A fresh migrated warehouse and a runner over it.
pub async fn setup(prefix: &str) -> (Warehouse, Runner) {
    setup_with(prefix, Limits::default()).await
}

pub async fn setup_with(prefix: &str, limits: Limits) -> (Warehouse, Runner) {
    let warehouse = numu_warehouse::testing::migrated_warehouse(prefix)
        .await
        .expect("embedded warehouse (run `make setup` first)");
    let runner = Runner::new(warehouse.clone(), limits);
    (warehouse, runner)
}

/// An event of [`PROJECT`]: `at` is RFC 3339, properties as pairs.
pub fn event(at: &str, name: &str, distinct_id: &str, message_id: &str) -> EventRow {
    EventRow {
        project_id: PROJECT,
        timestamp: ms(at),
        event: name.into(),
        event_type: "track".into(),
        message_id: message_id.into(),
        distinct_id: distinct_id.into(),
        received_at: ms(at),
        ..EventRow::default()
    }
}

pub fn with_props(mut row: EventRow, props: &[(&str, &str)]) -> EventRow {
    row.properties = props.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    row.properties.sort();
    row
}

pub async fn insert_events(warehouse: &Warehouse, rows: &[EventRow]) {
    warehouse.insert("events", events_to_batch(rows).unwrap()).await.unwrap();
}

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let fields: Vec<Field> =
        columns.iter().map(|(n, a)| Field::new(*n, a.data_type().clone(), false)).collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns.into_iter().map(|(_, a)| a).collect())
        .unwrap()
}

fn strings(values: impl IntoIterator<Item = String>) -> ArrayRef {
    Arc::new(values.into_iter().map(Some).collect::<StringArray>())
}

fn times(values: impl IntoIterator<Item = i64>) -> ArrayRef {
    Arc::new(TimestampMillisecondArray::from_iter_values(values).with_timezone("UTC"))
}

/// An identity link: (distinct id, linked id, RFC 3339 time).
#[derive(Clone, Debug)]
pub struct Link {
    pub project: u64,
    pub from: String,
    pub to: String,
    pub at: i64,
}

pub fn link(from: &str, to: &str, at: &str) -> Link {
    Link { project: PROJECT, from: from.into(), to: to.into(), at: ms(at) }
}

pub async fn insert_links(warehouse: &Warehouse, links: &[Link]) {
    let columns = vec![
        ("project_id", Arc::new(UInt64Array::from_iter_values(links.iter().map(|l| l.project))) as ArrayRef),
        ("distinct_id", strings(links.iter().map(|l| l.from.clone()))),
        ("linked_id", strings(links.iter().map(|l| l.to.clone()))),
        ("kind", strings(links.iter().map(|_| "identify".to_string()))),
        ("timestamp", times(links.iter().map(|l| l.at))),
        ("message_id", strings(links.iter().enumerate().map(|(i, l)| format!("link-{i}-{}", l.from)))),
    ];
    warehouse.insert("identity_links", batch(columns)).await.unwrap();
}

/// A person property update: `$set` and `$set_once` pairs.
#[derive(Clone, Debug)]
pub struct Update {
    pub distinct_id: String,
    pub at: i64,
    pub set: Vec<(String, String)>,
    pub set_once: Vec<(String, String)>,
    pub message_id: String,
}

pub fn update(
    distinct_id: &str,
    at: &str,
    set: &[(&str, &str)],
    set_once: &[(&str, &str)],
    message_id: &str,
) -> Update {
    let pairs = |p: &[(&str, &str)]| p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Update {
        distinct_id: distinct_id.into(),
        at: ms(at),
        set: pairs(set),
        set_once: pairs(set_once),
        message_id: message_id.into(),
    }
}

fn map(rows: &[Update], field: fn(&Update) -> &Vec<(String, String)>) -> ArrayRef {
    let names = MapFieldNames { entry: "entries".into(), key: "keys".into(), value: "values".into() };
    let mut builder = MapBuilder::new(Some(names), StringBuilder::new(), StringBuilder::new())
        .with_values_field(Field::new("values", DataType::Utf8, false));
    for row in rows {
        for (k, v) in field(row) {
            builder.keys().append_value(k);
            builder.values().append_value(v);
        }
        builder.append(true).unwrap();
    }
    Arc::new(builder.finish())
}

pub async fn insert_updates(warehouse: &Warehouse, updates: &[Update]) {
    let columns = vec![
        ("project_id", Arc::new(UInt64Array::from(vec![PROJECT; updates.len()])) as ArrayRef),
        ("distinct_id", strings(updates.iter().map(|u| u.distinct_id.clone()))),
        ("timestamp", times(updates.iter().map(|u| u.at))),
        ("set_properties", map(updates, |u| &u.set)),
        ("set_once_properties", map(updates, |u| &u.set_once)),
        ("message_id", strings(updates.iter().map(|u| u.message_id.clone()))),
    ];
    warehouse.insert("person_property_updates", batch(columns)).await.unwrap();
}

/// Parses a query of any kind from JSON (the way the API does).
pub fn parse<T: serde::de::DeserializeOwned>(json: serde_json::Value) -> T {
    serde_json::from_value(json).unwrap()
}
