//! The raw event listing (`GET /api/projects/{id}/events`): what landed, with filters and
//! counts. Tests and tools assert ingestion through it while the server holds the warehouse.

use numu_warehouse::{Sql, Value};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use crate::error::QueryError;

/// Most rows one listing returns.
pub const MAX_LIMIT: u64 = 1000;

/// Filters of the listing; all optional.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    pub event: Option<String>,
    pub distinct_id: Option<String>,
    pub message_id: Option<String>,
    /// Inclusive lower bound, epoch milliseconds.
    pub from_ms: Option<i64>,
    /// Exclusive upper bound, epoch milliseconds.
    pub to_ms: Option<i64>,
    /// Rows to return (default 100, at most 1000).
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    /// Only counts, no rows.
    #[serde(default)]
    pub count_only: bool,
    /// Include bot traffic (default: yes — this is a raw listing).
    pub include_bots: Option<bool>,
}

impl EventsQuery {
    /// Checks ranges and limits, naming the offending field.
    pub fn validate(&self) -> Result<(), QueryError> {
        if let (Some(from), Some(to)) = (self.from_ms, self.to_ms) {
            if from >= to {
                return Err(QueryError::bad("from_ms", "must be before to_ms"));
            }
        }
        if self.limit.is_some_and(|l| l == 0 || l > MAX_LIMIT) {
            return Err(QueryError::bad("limit", format!("must be between 1 and {MAX_LIMIT}")));
        }
        Ok(())
    }

    /// `WHERE …` scoped to the project, with every filter bound.
    fn where_clause(&self, project_id: u64) -> Sql {
        let mut sql = Sql::new(" WHERE project_id = ").bind(project_id);
        let text_filters =
            [("event", &self.event), ("distinct_id", &self.distinct_id), ("message_id", &self.message_id)];
        for (column, value) in text_filters {
            if let Some(value) = value {
                sql = sql.push(format!(" AND {column} = ")).bind(value.as_str());
            }
        }
        if let Some(from) = self.from_ms {
            sql = sql.push(" AND timestamp >= ").bind(Value::TimestampMs(from));
        }
        if let Some(to) = self.to_ms {
            sql = sql.push(" AND timestamp < ").bind(Value::TimestampMs(to));
        }
        if self.include_bots == Some(false) {
            sql = sql.push(" AND NOT is_bot");
        }
        sql
    }

    /// `count()` and `uniqExact(message_id)` over the filtered events.
    pub fn count_sql(&self, project_id: u64) -> Sql {
        Sql::new("SELECT count() AS count, uniqExact(message_id) AS unique_message_ids FROM events")
            .append(self.where_clause(project_id))
    }

    /// The newest matching events first.
    pub fn rows_sql(&self, project_id: u64) -> Sql {
        Sql::new(include_str!("../sql/events_list.sql").trim_end())
            .append(self.where_clause(project_id))
            .push(" ORDER BY timestamp DESC, message_id LIMIT ")
            .bind(self.limit.unwrap_or(100).min(MAX_LIMIT))
            .push(" OFFSET ")
            .bind(self.offset.unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use numu_warehouse::PlaceholderStyle;

    #[test]
    fn every_filter_is_bound_and_scoped() {
        let query = EventsQuery {
            event: Some("' OR 1=1 --".into()),
            distinct_id: Some("d".into()),
            from_ms: Some(1),
            to_ms: Some(2),
            ..EventsQuery::default()
        };
        let (text, values) = query.rows_sql(9).render(PlaceholderStyle::QuestionMark);
        assert!(text.contains("WHERE project_id = ?"));
        assert!(!text.contains("OR 1=1"));
        assert_eq!(values.len(), 7);
        assert_eq!(values[0], Value::UInt64(9));
    }

    #[test]
    fn bad_ranges_name_the_field() {
        let inverted = EventsQuery { from_ms: Some(5), to_ms: Some(5), ..EventsQuery::default() };
        assert!(
            matches!(inverted.validate(), Err(QueryError::BadRequest { field, .. }) if field == "from_ms")
        );
        let huge = EventsQuery { limit: Some(5000), ..EventsQuery::default() };
        assert!(matches!(huge.validate(), Err(QueryError::BadRequest { field, .. }) if field == "limit"));
    }
}
