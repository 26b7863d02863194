//! Records of one batch turned into one Arrow batch per warehouse table. Columns are named
//! as in the migrations (the warehouse's insert matches by name).

use std::sync::Arc;

use arrow_array::builder::{MapBuilder, MapFieldNames, StringBuilder};
use arrow_array::{ArrayRef, Int32Array, RecordBatch, StringArray, TimestampMillisecondArray, UInt64Array};
use arrow_schema::{ArrowError, DataType, Field};
use numu_schemas::events_to_batch;

use crate::record::{DeadLetter, IdentityLink, PersonUpdate, Record};

/// The tables a batch may write, in insert order.
pub const TABLES: [&str; 4] = ["events", "identity_links", "person_property_updates", "dead_letters"];

/// One batch's rows, per table (`None` when the batch has no row for it), in [`TABLES`] order.
#[derive(Clone, Debug, Default)]
pub struct Tables {
    pub batches: [Option<RecordBatch>; 4],
}

impl Tables {
    /// Splits `records` by kind and builds each table's batch.
    pub fn build(records: Vec<Record>) -> Result<Tables, ArrowError> {
        // Events stay boxed: an `EventRow` is ~1 KB, and unboxing 50k of them into one
        // vector copied 50 MB per batch.
        let mut events = Vec::with_capacity(records.len());
        let (mut links, mut updates, mut dead) = (Vec::new(), Vec::new(), Vec::new());
        for record in records {
            match record {
                Record::Event(row) => events.push(row),
                Record::Link(link) => links.push(link),
                Record::PersonUpdate(update) => updates.push(update),
                Record::DeadLetter(letter) => dead.push(letter),
            }
        }
        Ok(Tables {
            batches: [
                nonempty(&events, events_to_batch)?,
                nonempty(&links, links_batch)?,
                nonempty(&updates, updates_batch)?,
                nonempty(&dead, dead_letters_batch)?,
            ],
        })
    }

    pub fn rows(&self) -> usize {
        self.batches.iter().flatten().map(RecordBatch::num_rows).sum()
    }
}

fn nonempty<T>(
    rows: &[T],
    build: impl Fn(&[T]) -> Result<RecordBatch, ArrowError>,
) -> Result<Option<RecordBatch>, ArrowError> {
    if rows.is_empty() {
        Ok(None)
    } else {
        build(rows).map(Some)
    }
}

fn strings<T>(rows: &[T], field: impl Fn(&T) -> &str) -> ArrayRef {
    Arc::new(rows.iter().map(|r| Some(field(r))).collect::<StringArray>())
}

fn u64s<T>(rows: &[T], field: impl Fn(&T) -> u64) -> ArrayRef {
    Arc::new(UInt64Array::from_iter_values(rows.iter().map(field)))
}

fn timestamps<T>(rows: &[T], field: impl Fn(&T) -> i64) -> ArrayRef {
    Arc::new(TimestampMillisecondArray::from_iter_values(rows.iter().map(field)).with_timezone("UTC"))
}

/// `Map(String, String)` with the entry names the events batch uses.
fn map<T>(rows: &[T], field: impl Fn(&T) -> &[(String, String)]) -> Result<ArrayRef, ArrowError> {
    let names = MapFieldNames { entry: "entries".into(), key: "keys".into(), value: "values".into() };
    let mut builder = MapBuilder::new(Some(names), StringBuilder::new(), StringBuilder::new())
        .with_values_field(Field::new("values", DataType::Utf8, false));
    for row in rows {
        for (key, value) in field(row) {
            builder.keys().append_value(key);
            builder.values().append_value(value);
        }
        builder.append(true)?;
    }
    Ok(Arc::new(builder.finish()))
}

/// A batch whose columns are all non-nullable, named as given.
fn batch(columns: Vec<(&str, ArrayRef)>) -> Result<RecordBatch, ArrowError> {
    let fields: Vec<Field> =
        columns.iter().map(|(name, array)| Field::new(*name, array.data_type().clone(), false)).collect();
    let schema = Arc::new(arrow_schema::Schema::new(fields));
    RecordBatch::try_new(schema, columns.into_iter().map(|(_, a)| a).collect())
}

pub fn links_batch(rows: &[IdentityLink]) -> Result<RecordBatch, ArrowError> {
    batch(vec![
        ("project_id", u64s(rows, |r| r.project_id)),
        ("distinct_id", strings(rows, |r| &r.distinct_id)),
        ("linked_id", strings(rows, |r| &r.linked_id)),
        ("kind", strings(rows, |r| &r.kind)),
        ("timestamp", timestamps(rows, |r| r.timestamp)),
        ("message_id", strings(rows, |r| &r.message_id)),
    ])
}

pub fn updates_batch(rows: &[PersonUpdate]) -> Result<RecordBatch, ArrowError> {
    batch(vec![
        ("project_id", u64s(rows, |r| r.project_id)),
        ("distinct_id", strings(rows, |r| &r.distinct_id)),
        ("timestamp", timestamps(rows, |r| r.timestamp)),
        ("set_properties", map(rows, |r| &r.set_properties)?),
        ("set_once_properties", map(rows, |r| &r.set_once_properties)?),
        ("message_id", strings(rows, |r| &r.message_id)),
    ])
}

/// The raw payload is stored as text: invalid UTF-8 is replaced (U+FFFD) because strings read
/// back from the warehouse must be valid UTF-8 (see notes/chdb-embedding.md).
pub fn dead_letters_batch(rows: &[DeadLetter]) -> Result<RecordBatch, ArrowError> {
    let raw: StringArray = rows.iter().map(|r| Some(String::from_utf8_lossy(&r.raw))).collect();
    batch(vec![
        ("project_id", u64s(rows, |r| r.project_id)),
        ("received_at", timestamps(rows, |r| r.received_at)),
        ("endpoint", strings(rows, |r| &r.endpoint)),
        ("reason", strings(rows, |r| &r.reason)),
        ("detail", strings(rows, |r| &r.detail)),
        ("event_index", Arc::new(Int32Array::from_iter_values(rows.iter().map(|r| r.event_index)))),
        ("raw", Arc::new(raw)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_split_into_their_tables() {
        let records = vec![
            Record::Event(Box::default()),
            Record::Link(IdentityLink::default()),
            Record::Event(Box::default()),
            Record::DeadLetter(DeadLetter { raw: vec![0xff, b'a'], ..DeadLetter::default() }),
        ];
        let tables = Tables::build(records).unwrap();
        let rows: Vec<usize> =
            tables.batches.iter().map(|b| b.as_ref().map_or(0, |b| b.num_rows())).collect();
        assert_eq!(rows, vec![2, 1, 0, 1]);
        assert_eq!(tables.rows(), 4);
    }
}
