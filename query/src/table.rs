//! Reading result columns by name, whatever integer or string type the engine chose
//! (counts arrive as `UInt64`, `LowCardinality` as `Utf8`, flags as `UInt8` or `Bool`).

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::DataType;

use crate::error::QueryError;

fn columns(batches: &[RecordBatch], name: &str, to: &DataType) -> Result<Vec<ArrayRef>, QueryError> {
    batches
        .iter()
        .filter(|b| b.num_rows() > 0)
        .map(|batch| {
            let column = batch
                .column_by_name(name)
                .ok_or_else(|| QueryError::Internal(format!("result has no column {name}")))?;
            arrow_cast::cast(column, to).map_err(|e| QueryError::Internal(format!("column {name}: {e}")))
        })
        .collect()
}

/// Total rows of `batches`.
pub fn row_count(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
}

/// A text column (NULL as "").
pub fn strings(batches: &[RecordBatch], name: &str) -> Result<Vec<String>, QueryError> {
    let mut out = Vec::new();
    for array in columns(batches, name, &DataType::Utf8)? {
        let array = array.as_string::<i32>();
        out.extend((0..array.len()).map(|i| {
            if array.is_null(i) {
                String::new()
            } else {
                array.value(i).to_string()
            }
        }));
    }
    Ok(out)
}

/// A numeric column as `f64` (NULL and NaN as `None`).
pub fn floats(batches: &[RecordBatch], name: &str) -> Result<Vec<Option<f64>>, QueryError> {
    let mut out = Vec::new();
    for array in columns(batches, name, &DataType::Float64)? {
        let array = array.as_primitive::<Float64Type>();
        out.extend(
            (0..array.len()).map(|i| Some(array.value(i)).filter(|v| !array.is_null(i) && v.is_finite())),
        );
    }
    Ok(out)
}

/// An integer column (NULL as 0); flags read as 0 / 1.
pub fn ints(batches: &[RecordBatch], name: &str) -> Result<Vec<i64>, QueryError> {
    let mut out = Vec::new();
    let first = batches.iter().find(|b| b.num_rows() > 0).and_then(|b| b.column_by_name(name).cloned());
    let via = if first.is_some_and(|c| c.data_type() == &DataType::Boolean) {
        DataType::UInt8
    } else {
        DataType::Int64
    };
    for array in columns(batches, name, &via)? {
        let array =
            arrow_cast::cast(&array, &DataType::Int64).map_err(|e| QueryError::Internal(e.to_string()))?;
        let array = array.as_primitive::<Int64Type>();
        out.extend((0..array.len()).map(|i| if array.is_null(i) { 0 } else { array.value(i) }));
    }
    Ok(out)
}

/// An `Array(String)` column.
pub fn string_lists(batches: &[RecordBatch], name: &str) -> Result<Vec<Vec<String>>, QueryError> {
    let to = DataType::List(std::sync::Arc::new(arrow_schema::Field::new("item", DataType::Utf8, true)));
    let mut out = Vec::new();
    for array in columns(batches, name, &to)? {
        let lists = array.as_list::<i32>();
        for i in 0..lists.len() {
            let values = lists.value(i);
            let values = values.as_string::<i32>();
            out.push(values.iter().map(|v| v.unwrap_or_default().to_string()).collect());
        }
    }
    Ok(out)
}

/// A `Map(String, String)` column as key/value pairs in stored order.
pub fn string_maps(batches: &[RecordBatch], name: &str) -> Result<Vec<Vec<(String, String)>>, QueryError> {
    let mut out = Vec::new();
    for batch in batches.iter().filter(|b| b.num_rows() > 0) {
        let column =
            batch.column_by_name(name).ok_or_else(|| QueryError::Internal(format!("no column {name}")))?;
        let DataType::Map(_, _) = column.data_type() else {
            return Err(QueryError::Internal(format!("column {name} is not a map")));
        };
        let maps = column.as_map();
        for i in 0..maps.len() {
            let entries = maps.value(i);
            let cast = |c: &ArrayRef| {
                arrow_cast::cast(c, &DataType::Utf8).map_err(|e| QueryError::Internal(e.to_string()))
            };
            let (keys, values) = (cast(entries.column(0))?, cast(entries.column(1))?);
            let (keys, values) = (keys.as_string::<i32>(), values.as_string::<i32>());
            out.push(
                (0..keys.len()).map(|j| (keys.value(j).to_string(), values.value(j).to_string())).collect(),
            );
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use arrow_array::{BooleanArray, Float64Array, StringArray, UInt64Array};

    #[test]
    fn columns_read_across_types() {
        let batch = RecordBatch::try_from_iter([
            ("n", Arc::new(UInt64Array::from(vec![1u64, 2])) as ArrayRef),
            ("f", Arc::new(Float64Array::from(vec![Some(1.5), None])) as ArrayRef),
            ("b", Arc::new(BooleanArray::from(vec![true, false])) as ArrayRef),
            ("s", Arc::new(StringArray::from(vec!["أ", "b"])) as ArrayRef),
        ])
        .unwrap();
        let batches = [batch];
        assert_eq!(ints(&batches, "n").unwrap(), vec![1, 2]);
        assert_eq!(ints(&batches, "b").unwrap(), vec![1, 0]);
        assert_eq!(floats(&batches, "f").unwrap(), vec![Some(1.5), None]);
        assert_eq!(floats(&batches, "n").unwrap(), vec![Some(1.0), Some(2.0)]);
        assert_eq!(strings(&batches, "s").unwrap(), vec!["أ", "b"]);
        assert!(strings(&batches, "missing").is_err());
        assert_eq!(row_count(&batches), 2);
    }
}
