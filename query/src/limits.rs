//! What one query may cost, from configuration (`[query]` in the server's config). Sizes of
//! the question (range, series, breakdown rows, pages) are checked before anything runs; the
//! engine enforces time, memory and result rows through `SETTINGS` on every analysis query,
//! written from these numbers (never from request values).

use serde::{Deserialize, Serialize};

use crate::error::QueryError;

/// Per-query limits. A question beyond them is refused with a message naming the limit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Longest date range, in days (the previous period of a comparison not counted).
    pub max_range_days: u32,
    /// Most time buckets one series may have (e.g. 31 days by the hour = 744).
    pub max_buckets: u32,
    /// Most result rows one SQL statement may return (`max_result_rows`).
    pub max_result_rows: u64,
    /// Longest a statement may run, in seconds (`max_execution_time`).
    pub max_execution_seconds: u32,
    /// Most memory a statement may use, in bytes (`max_memory_usage`).
    pub max_memory_bytes: u64,
    /// Most series in one trends query.
    pub max_series: usize,
    /// Most filters in one query (global plus per series).
    pub max_filters: usize,
    /// Most values in one `in` / `not_in` list.
    pub max_list_values: usize,
    /// Most breakdown values shown before the rest is folded into "other".
    pub max_breakdown_values: u32,
    /// Most rows of one page (people, timelines, web analytics reports).
    pub max_page_size: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_range_days: 732,
            max_buckets: 2_000,
            max_result_rows: 100_000,
            max_execution_seconds: 30,
            max_memory_bytes: 4 << 30,
            max_series: 20,
            max_filters: 50,
            max_list_values: 200,
            max_breakdown_values: 100,
            max_page_size: 1_000,
        }
    }
}

impl Limits {
    /// The `SETTINGS` clause appended to every analysis statement: the limits, and
    /// `join_use_nulls = 0` because the SQL reads unmatched LEFT JOIN columns as defaults
    /// whatever a server's profile says.
    pub fn settings_clause(&self) -> String {
        format!(
            " SETTINGS max_execution_time = {}, max_memory_usage = {}, max_result_rows = {}, \
             result_overflow_mode = 'throw', timeout_overflow_mode = 'throw', join_use_nulls = 0",
            self.max_execution_seconds, self.max_memory_bytes, self.max_result_rows
        )
    }

    /// Checks a page size (`None` = `default`), naming `field` when it is out of bounds.
    pub fn page(&self, field: &str, requested: Option<u32>, default: u32) -> Result<u32, QueryError> {
        match requested {
            None => Ok(default.min(self.max_page_size)),
            Some(0) => Err(QueryError::bad(field, "must be at least 1")),
            Some(n) if n > self.max_page_size => Err(QueryError::bad(
                field,
                format!("must be at most {} (the configured limit)", self.max_page_size),
            )),
            Some(n) => Ok(n),
        }
    }

    /// Checks a count of things against its limit.
    pub fn at_most(field: &str, count: usize, limit: usize, what: &str) -> Result<(), QueryError> {
        if count > limit {
            return Err(QueryError::bad(
                field,
                format!("at most {limit} {what} per query (the configured limit)"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_fixed_numbers_from_configuration() {
        let limits = Limits {
            max_execution_seconds: 7,
            max_memory_bytes: 1000,
            max_result_rows: 5,
            ..Limits::default()
        };
        let clause = limits.settings_clause();
        assert!(clause.contains("max_execution_time = 7"));
        assert!(clause.contains("max_memory_usage = 1000"));
        assert!(clause.contains("max_result_rows = 5"));
    }

    #[test]
    fn pages_are_bounded() {
        let limits = Limits { max_page_size: 50, ..Limits::default() };
        assert_eq!(limits.page("limit", None, 100).unwrap(), 50);
        assert_eq!(limits.page("limit", Some(10), 100).unwrap(), 10);
        assert!(
            matches!(limits.page("limit", Some(51), 100), Err(QueryError::BadRequest { field, .. }) if field == "limit")
        );
        assert!(limits.page("limit", Some(0), 100).is_err());
    }
}
