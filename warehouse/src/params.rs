//! Bound parameters as a one-row Arrow batch, the form ADBC binds to `?` placeholders.

use std::sync::Arc;

use arrow_array::{ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray, UInt64Array};
use arrow_schema::{Field, Schema};

use crate::error::Result;
use crate::sql::Value;

pub(crate) fn params_batch(values: &[Value]) -> Result<RecordBatch> {
    let mut fields = Vec::with_capacity(values.len());
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(values.len());
    for (i, value) in values.iter().enumerate() {
        let column: ArrayRef = match value {
            Value::String(s) => Arc::new(StringArray::from(vec![s.as_str()])),
            Value::Int64(v) | Value::TimestampMs(v) => Arc::new(Int64Array::from(vec![*v])),
            Value::UInt64(v) => Arc::new(UInt64Array::from(vec![*v])),
            Value::Float64(v) => Arc::new(Float64Array::from(vec![*v])),
            Value::Bool(v) => Arc::new(BooleanArray::from(vec![*v])),
        };
        fields.push(Field::new(format!("p{i}"), column.data_type().clone(), false));
        columns.push(column);
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?)
}
