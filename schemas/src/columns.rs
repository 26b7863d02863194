//! The `events` table's columns, once: the migration is checked against this list and the
//! Arrow schema of an ingest batch is generated from it.

#[cfg(feature = "arrow")]
use std::sync::Arc;

#[cfg(feature = "arrow")]
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};

/// The storage type of one column, named by what ClickHouse reports in `system.columns`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    String,
    LowCardinalityString,
    /// `DateTime64(3, 'UTC')`: milliseconds since the epoch.
    TimestampMs,
    UInt16,
    UInt64,
    Float64,
    Bool,
    /// `Map(String, String)`: free-form properties; non-string JSON values are stored as JSON text.
    MapStringString,
}

impl ColumnType {
    /// The type name exactly as ClickHouse prints it in `system.columns.type`.
    pub fn clickhouse_name(self) -> &'static str {
        match self {
            ColumnType::String => "String",
            ColumnType::LowCardinalityString => "LowCardinality(String)",
            ColumnType::TimestampMs => "DateTime64(3, 'UTC')",
            ColumnType::UInt16 => "UInt16",
            ColumnType::UInt64 => "UInt64",
            ColumnType::Float64 => "Float64",
            ColumnType::Bool => "Bool",
            ColumnType::MapStringString => "Map(String, String)",
        }
    }

    #[cfg(feature = "arrow")]
    /// The Arrow type an ingest batch uses for this column.
    pub fn arrow_type(self) -> DataType {
        match self {
            ColumnType::String | ColumnType::LowCardinalityString => DataType::Utf8,
            ColumnType::TimestampMs => DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            ColumnType::UInt16 => DataType::UInt16,
            ColumnType::UInt64 => DataType::UInt64,
            ColumnType::Float64 => DataType::Float64,
            ColumnType::Bool => DataType::Boolean,
            ColumnType::MapStringString => map_string_string(),
        }
    }
}

#[cfg(feature = "arrow")]
/// Arrow's `Map<Utf8, Utf8>` with the conventional entry names.
pub fn map_string_string() -> DataType {
    let entries = Fields::from(vec![
        Field::new("keys", DataType::Utf8, false),
        Field::new("values", DataType::Utf8, false),
    ]);
    DataType::Map(Arc::new(Field::new("entries", DataType::Struct(entries), false)), false)
}

/// One column of a warehouse table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub kind: ColumnType,
}

const fn col(name: &'static str, kind: ColumnType) -> Column {
    Column { name, kind }
}

use ColumnType::{
    Bool, Float64, LowCardinalityString as Lc, MapStringString, String as Str, TimestampMs, UInt16, UInt64,
};

/// The `events` table in column order (ADBC append ingest is positional, so order matters).
pub const EVENT_COLUMNS: &[Column] = &[
    col("project_id", UInt64),
    col("timestamp", TimestampMs),
    col("event", Lc),
    col("event_type", Lc),
    col("message_id", Str),
    col("distinct_id", Str),
    col("anonymous_id", Str),
    col("user_id", Str),
    col("session_id", Str),
    col("url", Str),
    col("host", Str),
    col("path", Str),
    col("title", Str),
    col("referrer", Str),
    col("referrer_host", Str),
    col("referrer_source", Lc),
    col("channel", Lc),
    col("utm_source", Str),
    col("utm_medium", Str),
    col("utm_campaign", Str),
    col("utm_term", Str),
    col("utm_content", Str),
    col("click_id_type", Lc),
    col("click_id", Str),
    col("device_type", Lc),
    col("browser", Lc),
    col("browser_version", Str),
    col("os", Lc),
    col("os_version", Str),
    col("country", Lc),
    col("region", Str),
    col("city", Str),
    col("locale", Lc),
    col("screen_width", UInt16),
    col("screen_height", UInt16),
    col("ip", Str),
    col("library", Lc),
    col("is_bot", Bool),
    col("revenue", Float64),
    col("properties", MapStringString),
    col("received_at", TimestampMs),
];

#[cfg(feature = "arrow")]
/// The Arrow schema of an event batch, generated from [`EVENT_COLUMNS`].
pub fn event_batch_schema() -> SchemaRef {
    schema_of(EVENT_COLUMNS)
}

#[cfg(feature = "arrow")]
/// The Arrow schema for any column list (all columns non-nullable, as in the tables).
pub fn schema_of(columns: &[Column]) -> SchemaRef {
    let fields: Vec<Field> = columns.iter().map(|c| Field::new(c.name, c.kind.arrow_type(), false)).collect();
    Arc::new(Schema::new(fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "arrow")]
    #[test]
    fn column_names_are_unique_and_schema_matches_list() {
        let mut names: Vec<_> = EVENT_COLUMNS.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), EVENT_COLUMNS.len());
        let schema = event_batch_schema();
        for (field, column) in schema.fields().iter().zip(EVENT_COLUMNS) {
            assert_eq!(field.name(), column.name);
            assert_eq!(field.data_type(), &column.kind.arrow_type());
        }
    }

    #[test]
    fn migration_declares_every_column_in_order() {
        // The DDL is hand-written SQL; this guards the order the positional ingest relies on.
        let ddl = crate::migrations::MIGRATIONS.iter().find(|m| m.name == "events").unwrap().sql;
        let mut last = 0;
        for column in EVENT_COLUMNS {
            let needle = format!("\n    {} {}", column.name, column.kind.clickhouse_name());
            let found = ddl[last..].find(&needle);
            assert!(found.is_some(), "events DDL lacks `{needle}` after offset {last}");
            last += found.unwrap() + needle.len();
        }
    }
}
