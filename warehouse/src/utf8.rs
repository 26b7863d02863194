//! Repairs invalid UTF-8 in string results. ClickHouse strings are bytes and the engine's
//! Arrow export does not check them, while arrow-rs assumes `Utf8` arrays are valid: any
//! invalid value is replaced lossily (U+FFFD) before a batch leaves the warehouse crate.

use arrow_array::{make_array, Array, ArrayRef, RecordBatch, StringArray};
use arrow_data::ArrayData;
use arrow_schema::DataType;

use crate::error::Result;

/// Returns the batch unchanged when all strings are valid, else a repaired copy.
pub fn repair_batch(batch: RecordBatch) -> Result<RecordBatch> {
    if batch.columns().iter().all(|c| data_is_valid(&c.to_data())) {
        return Ok(batch);
    }
    let columns: Vec<ArrayRef> = batch.columns().iter().map(|c| repair_array(c.as_ref())).collect();
    Ok(RecordBatch::try_new(batch.schema(), columns)?)
}

fn data_is_valid(data: &ArrayData) -> bool {
    let own = match data.data_type() {
        DataType::Utf8 => utf8_offsets_valid::<i32>(data),
        DataType::LargeUtf8 => utf8_offsets_valid::<i64>(data),
        _ => true,
    };
    own && data.child_data().iter().all(data_is_valid)
}

fn utf8_offsets_valid<O: arrow_array::OffsetSizeTrait>(data: &ArrayData) -> bool {
    if data.buffers().len() < 2 || data.is_empty() {
        return true;
    }
    let offsets = data.buffers()[0].typed_data::<O>();
    let values = data.buffers()[1].as_slice();
    let start = offsets[data.offset()].as_usize();
    let end = offsets[data.offset() + data.len()].as_usize();
    // Whole-range check first: each value is valid when the whole range is valid and every
    // offset falls on a character boundary.
    let Ok(text) = std::str::from_utf8(&values[start..end]) else { return false };
    offsets[data.offset()..=data.offset() + data.len()]
        .iter()
        .all(|o| text.is_char_boundary(o.as_usize() - start))
}

fn repair_array(array: &dyn Array) -> ArrayRef {
    let data = array.to_data();
    if data_is_valid(&data) {
        return make_array(data);
    }
    make_array(repair_data(data))
}

fn repair_data(data: ArrayData) -> ArrayData {
    match data.data_type() {
        DataType::Utf8 => lossy_strings(&data),
        _ if data.child_data().is_empty() => data,
        _ => {
            let children: Vec<ArrayData> = data.child_data().iter().cloned().map(repair_data).collect();
            let builder = data.into_builder().child_data(children);
            // Same layout with repaired children: building cannot fail on valid input.
            builder.build().unwrap_or_else(|_| ArrayData::new_empty(&DataType::Null))
        }
    }
}

fn lossy_strings(data: &ArrayData) -> ArrayData {
    let offsets = data.buffers()[0].typed_data::<i32>();
    let values = data.buffers()[1].as_slice();
    let strings: StringArray = (0..data.len())
        .map(|i| {
            if data.is_null(i) {
                return None;
            }
            let at = data.offset() + i;
            let bytes = &values[offsets[at] as usize..offsets[at + 1] as usize];
            Some(String::from_utf8_lossy(bytes).into_owned())
        })
        .collect();
    strings.into_data()
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{StringArray, StructArray};
    use arrow_buffer::{Buffer, OffsetBuffer, ScalarBuffer};
    use arrow_schema::{Field, Schema};
    use std::sync::Arc;

    fn invalid_string_array() -> StringArray {
        // "ok", "\xff\xfe", "سلام" built without validation, as the engine's FFI export does.
        let values: Vec<u8> = [b"ok".as_slice(), &[0xff, 0xfe], "سلام".as_bytes()].concat();
        let offsets = OffsetBuffer::new(ScalarBuffer::from(vec![0i32, 2, 4, 4 + 8]));
        #[allow(unsafe_code)]
        // SAFETY: deliberately invalid UTF-8, the exact input this module must repair.
        unsafe {
            StringArray::new_unchecked(offsets, Buffer::from_vec(values), None)
        }
    }

    #[test]
    fn repairs_top_level_and_nested_strings() {
        let strings = Arc::new(invalid_string_array()) as ArrayRef;
        let nested = Arc::new(StructArray::from(vec![(
            Arc::new(Field::new("s", DataType::Utf8, false)),
            strings.clone(),
        )])) as ArrayRef;
        let schema = Schema::new(vec![
            Field::new("s", DataType::Utf8, false),
            Field::new("n", nested.data_type().clone(), false),
        ]);
        let batch = RecordBatch::try_new(Arc::new(schema), vec![strings, nested]).unwrap();
        let repaired = repair_batch(batch).unwrap();
        let s = repaired.column(0).as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!(s.value(0), "ok");
        assert_eq!(s.value(1), "\u{fffd}\u{fffd}");
        assert_eq!(s.value(2), "سلام");
        let n = repaired.column(1).as_any().downcast_ref::<StructArray>().unwrap();
        let inner = n.column(0).as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!(inner.value(1), "\u{fffd}\u{fffd}");
        assert!(inner.to_data().validate_full().is_ok());
    }

    #[test]
    fn valid_batches_pass_untouched() {
        let strings = Arc::new(StringArray::from(vec!["a", "بيت", ""])) as ArrayRef;
        let schema = Schema::new(vec![Field::new("s", DataType::Utf8, false)]);
        let batch = RecordBatch::try_new(Arc::new(schema), vec![strings]).unwrap();
        let repaired = repair_batch(batch.clone()).unwrap();
        assert_eq!(repaired, batch);
    }
}
