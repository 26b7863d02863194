//! Arrow over HTTP: batches are sent as an Arrow IPC stream (`FORMAT ArrowStream`) and
//! results decoded incrementally as their bytes arrive.
//!
//! Results are asked for with ClickHouse strings as Arrow `Binary`
//! (`output_format_arrow_string_as_string = 0`): ClickHouse strings are bytes, and an Arrow
//! `Utf8` array holding invalid UTF-8 is rejected by the IPC reader's validation. Binary
//! columns (nested ones too) are turned into `Utf8` here, invalid sequences replaced by
//! U+FFFD, so callers see the same types as from the embedded engine.

use std::sync::Arc;

use arrow_array::{make_array, Array, ArrayRef, RecordBatch, StringArray};
use arrow_buffer::Buffer;
use arrow_data::ArrayData;
use arrow_ipc::reader::StreamDecoder;
use arrow_ipc::writer::StreamWriter;
use arrow_schema::{DataType, Field, FieldRef, Schema, SchemaRef};

use crate::error::{Result, WarehouseError};

/// One batch as Arrow IPC stream bytes (schema, batch, end-of-stream marker).
pub(crate) fn encode(batch: &RecordBatch) -> Result<Vec<u8>> {
    let mut writer = StreamWriter::try_new(Vec::new(), &batch.schema())?;
    writer.write(batch)?;
    writer.finish()?;
    Ok(writer.into_inner()?)
}

/// Incremental decoding of an Arrow IPC stream that arrives in arbitrary chunks.
pub(crate) struct Decoder {
    decoder: StreamDecoder,
    pending: Buffer,
}

impl Decoder {
    pub(crate) fn new() -> Decoder {
        Decoder { decoder: StreamDecoder::new(), pending: Buffer::from(Vec::<u8>::new()) }
    }

    /// Adds received bytes; call [`Decoder::next_batch`] until it returns `None`.
    pub(crate) fn push(&mut self, bytes: bytes::Bytes) {
        self.pending = Buffer::from(bytes);
    }

    /// The next complete batch in the bytes pushed so far, with strings as `Utf8`.
    pub(crate) fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        while !self.pending.is_empty() {
            if let Some(batch) = self.decoder.decode(&mut self.pending)? {
                return Ok(Some(crate::utf8::repair_batch(binary_to_utf8(batch)?)?));
            }
        }
        Ok(None)
    }

    /// Ends the stream: an error if it stopped mid-message; the schema if one was read.
    pub(crate) fn finish(&mut self) -> Result<Option<SchemaRef>> {
        self.decoder.finish().map_err(|e| {
            WarehouseError::Connection(format!("the result stream was cut off before its end ({e})"))
        })?;
        Ok(self.decoder.schema().map(|s| Arc::new(utf8_schema(&s))))
    }
}

fn utf8_schema(schema: &Schema) -> Schema {
    let fields: Vec<FieldRef> = schema.fields().iter().map(|f| Arc::new(map_field(f, &to_utf8))).collect();
    Schema::new_with_metadata(fields, schema.metadata().clone())
}

/// Binary and LargeBinary become Utf8 and LargeUtf8, at any depth.
fn to_utf8(data_type: &DataType) -> Option<DataType> {
    match data_type {
        DataType::Binary => Some(DataType::Utf8),
        DataType::LargeBinary => Some(DataType::LargeUtf8),
        _ => None,
    }
}

/// Utf8 and LargeUtf8 become Binary and LargeBinary, at any depth.
fn to_binary(data_type: &DataType) -> Option<DataType> {
    match data_type {
        DataType::Utf8 => Some(DataType::Binary),
        DataType::LargeUtf8 => Some(DataType::LargeBinary),
        _ => None,
    }
}

type Leaf = dyn Fn(&DataType) -> Option<DataType>;

fn map_field(field: &Field, leaf: &Leaf) -> Field {
    field.clone().with_data_type(map_type(field.data_type(), leaf))
}

fn map_type(data_type: &DataType, leaf: &Leaf) -> DataType {
    if let Some(mapped) = leaf(data_type) {
        return mapped;
    }
    let child = |f: &FieldRef| Arc::new(map_field(f, leaf));
    match data_type {
        DataType::List(f) => DataType::List(child(f)),
        DataType::LargeList(f) => DataType::LargeList(child(f)),
        DataType::FixedSizeList(f, n) => DataType::FixedSizeList(child(f), *n),
        DataType::Map(f, sorted) => DataType::Map(child(f), *sorted),
        DataType::Struct(fields) => DataType::Struct(fields.iter().map(child).collect()),
        DataType::Dictionary(k, v) => DataType::Dictionary(k.clone(), Box::new(map_type(v, leaf))),
        other => other.clone(),
    }
}

