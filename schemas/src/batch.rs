//! One stored event as a Rust value, and Arrow batches of them built column by column in
//! [`crate::EVENT_COLUMNS`] order (the collector's batcher and tests both use this).

#[cfg(feature = "arrow")]
use std::borrow::Borrow;
#[cfg(feature = "arrow")]
use std::sync::Arc;

#[cfg(feature = "arrow")]
use arrow_array::builder::{MapBuilder, MapFieldNames, StringBuilder};
#[cfg(feature = "arrow")]
use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, RecordBatch, TimestampMillisecondArray, UInt16Array, UInt64Array,
};
#[cfg(feature = "arrow")]
use arrow_schema::{ArrowError, DataType, Field};

#[cfg(feature = "arrow")]
use crate::columns::{event_batch_schema, EVENT_COLUMNS};

/// A row of the `events` table. Field names equal column names.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct EventRow {
    pub project_id: u64,
    pub timestamp: i64,
    pub event: String,
    pub event_type: String,
    pub message_id: String,
    pub distinct_id: String,
    pub anonymous_id: String,
    pub user_id: String,
    pub session_id: String,
    pub url: String,
    pub host: String,
    pub path: String,
    pub title: String,
    pub referrer: String,
    pub referrer_host: String,
    pub referrer_source: String,
    pub channel: String,
    pub utm_source: String,
    pub utm_medium: String,
    pub utm_campaign: String,
    pub utm_term: String,
    pub utm_content: String,
    pub click_id_type: String,
    pub click_id: String,
    pub device_type: String,
    pub browser: String,
    pub browser_version: String,
    pub os: String,
    pub os_version: String,
    pub country: String,
    pub region: String,
    pub city: String,
    pub locale: String,
    pub screen_width: u16,
    pub screen_height: u16,
    pub ip: String,
    pub library: String,
    pub is_bot: bool,
    pub revenue: f64,
    /// Sorted by key so equal rows compare equal.
    pub properties: Vec<(String, String)>,
    pub received_at: i64,
}

#[cfg(feature = "arrow")]
fn timestamps<R: Borrow<EventRow>>(rows: &[R], field: impl Fn(&EventRow) -> i64) -> ArrayRef {
    let values = rows.iter().map(|r| field(r.borrow()));
    Arc::new(TimestampMillisecondArray::from_iter_values(values).with_timezone("UTC"))
}

#[cfg(feature = "arrow")]
fn properties<R: Borrow<EventRow>>(rows: &[R]) -> Result<ArrayRef, ArrowError> {
    let names = MapFieldNames { entry: "entries".into(), key: "keys".into(), value: "values".into() };
    let (mut entries, mut key_bytes, mut value_bytes) = (0, 0, 0);
    for (key, value) in rows.iter().flat_map(|r| &r.borrow().properties) {
        (entries, key_bytes, value_bytes) = (entries + 1, key_bytes + key.len(), value_bytes + value.len());
    }
    let keys = StringBuilder::with_capacity(entries, key_bytes);
    let values = StringBuilder::with_capacity(entries, value_bytes);
    let mut builder = MapBuilder::with_capacity(Some(names), keys, values, rows.len())
        .with_values_field(Field::new("values", DataType::Utf8, false));
    for row in rows {
        for (key, value) in &row.borrow().properties {
            builder.keys().append_value(key);
            builder.values().append_value(value);
        }
        builder.append(true)?;
    }
    Ok(Arc::new(builder.finish()))
}

#[cfg(feature = "arrow")]
type TextField = fn(&EventRow) -> &str;

#[cfg(feature = "arrow")]
macro_rules! text_fields {
    ($($f:ident),*) => {
        /// The string columns, by name, with the field each is read from.
        const TEXT_FIELDS: &[(&str, TextField)] = &[$((stringify!($f), |r: &EventRow| r.$f.as_str())),*];
    };
}

#[cfg(feature = "arrow")]
text_fields!(
    event,
    event_type,
    message_id,
    distinct_id,
    anonymous_id,
    user_id,
    session_id,
    url,
    host,
    path,
    title,
    referrer,
    referrer_host,
    referrer_source,
    channel,
    utm_source,
    utm_medium,
    utm_campaign,
    utm_term,
    utm_content,
    click_id_type,
    click_id,
    device_type,
    browser,
    browser_version,
    os,
    os_version,
    country,
    region,
    city,
    locale,
    ip,
    library
);

