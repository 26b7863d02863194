//! Folding the retention rows into the grid: every cohort period of the range (empty ones
//! too), counts per period offset (`null` for periods that have not begun), percentages of
//! the cohort size, and the breakdown's top values with the rest as "other".

use std::collections::{BTreeMap, HashMap};

use arrow_array::RecordBatch;
use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use super::{Counting, Period, RetentionPlan, RetentionType};
use crate::error::QueryError;
use crate::range::day_start;
use crate::table;

/// The answer to a retention question.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct RetentionAnswer {
    pub period: Period,
    pub timezone: String,
    pub retention_type: RetentionType,
    pub counting: Counting,
    /// Columns of each cohort row (period 0 included).
    pub periods: u32,
    pub from_ms: i64,
    pub to_ms: i64,
    /// One grid per breakdown value (one with `breakdown_value: ""` without a breakdown).
    pub results: Vec<RetentionLine>,
}

/// The grid of one breakdown value.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct RetentionLine {
    pub breakdown_value: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub breakdown_other: bool,
    pub cohorts: Vec<CohortRow>,
}

/// One cohort: its period, size, and persons returned per period offset.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct CohortRow {
    /// The first day of the cohort's period (`2024-05-06`; a Monday for weeks).
    pub cohort: String,
    pub size: u64,
    /// Persons returned in period k (`null` when period k has not begun).
    pub counts: Vec<Option<u64>>,
    /// `counts` as percentages of `size` (`null` for an empty cohort).
    pub percentages: Vec<Option<f64>>,
}

/// (size, bracket[k], unbounded[k]) per cohort label.
type Cells = HashMap<String, (u64, Vec<u64>, Vec<u64>)>;

impl RetentionPlan {
    pub fn fold(&self, results: Vec<Vec<RecordBatch>>) -> Result<RetentionAnswer, QueryError> {
        let rows = results.first().map(Vec::as_slice).unwrap_or(&[]);
        let labels = table::strings(rows, "cohort_label")?;
        let values = table::strings(rows, "bd_value")?;
        let ks = table::ints(rows, "k")?;
        let sizes = table::ints(rows, "size")?;
        let bracket = table::ints(rows, "bracket")?;
        let unbounded = table::ints(rows, "unbounded")?;
        let n = self.periods as usize;
        let mut by_value: BTreeMap<String, Cells> = BTreeMap::new();
        for i in 0..labels.len() {
            let k = ks[i] as usize;
            let cell = by_value
                .entry(values[i].clone())
                .or_default()
                .entry(labels[i].clone())
                .or_insert_with(|| (0, vec![0; n], vec![0; n]));
            if k < n {
                cell.0 = sizes[i] as u64;
                cell.1[k] = bracket[i] as u64;
                cell.2[k] = unbounded[i] as u64;
            }
        }
        let results = self.lines(by_value);
        Ok(RetentionAnswer {
            period: self.query.period,
            timezone: self.window.zone.name().to_string(),
            retention_type: self.query.retention_type,
            counting: self.query.counting,
            periods: self.periods,
            from_ms: self.window.from_ms,
            to_ms: self.window.to_ms,
            results,
        })
    }

    /// The top breakdown values by total cohort size (ties by value), the rest summed into
    /// "other": each person-cohort has exactly one value, so the sums are exact.
    fn lines(&self, by_value: BTreeMap<String, Cells>) -> Vec<RetentionLine> {
        let Some(limit) = self.breakdown_limit else {
            let cells = by_value.into_values().next().unwrap_or_default();
            return vec![self.line(String::new(), false, &cells)];
        };
        let total = |cells: &Cells| cells.values().map(|c| c.0).sum::<u64>();
        let mut ranked: Vec<(String, Cells)> = by_value.into_iter().collect();
        ranked.sort_by(|a, b| total(&b.1).cmp(&total(&a.1)).then(a.0.cmp(&b.0)));
        let rest = ranked.split_off(ranked.len().min(limit as usize));
        let mut lines: Vec<RetentionLine> =
            ranked.iter().map(|(v, c)| self.line(v.clone(), false, c)).collect();
        if !rest.is_empty() {
            let mut other: Cells = HashMap::new();
            for (_, cells) in rest {
                for (label, (size, b, u)) in cells {
                    let cell = other.entry(label).or_insert_with(|| (0, vec![0; b.len()], vec![0; u.len()]));
                    cell.0 += size;
                    cell.1.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                    cell.2.iter_mut().zip(&u).for_each(|(x, y)| *x += y);
                }
            }
            lines.push(self.line(String::new(), true, &other));
        }
        lines
    }

    fn line(&self, value: String, other: bool, cells: &Cells) -> RetentionLine {
        let cohorts = self
            .labels
            .iter()
            .map(|label| {
                let empty = (0, vec![0; self.periods as usize], vec![0; self.periods as usize]);
                let (size, bracket, unbounded) = cells.get(label).unwrap_or(&empty);
                let counts = if self.query.counting == Counting::Bracket { bracket } else { unbounded };
                let first = NaiveDate::parse_from_str(label, "%Y-%m-%d").unwrap_or_default();
                let counts: Vec<Option<u64>> = counts
                    .iter()
                    .enumerate()
                    .map(|(k, c)| {
                        let begins = day_start(self.query.period.advance(first, k as u32), self.window.zone);
                        (begins <= self.now_ms).then_some(*c)
                    })
                    .collect();
                let percentages = counts
                    .iter()
                    .map(|c| c.filter(|_| *size > 0).map(|c| c as f64 * 100.0 / *size as f64))
                    .collect();
                CohortRow { cohort: label.clone(), size: *size, counts, percentages }
            })
            .collect();
        RetentionLine { breakdown_value: value, breakdown_other: other, cohorts }
    }
}