/// Relabels string-like data of `data` per `leaf`, checking (lossily repairing) UTF-8 when
/// bytes become text.
fn map_data(data: ArrayData, leaf: &Leaf) -> Result<ArrayData> {
    let target = map_type(data.data_type(), leaf);
    if &target == data.data_type() {
        return Ok(data);
    }
    if matches!(data.data_type(), DataType::Binary) && target == DataType::Utf8 {
        return Ok(lossy_utf8(&data));
    }
    // Nested types (and a dictionary's values) keep their layout with relabelled children.
    let children =
        data.child_data().iter().cloned().map(|c| map_data(c, leaf)).collect::<Result<Vec<_>>>()?;
    Ok(data.into_builder().data_type(target).child_data(children).build()?)
}

fn lossy_utf8(data: &ArrayData) -> ArrayData {
    let binary = arrow_array::BinaryArray::from(data.clone());
    let strings: StringArray =
        binary.iter().map(|v| v.map(|bytes| String::from_utf8_lossy(bytes).into_owned())).collect();
    strings.into_data()
}

fn map_batch(batch: RecordBatch, leaf: &Leaf) -> Result<RecordBatch> {
    let schema = batch.schema();
    if schema.fields().iter().all(|f| &map_type(f.data_type(), leaf) == f.data_type()) {
        return Ok(batch);
    }
    let fields: Vec<FieldRef> = schema.fields().iter().map(|f| Arc::new(map_field(f, leaf))).collect();
    let columns = batch
        .columns()
        .iter()
        .map(|c| map_data(c.to_data(), leaf).map(make_array))
        .collect::<Result<Vec<ArrayRef>>>()?;
    let schema = Schema::new_with_metadata(fields, schema.metadata().clone());
    Ok(RecordBatch::try_new(Arc::new(schema), columns)?)
}

/// Binary columns (at any depth) as Utf8, invalid UTF-8 replaced by U+FFFD.
pub fn binary_to_utf8(batch: RecordBatch) -> Result<RecordBatch> {
    map_batch(batch, &to_utf8)
}

/// Utf8 columns (at any depth) as Binary: what a ClickHouse server sends when asked for
/// `output_format_arrow_string_as_string = 0`.
pub fn utf8_to_binary(batch: RecordBatch) -> Result<RecordBatch> {
    map_batch(batch, &to_binary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::builder::{ListBuilder, MapBuilder, StringBuilder};
    use arrow_array::cast::AsArray;
    use arrow_array::{BinaryArray, UInt64Array};

    fn nested_batch() -> RecordBatch {
        let mut map = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
        map.keys().append_value("plan");
        map.values().append_value("pro");
        map.append(true).unwrap();
        let mut list = ListBuilder::new(StringBuilder::new());
        list.values().append_value("a");
        list.values().append_value("بيت");
        list.append(true);
        RecordBatch::try_from_iter([
            ("n", Arc::new(UInt64Array::from(vec![1u64])) as ArrayRef),
            ("s", Arc::new(StringArray::from(vec!["سلام"])) as ArrayRef),
            ("m", Arc::new(map.finish()) as ArrayRef),
            ("l", Arc::new(list.finish()) as ArrayRef),
        ])
        .unwrap()
    }

    #[test]
    fn strings_survive_the_binary_round_trip_at_any_depth() {
        let batch = nested_batch();
        let binary = utf8_to_binary(batch.clone()).unwrap();
        assert_eq!(binary.schema().field(1).data_type(), &DataType::Binary);
        assert!(format!("{:?}", binary.schema().field(2).data_type()).contains("Binary"));
        let back = binary_to_utf8(binary).unwrap();
        assert_eq!(back, batch);
    }

    #[test]
    fn invalid_bytes_become_replacement_characters() {
        let bytes = BinaryArray::from(vec![b"ok".as_slice(), &[0xff, 0xfe, b'A']]);
        let batch = RecordBatch::try_from_iter([("s", Arc::new(bytes) as ArrayRef)]).unwrap();
        let text = binary_to_utf8(batch).unwrap();
        let s = text.column(0).as_string::<i32>();
        assert_eq!((s.value(0), s.value(1)), ("ok", "\u{fffd}\u{fffd}A"));
    }

    #[test]
    fn decoding_works_whatever_the_chunk_boundaries() {
        let batch = nested_batch();
        let wire = encode(&utf8_to_binary(batch.clone()).unwrap()).unwrap();
        for chunk in [1, 7, 64, wire.len()] {
            let mut decoder = Decoder::new();
            let mut out = Vec::new();
            for piece in wire.chunks(chunk) {
                decoder.push(bytes::Bytes::copy_from_slice(piece));
                while let Some(b) = decoder.next_batch().unwrap() {
                    out.push(b);
                }
            }
            assert!(decoder.finish().unwrap().is_some());
            assert_eq!(out, vec![batch.clone()], "chunk {chunk}");
        }
        let mut cut = Decoder::new();
        cut.push(bytes::Bytes::copy_from_slice(&wire[..wire.len() / 2]));
        while cut.next_batch().unwrap().is_some() {}
        assert!(cut.finish().unwrap_err().to_string().contains("cut off"));
    }
}