#[cfg(feature = "arrow")]
/// Every string column, in [`TEXT_FIELDS`] order, built row by row: two passes over the rows
/// (sizes, then values) instead of two per column. The collector's rows are boxed and
/// scattered on the heap; visiting each once per column missed the cache on every visit.
/// Buffers are sized exactly up front: growing by doubling copied every column's bytes
/// about twice and, for 10k-row batches, kept faulting in fresh pages.
fn text_columns<R: Borrow<EventRow>>(rows: &[R]) -> Vec<ArrayRef> {
    let mut bytes = [0usize; TEXT_FIELDS.len()];
    for row in rows {
        let row = row.borrow();
        for (total, (_, field)) in bytes.iter_mut().zip(TEXT_FIELDS) {
            *total += field(row).len();
        }
    }
    let mut builders: Vec<StringBuilder> =
        bytes.iter().map(|&total| StringBuilder::with_capacity(rows.len(), total)).collect();
    for row in rows {
        let row = row.borrow();
        for (builder, (_, field)) in builders.iter_mut().zip(TEXT_FIELDS) {
            builder.append_value(field(row));
        }
    }
    builders.into_iter().map(|mut builder| Arc::new(builder.finish()) as ArrayRef).collect()
}

#[cfg(feature = "arrow")]
/// The column named `name` that is not a string column, built from `rows`.
fn other_column<R: Borrow<EventRow>>(rows: &[R], name: &str) -> Result<ArrayRef, ArrowError> {
    Ok(match name {
        "project_id" => Arc::new(UInt64Array::from_iter_values(rows.iter().map(|r| r.borrow().project_id))),
        "timestamp" => timestamps(rows, |r| r.timestamp),
        "received_at" => timestamps(rows, |r| r.received_at),
        "screen_width" => {
            Arc::new(UInt16Array::from_iter_values(rows.iter().map(|r| r.borrow().screen_width)))
        }
        "screen_height" => {
            Arc::new(UInt16Array::from_iter_values(rows.iter().map(|r| r.borrow().screen_height)))
        }
        "is_bot" => Arc::new(rows.iter().map(|r| Some(r.borrow().is_bot)).collect::<BooleanArray>()),
        "revenue" => Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.borrow().revenue))),
        "properties" => properties(rows)?,
        other => return Err(ArrowError::SchemaError(format!("EventRow has no column {other}"))),
    })
}

#[cfg(feature = "arrow")]
/// Builds an event batch in table column order, from rows or references to rows (the
/// collector keeps its rows boxed and does not move them into one big vector).
pub fn events_to_batch<R: Borrow<EventRow>>(rows: &[R]) -> Result<RecordBatch, ArrowError> {
    let mut texts: Vec<Option<ArrayRef>> = text_columns(rows).into_iter().map(Some).collect();
    let columns = EVENT_COLUMNS
        .iter()
        .map(|column| match TEXT_FIELDS.iter().position(|(name, _)| *name == column.name) {
            Some(at) => texts[at]
                .take()
                .ok_or_else(|| ArrowError::SchemaError(format!("column {} listed twice", column.name))),
            None => other_column(rows, column.name),
        })
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(event_batch_schema(), columns)
}

#[cfg(all(test, feature = "arrow"))]
mod tests {
    use super::*;

    #[test]
    fn every_column_is_built_with_the_schema_type() {
        let row = EventRow {
            project_id: 3,
            event: "signup".into(),
            properties: vec![("plan".into(), "pro".into())],
            ..EventRow::default()
        };
        let batch = events_to_batch(&[row.clone(), row]).unwrap();
        assert_eq!(batch.num_columns(), EVENT_COLUMNS.len());
        assert_eq!(batch.num_rows(), 2);
        assert_eq!(batch.schema(), event_batch_schema());
    }

    #[test]
    fn each_string_column_holds_its_own_field() {
        use arrow_array::cast::AsArray;
        let fields: serde_json::Map<String, serde_json::Value> =
            TEXT_FIELDS.iter().map(|(name, _)| (name.to_string(), format!("v-{name}").into())).collect();
        let row: EventRow = serde_json::from_value(serde_json::Value::Object(fields)).unwrap();
        let other = EventRow { event: "other".into(), ..row.clone() };
        let batch = events_to_batch(&[row, other]).unwrap();
        for (name, _) in TEXT_FIELDS {
            let column = batch.column_by_name(name).unwrap().as_string::<i32>();
            assert_eq!(column.value(0), format!("v-{name}"), "column {name}");
        }
        let events = batch.column_by_name("event").unwrap().as_string::<i32>();
        assert_eq!((events.value(0), events.value(1)), ("v-event", "other"));
        assert_eq!(TEXT_FIELDS.len() + 8, EVENT_COLUMNS.len(), "every column is built once");
    }
}
