//! Result batches as JSON rows (objects keyed by column name), for API answers.

use arrow_array::RecordBatch;
use serde_json::{Map, Value};

use crate::error::QueryError;

/// Folds batches into JSON objects, one per row.
pub fn rows(batches: &[RecordBatch]) -> Result<Vec<Map<String, Value>>, QueryError> {
    let mut writer = arrow_json::ArrayWriter::new(Vec::new());
    let refs: Vec<&RecordBatch> = batches.iter().filter(|b| b.num_rows() > 0).collect();
    if refs.is_empty() {
        return Ok(Vec::new());
    }
    writer.write_batches(&refs).map_err(|e| QueryError::Internal(format!("encoding rows: {e}")))?;
    writer.finish().map_err(|e| QueryError::Internal(format!("encoding rows: {e}")))?;
    serde_json::from_slice(&writer.into_inner())
        .map_err(|e| QueryError::Internal(format!("encoding rows: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use arrow_array::{ArrayRef, StringArray, UInt64Array};

    #[test]
    fn rows_keep_column_names_and_values() {
        let batch = RecordBatch::try_from_iter([
            ("n", Arc::new(UInt64Array::from(vec![1u64, 2])) as ArrayRef),
            ("s", Arc::new(StringArray::from(vec!["أ", "b"])) as ArrayRef),
        ])
        .unwrap();
        let folded = rows(&[batch]).unwrap();
        assert_eq!(folded.len(), 2);
        assert_eq!(folded[0]["n"], 1);
        assert_eq!(folded[0]["s"], "أ");
        assert!(rows(&[]).unwrap().is_empty());
    }
}
